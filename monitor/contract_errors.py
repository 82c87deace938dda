"""Errors a contract model raises about one of its fields (shared by the contract's modules)."""

from __future__ import annotations


class FieldProblem(ValueError):
    """A check across fields whose problem belongs to one field: ``location`` is its path
    relative to the model that raised it (the loader appends it to the error's location)."""

    def __init__(self, location: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.location = location
