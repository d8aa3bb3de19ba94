"""The storage engine: metadata in SQL (SQLite or PostgreSQL) and blobs in a folder."""

from desktop_app.store.store import Store

__all__ = ["Store"]
