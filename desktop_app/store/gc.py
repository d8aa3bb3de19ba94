"""Garbage collection: blobs no version holds, stale partial uploads, and pack files.

A pack file is removed when nothing records it any more (at once when its last blob died
in this run, after ``stale_upload_seconds`` when a crash left it unrecorded). A pack whose
live blobs fill less than half of it is rewritten with only those, then removed.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, delete, func, select, update

from desktop_app.core.records import GcReport, VersionState
from desktop_app.store import schema as s
from desktop_app.store.base import StoreBase, batches, now
from desktop_app.store.blobs import Extent
from desktop_app.store.db import read_tx, write_tx

STALE_UPLOAD_SECONDS = 7 * 24 * 3600
COMPACT_BELOW = 0.5  # rewrite a pack once its live blobs fill less than this share of it


class GcMixin(StoreBase):
    """Freeing the space of what no version holds any more."""

    def gc(self, *, stale_upload_seconds: float = STALE_UPLOAD_SECONDS) -> GcReport:
        """Remove blobs that no committed or pending version holds, and stale partials."""
        live = (
            select(s.entries.c.blob)
            .join(s.versions, s.versions.c.id == s.entries.c.version_id)
            .where(
                s.entries.c.blob.is_not(None),
                s.versions.c.state != VersionState.DELETED.value,
            )
        )
        touched: set[str] = set()
        with write_tx(self.engine) as conn:
            dead = list(
                conn.execute(
                    select(s.blobs.c.digest).where(s.blobs.c.digest.not_in(live))
                ).scalars()
            )
            for batch in batches(dead):
                packed = s.packed_blobs.c.digest.in_(batch)
                touched.update(conn.execute(select(s.packed_blobs.c.pack).where(packed)).scalars())
                conn.execute(delete(s.packed_blobs).where(packed))
                conn.execute(delete(s.blob_checksums).where(s.blob_checksums.c.digest.in_(batch)))
                conn.execute(delete(s.project_blobs).where(s.project_blobs.c.digest.in_(batch)))
                conn.execute(delete(s.blobs).where(s.blobs.c.digest.in_(batch)))
        freed = sum(self.blobs.delete(d) for d in dead)
        cutoff = now() - stale_upload_seconds
        freed += self._collect_packs(touched, cutoff)
        for path, mtime in self.blobs.partial_uploads():
            if mtime < cutoff:
                freed += self.blobs.remove_partial(path)
        return GcReport(blobs_removed=len(dead), bytes_freed=freed)

    def _collect_packs(self, touched: Collection[str], cutoff: float) -> int:
        """Remove packs nothing records and rewrite mostly dead ones; return bytes freed."""
        files = self.blobs.pack_files()
        with read_tx(self.engine) as conn:
            rows = conn.execute(
                select(s.packed_blobs.c.pack, func.sum(s.blobs.c.size))
                .join(s.blobs, s.blobs.c.digest == s.packed_blobs.c.digest)
                .group_by(s.packed_blobs.c.pack)
            )
            live: dict[str, int] = {pack: int(size) for pack, size in rows}
        freed = 0
        for pack, (size, mtime) in sorted(files.items()):
            live_bytes = live.get(pack)
            if live_bytes is None:
                # A pack written moments ago is not recorded yet: only old ones, or ones
                # whose last blob this run removed, are garbage.
                if pack in touched or mtime < cutoff:
                    freed += self.blobs.delete_pack(pack)
            elif live_bytes < size * COMPACT_BELOW:
                freed += self._rewrite_pack(pack)
        return freed

    def _rewrite_pack(self, pack: str) -> int:
        """Copy a pack's live blobs into a new pack, point their rows at it, drop the old."""
        path = self.blobs.pack_path(pack)
        with read_tx(self.engine) as conn:
            rows = conn.execute(
                select(s.packed_blobs.c.digest, s.packed_blobs.c.pack_offset, s.blobs.c.size)
                .join(s.blobs, s.blobs.c.digest == s.packed_blobs.c.digest)
                .where(s.packed_blobs.c.pack == pack)
            ).all()
        if not rows:
            return 0
        data = self.blobs.read_extents([Extent(path, r.pack_offset, r.size, True) for r in rows])
        new_pack, offsets = self.blobs.write_pack(
            [(r.digest, blob) for r, blob in zip(rows, data, strict=True)]
        )
        with write_tx(self.engine) as conn:
            # Only rows still in the old pack: a blob sent again meanwhile keeps its new place.
            conn.execute(
                update(s.packed_blobs)
                .where(
                    s.packed_blobs.c.digest == bindparam("d"),
                    s.packed_blobs.c.pack == pack,
                )
                .values(pack=new_pack, pack_offset=bindparam("o")),
                [{"d": digest, "o": offset} for digest, offset in offsets.items()],
            )
        return self.blobs.delete_pack(pack) - self.blobs.pack_path(new_pack).stat().st_size
