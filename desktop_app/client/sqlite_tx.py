"""SQLite helpers shared by the client's databases: WAL mode and write transactions."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (take the write lock now, not at the first write), then
    ``COMMIT``, or ``ROLLBACK`` if the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def enable_wal(conn: sqlite3.Connection, *, timeout_s: float = 30.0) -> None:
    """Switch to write-ahead logging, waiting while another connection creates the file.

    Two connections opening a new database at once (the GUI's two threads, or the GUI and
    the CLI) race to switch its journal mode, and SQLite answers "database is locked" at
    once instead of waiting out its busy timeout; so wait here.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
