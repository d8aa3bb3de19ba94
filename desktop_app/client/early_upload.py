"""Sending small files while the rest of a put is still being hashed.

A put of many small files used to hash them all, then create the draft, then send the
blobs the draft reported missing. The sending is mostly the server's work, so it can run
while this machine hashes: every batch of small files hashed is asked about
(``missing_blobs``) and what the project lacks is sent at once. Into a project that did
not exist when the put began, every batch goes without asking: it holds nothing. The
draft that follows then finds every blob there and commits in the same call.

Sending early is only a head start. When a batch fails, early sending stops quietly: the
draft reports those blobs missing and the upload sends them as before, or fails with the
backend's own error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from desktop_app.backends.protocol import Backend
from desktop_app.client.progress import CancelCheck
from desktop_app.core.drafts import check_draft_fields
from desktop_app.core.errors import ArtifactDeskError, NotFoundError
from desktop_app.core.paths import check_path_set
from desktop_app.core.refs import ArtifactRef

log = logging.getLogger(__name__)

BATCH_FILES = 1000  # small blobs per batch, early or after the draft
BATCH_BYTES = 16 << 20
PENDING_BYTES = 64 << 20  # hashing waits while this much is waiting to be sent


@dataclass(frozen=True)
class EarlyUpload:
    """What was sent before the draft: its blobs' count and bytes."""

    files: int = 0
    bytes: int = 0


NOTHING_EARLY = EarlyUpload()


class EarlySender:
    """Sends hashed small files to ``project`` in batches, from a pool of ``workers``.

    :meth:`add` is called from the hashing threads; :meth:`flush` sends the last batch
    when hashing is done, and :meth:`finish` waits for what is in flight (a put sends
    its draft in between). As a context manager, leaving by an exception stops it and
    waits for the batches already being sent (queued ones are dropped).
    """

    def __init__(
        self,
        backend: Backend,
        project: str,
        *,
        workers: int,
        is_cancelled: CancelCheck | None = None,
        batch_files: int = BATCH_FILES,
        batch_bytes: int = BATCH_BYTES,
        pending_bytes: int = PENDING_BYTES,
        new_project: bool = False,
        new_artifact: bool = False,
    ) -> None:
        self._backend = backend
        # The artifact did not exist when the put began: no latest version to compare with.
        self.new_artifact = new_artifact or new_project
        self._ask_first = not new_project  # a project that did not exist holds nothing
        self._project = project
        self._is_cancelled = is_cancelled
        self._batch_files = batch_files
        self._batch_bytes = batch_bytes
        self._pending_limit = pending_bytes
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="early-upload")
        self._changed = threading.Condition()
        self._batch: list[tuple[str, bytes]] = []
        self._batch_size = 0
        self._pending = 0  # bytes added and not yet sent or dropped
        self._seen: set[str] = set()
        self._held: set[str] = set()
        self._futures: list[Future[None]] = []
        self._stopped = False
        self._files = 0
        self._bytes = 0

    def __enter__(self) -> EarlySender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            self._stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, digest: str, data: bytes) -> None:
        """Queue one small blob; waits while too many bytes are waiting to be sent."""
        with self._changed:
            if self._stopped or digest in self._seen:
                return
            self._seen.add(digest)
            while self._pending >= self._pending_limit and not self._stopped:
                self._changed.wait(0.1)
                if self._cancelled():
                    self._stopped = True
            if self._stopped:
                return
            self._batch.append((digest, data))
            self._batch_size += len(data)
            self._pending += len(data)
            if len(self._batch) >= self._batch_files or self._batch_size >= self._batch_bytes:
                self._submit()

    @property
    def held(self) -> frozenset[str]:
        """The digests the backend has told it holds, or has taken from it."""
        with self._changed:
            return frozenset(self._held)

    def flush(self) -> None:
        """Send the last, partly filled batch now, without waiting for it."""
        with self._changed:
            if self._batch and not self._stopped:
                self._submit()

    def finish(self) -> EarlyUpload:
        """Send what is left and wait for every batch: what was sent in all."""
        self.flush()
        with self._changed:
            futures = list(self._futures)
        for future in futures:
            future.result()  # _send never raises: a failure only stops early sending
        with self._changed:
            return EarlyUpload(self._files, self._bytes)

    def _submit(self) -> None:
        batch, self._batch, self._batch_size = self._batch, [], 0
        self._futures.append(self._pool.submit(self._send, batch))

    def _send(self, batch: list[tuple[str, bytes]]) -> None:
        size = sum(len(data) for _digest, data in batch)
        try:
            if self._stopped or self._cancelled():
                return
            digests = [digest for digest, _data in batch]
            asked = (
                self._backend.missing_blobs(self._project, digests) if self._ask_first else digests
            )
            lacking = set(asked)
            with self._changed:
                self._held.update(digest for digest, _data in batch if digest not in lacking)
            blobs = [(digest, data) for digest, data in batch if digest in lacking]
            if blobs and not (self._stopped or self._cancelled()):
                self._backend.upload_blobs(self._project, blobs)
                with self._changed:
                    self._held.update(lacking)
                    self._files += len(blobs)
                    self._bytes += sum(len(data) for _digest, data in blobs)
        except ArtifactDeskError as exc:  # the draft reports these blobs missing
            log.info("sending blobs early stopped (they go after the draft): %s", exc)
            self._stop()
        except Exception:  # a fault of ours: the upload still works, but say so
            log.warning("sending blobs early failed (they go after the draft)", exc_info=True)
            self._stop()
        finally:
            with self._changed:
                self._pending -= size
                self._changed.notify_all()

    def _stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._batch, self._batch_size = [], 0
            self._changed.notify_all()

    def _cancelled(self) -> bool:
        if self._is_cancelled is not None and self._is_cancelled():
            self._stopped = True
        return self._stopped


def early_sender_for(
    backend: Backend,
    project: str,
    name: str,
    type_: str,
    entry_paths: Iterable[str],
    *,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
    run_id: str | None = None,
    workers: int,
    is_cancelled: CancelCheck | None = None,
) -> EarlySender | None:
    """An :class:`EarlySender` for a put of ``project/name``, or None when no byte should go
    before the draft: the artifact exists with another type (the draft refuses the put),
    or the backend cannot be asked (the draft says why).

    What the draft would refuse for its own sake (names, annotations, a path set with
    case twins, a run that does not exist) raises here, before anything is read or sent:
    sending early creates the project, and a put that fails must leave nothing behind.
    """
    fields = check_draft_fields(
        project, name, type_, description=description, metadata=metadata, aliases=aliases, tags=tags
    )
    check_path_set(entry_paths)
    if run_id is not None:
        backend.get_run(run_id)
    try:
        latest = backend.resolve(ArtifactRef(fields.project, fields.name))
    except NotFoundError:
        latest = None
    except ArtifactDeskError:
        return None
    if latest is not None and latest.type != fields.type:
        return None
    new_project = False
    if latest is None:
        try:
            backend.list_artifact_types(fields.project)
        except NotFoundError:  # nothing to ask about: every blob is missing there
            new_project = True
        except ArtifactDeskError:
            return None
    return EarlySender(
        backend,
        fields.project,
        workers=workers,
        is_cancelled=is_cancelled,
        batch_files=BATCH_FILES,
        batch_bytes=BATCH_BYTES,
        new_project=new_project,
        new_artifact=latest is None,
    )
