"""An explanation: how one clause's figure for one period was reached, as ordered sections of
steps, each step resting on the events (ids) it names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    text: str
    events: tuple[str, ...] = ()  # ids of the events this step rests on


@dataclass(frozen=True)
class Section:
    heading: str
    steps: list[Step] = field(default_factory=list)
    empty: str | None = None  # what to say when there are no steps


@dataclass(frozen=True)
class Explanation:
    contract: str
    clause: str
    period: str
    source: str  # where the figures come from: a replay of an events file, or the ledger
    sections: list[Section]

    def to_document(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "clause": self.clause,
            "period": self.period,
            "source": self.source,
            "sections": [
                {
                    "heading": s.heading,
                    "steps": [{"text": step.text, "events": list(step.events)} for step in s.steps],
                }
                for s in self.sections
            ],
        }


class ExplainError(ValueError):
    """The figure cannot be explained: unknown clause or period, or no data for it."""
