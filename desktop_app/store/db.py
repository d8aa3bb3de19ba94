"""Engines for the metadata database, set up the same way for every caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from desktop_app.core.errors import ValidationError
from desktop_app.store import schema

SQLITE_BUSY_TIMEOUT_S = 60


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            pool_size=8,
            max_overflow=16,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")
    raise ValidationError(
        f"database URL {url!r} is not supported; use sqlite:///PATH or postgresql+psycopg://..."
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and ``BEGIN IMMEDIATE`` for writes so writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: a commit is atomic but not fsynced; transactions that must
        # survive a power cut ask for ``durable`` and fsync the log (and all before them).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        durable = options.get("durable", False)
        conn.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write", False) else "BEGIN")


@contextmanager
def write_tx(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """A transaction that will write; on SQLite it takes the write lock at once.

    ``durable=False`` skips SQLite's fsync for bookkeeping that may be lost in a power cut
    (it is redone on retry); the next durable transaction makes it durable too.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(write=True, durable=durable)
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def create_schema(engine: Engine) -> None:
    """Create missing tables and the singleton rows; safe to call from many processes."""
    with write_tx(engine) as conn:
        schema.metadata_obj.create_all(conn, checkfirst=True)
    for table, row in (
        (schema.schema_info, {"id": 1, "version": schema.SCHEMA_VERSION}),
        (schema.feed_head, {"id": 1, "seq": 0}),
    ):
        try:
            with write_tx(engine) as conn:
                if conn.execute(select(table).where(table.c.id == 1)).first() is None:
                    conn.execute(insert(table).values(**row))
        except SqlIntegrityError:
            pass  # another process created it first
