"""Fresh ledger databases for tests: a SQLite file, or a new database on the test PostgreSQL.

The PostgreSQL server is the one `./dev test` starts (Debian's cluster on 127.0.0.1:5432,
role `slamon`, database `test`); `SLAMON_TEST_POSTGRES` points elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES_SERVER = (
    os.environ.get("SLAMON_TEST_POSTGRES", "postgresql+psycopg2://slamon:slamon@127.0.0.1:5432/").rstrip("/")
    + "/"
)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """Create a uniquely named PostgreSQL database, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_SERVER + "test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def ledger_database(kind: str, directory: Path, prefix: str = "slamon_test") -> Iterator[str]:
    """A fresh, empty ledger database of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'ledger.db'}"
        return
    with postgres_database(prefix) as url:
        yield url
