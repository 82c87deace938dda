"""Running INSERT and UPDATE statements in a session and counting what they did."""

from __future__ import annotations

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def rows_changed(session: Session, statement: Executable) -> int:
    """Execute an INSERT or UPDATE; the number of rows it inserted or changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # what SQLAlchemy returns for DML
    return result.rowcount
