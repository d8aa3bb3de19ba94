"""Engines for the metadata database, set up the same way for every caller."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def insert_many(conn: Connection, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT for many rows (all with the same keys) straight through the driver.

    SQLAlchemy compiles the statement once, as usual; what is skipped is its processing of
    each row's parameters, which for thousands of rows took longer than SQLite's own work.
    Only for plain values (str, int, float, None) that need no conversion.
    """
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if compiled.positional:
        order = list(compiled.positiontup or [])
        pick = itemgetter(*order)
        params: list[Any] = (
            [pick(row) for row in rows] if len(order) > 1 else [(row[order[0]],) for row in rows]
        )
    else:
        params = [dict(row) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def insert_new(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key is already there, also when another writer
    has just added it (``ON CONFLICT DO NOTHING`` on both engines)."""
    insert_many(conn, _insert_for(conn)(table).on_conflict_do_nothing(), rows)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str) -> None:
    """Insert ``rows``; where ``key`` is already there, the row's other columns win."""
    statement = _insert_for(conn)(table)
    others = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key}
    insert_many(conn, statement.on_conflict_do_update(index_elements=[key], set_=others), rows)


def _insert_for(conn: Connection) -> Any:
    return postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert


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
    _upgrade_version(engine)


def _upgrade_version(engine: Engine) -> None:
    """Refuse a database from a newer release; mark an older one as upgraded.

    Every upgrade so far only adds tables, which ``create_all`` above has just done.
    """
    with write_tx(engine) as conn:
        info = schema.schema_info
        found = conn.execute(select(info.c.version).where(info.c.id == 1)).scalar_one()
        if found > schema.SCHEMA_VERSION:
            raise ValidationError(
                f"the metadata database {engine.url.render_as_string(hide_password=True)} was "
                f"written by a newer Artifact Desk (schema {found}, this release reads up to "
                f"{schema.SCHEMA_VERSION}); upgrade Artifact Desk to use it"
            )
        if found < schema.SCHEMA_VERSION:
            conn.execute(update(info).where(info.c.id == 1).values(version=schema.SCHEMA_VERSION))
