"""What an upload will do, told before the user confirms it: files, sizes, bytes new.

The worker computes the plan (hashing) and this summary; the new-version dialog shows it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop_app.client.mirror import Mirror
from desktop_app.client.units import format_size

if TYPE_CHECKING:
    from desktop_app.client.transfer_jobs import UploadPlan


@dataclass(frozen=True)
class UploadSummary:
    """The size of a planned version and how much of it the backend already holds.

    ``new_bytes`` counts each new content once (the upload sends it once);
    ``stored_bytes`` is the rest of ``total_bytes``: contents already stored, repeats of
    a content within the version, and references, none of which are sent.
    """

    file_count: int
    total_bytes: int
    new_bytes: int
    stored_bytes: int
    identical_to: str | None = None  # "v3" when a committed version has the same digest

    @property
    def nothing_to_upload(self) -> bool:
        return self.identical_to is not None or self.new_bytes == 0

    def describe(self) -> str:
        """One line for a dialog, e.g. ``12 files, 3.4 MiB: 1.2 MiB new, 2.2 MiB already
        stored`` or ``identical to v3: nothing to upload``."""
        if self.identical_to is not None:
            return f"identical to {self.identical_to}: nothing to upload"
        files = "1 file" if self.file_count == 1 else f"{self.file_count:,} files"
        head = f"{files}, {format_size(self.total_bytes)}"
        if self.new_bytes == 0:
            return f"{head}: all already stored, nothing to upload"
        if self.stored_bytes == 0:
            return f"{head}: all new"
        return (
            f"{head}: {format_size(self.new_bytes)} new, "
            f"{format_size(self.stored_bytes)} already stored"
        )


def summarize_upload(
    plan: UploadPlan,
    mirror: Mirror,
    project: str,
    name: str,
    *,
    local_digests: Collection[str] = (),
) -> UploadSummary:
    """Compare ``plan`` with what the mirror knows of ``project`` and ``name``.

    A content counts as stored when a mirrored manifest of the project lists it, or when it
    is in ``local_digests`` (contents the caller knows the backend holds, such as the
    base version's files or the embedded store's blobs). Contents the mirror has not seen
    count as new, so the estimate errs towards more bytes, never fewer.
    """
    identical_to = next(
        (
            row.info.version
            for row in mirror.versions(project, name)
            if row.info.digest == plan.digest
        ),
        None,
    )
    sizes: dict[str, int] = {}
    for entry in plan.manifest:
        if entry.ref is None:
            sizes[entry.digest] = entry.size or 0
    unknown = set(sizes) - set(local_digests)
    known = mirror.known_digests(project, unknown) if unknown else set()
    new_bytes = sum(sizes[digest] for digest in unknown - known)
    return UploadSummary(
        file_count=plan.file_count,
        total_bytes=plan.total_bytes,
        new_bytes=new_bytes,
        stored_bytes=plan.total_bytes - new_bytes,
        identical_to=identical_to,
    )
