"""PostgreSQL for tests in any folder: the database CI names, and a fresh schema per use.

``.ci/run`` starts PostgreSQL, makes a fresh database and names it in
``ARTIFACT_DESK_TEST_POSTGRES_URL``; without it (a laptop with no PostgreSQL) the
PostgreSQL variants are skipped with that reason.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get("ARTIFACT_DESK_TEST_POSTGRES_URL", "")
NO_POSTGRES = "set ARTIFACT_DESK_TEST_POSTGRES_URL to a PostgreSQL database to run this"


@contextlib.contextmanager
def postgres_schema(prefix: str = "test") -> Iterator[str]:
    """A database URL whose tables land in a fresh schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
