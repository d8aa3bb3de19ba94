"""The embedded backend: the store, in-process, in a folder on this machine."""

from __future__ import annotations

from pathlib import Path

from desktop_app.store import Store


class LocalBackend(Store):
    """The default backend: no server; metadata in SQLite and blobs under ``root``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        super().__init__(f"sqlite:///{root / 'metadata.sqlite3'}", root / "blobs")
        self.root = root

    @property
    def store(self) -> Store:
        """The store behind this backend (for administration such as garbage collection)."""
        return self

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r})"
