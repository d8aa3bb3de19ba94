"""The storage engine: transactional rules over a metadata database and a blob store."""

from __future__ import annotations

from desktop_app.store.changes import ChangesMixin
from desktop_app.store.gc import STALE_UPLOAD_SECONDS, GcMixin
from desktop_app.store.lineage import LineageMixin
from desktop_app.store.reading import ReadingMixin
from desktop_app.store.writing import WritingMixin


class Store(ReadingMixin, WritingMixin, GcMixin, ChangesMixin, LineageMixin):
    """Projects, runs, artifacts, versions, aliases, lineage, blobs and the change feed.

    Each part lives in its own module; they share the state and queries of ``StoreBase``.
    """


__all__ = ["STALE_UPLOAD_SECONDS", "Store"]
