"""What each clause kind contributes to an explanation. A new clause kind (or a feature that
changes how a kind is computed) adds or extends an explainer here; the period, the terms and
the arithmetic down to the credit are shared (``monitor.explain.common``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from monitor.contract import Clause, Contract
from monitor.events import Event
from monitor.explain.common import ClauseContext
from monitor.explain.model import Section, Step


@dataclass(frozen=True)
class Derived:
    """A kind's part of an explanation: its sections, in order, and the attained figure they
    lead to, with the formula that gives it."""

    sections: list[Section]
    attained: Fraction
    formula: Step


class ClauseExplainer(Protocol):
    def relevant(self, contract: Contract, clause: Clause, event: Event) -> bool:
        """Whether a counted event can bear on this clause (kept while replaying)."""
        ...

    def terms(self, ctx: ClauseContext) -> list[Step]:
        """The clause's own terms in force, after the target."""
        ...

    def from_events(self, ctx: ClauseContext, events: Sequence[Event]) -> Derived:
        """The derivation from the counted events, naming their ids."""
        ...

    def from_details(self, ctx: ClauseContext, details: dict[str, Any]) -> Derived:
        """The derivation from the ledger's detail record of the period."""
        ...


def explainers() -> dict[str, ClauseExplainer]:
    """The explainer of each clause kind, by ``kind``."""
    from monitor.explain.availability import AvailabilityExplainer
    from monitor.explain.response import ResponseExplainer
    from monitor.explain.uptime import UptimeExplainer

    return {
        "uptime": UptimeExplainer(),
        "response_time": ResponseExplainer(),
        "availability": AvailabilityExplainer(),
    }
