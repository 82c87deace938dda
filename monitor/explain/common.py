"""The parts of an explanation every clause kind shares: the period, the contract's terms,
and the arithmetic from the attained figure down to the credit owed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.contract import Clause, Contract
from monitor.explain.model import ExplainError, Section, Step
from monitor.timeutil import from_us
from monitor.wording import money_words, percent_words, remedy_words


@dataclass(frozen=True)
class ClauseContext:
    """One clause and period being explained under the terms in force then, and the clock
    the figures are taken at."""

    contract: Contract
    clause: Clause
    period: str
    start: int  # µs, the period's bounds (clipped to the effective dates)
    end: int
    clock: int  # µs: the figures cover [start, min(end, clock))
    final: bool
    written: Contract  # the contract as written, with its amendments (``contract`` is the terms in force)
    terms: str = "the base terms"  # which terms are in force in the period, in words

    @property
    def until(self) -> int:
        return min(self.end, self.clock)

    def local(self, instant: int) -> str:
        """``2026-10-14 10:00:00 +02:00`` in the contract's zone."""
        return from_us(instant).astimezone(self.contract.zone).isoformat(sep=" ", timespec="seconds")

    def utc(self, instant: int) -> str:
        return from_us(instant).isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z")

    def both(self, instant: int) -> str:
        return f"{self.local(instant)} ({self.utc(instant)})"


def minutes(span_us: int) -> str:
    """µs as minutes, exact to the microsecond: ``150``, ``0.5``, ``12.000001``."""
    value = Decimal(span_us) / Decimal(60_000_000)
    return format(value.normalize(), "f")


def percent(value: Fraction) -> str:
    """An exact percent as the 3-decimal figure the statements print, and exactly when it differs."""
    shown = f"{float(value):.3f}%"
    if value.denominator == 1:
        return shown
    return f"{shown} (exactly {value.numerator}/{value.denominator})"


def period_section(ctx: ClauseContext) -> Section:
    steps = [
        Step(f"Period {ctx.period} in {ctx.contract.timezone}: from {ctx.both(ctx.start)}"),
        Step(f"until {ctx.both(ctx.end)} (exclusive): {minutes(ctx.end - ctx.start)} minutes."),
    ]
    if ctx.clock < ctx.end:
        steps.append(Step(f"The period is still open: figures cover the time before {ctx.both(ctx.clock)}."))
    status = "final" if ctx.final else "provisional: figures may still change"
    steps.append(Step(f"Status at the clock {ctx.both(ctx.clock)}: {status}."))
    return Section("Period", steps)


def terms_section(ctx: ClauseContext, kind_terms: list[Step]) -> Section:
    contract, clause = ctx.contract, ctx.clause
    steps = [
        Step(f"Contract {contract.id}: {contract.customer} (customer) and {contract.provider} (provider)."),
        Step(f"In force in {ctx.period}: {ctx.terms}."),
        Step(f"Monthly fee {money_words(contract.monthly_fee, contract.currency)}."),
        Step(
            "Credit cap: "
            + (
                percent_words(contract.credit_cap_percent)
                if contract.credit_cap_percent is not None
                else "none"
            )
            + "."
        ),
        *_credit_rules_steps(contract),
        Step(
            f"Clause {clause.id} ({clause.kind.replace('_', ' ')}): "
            f"target {percent_words(clause.target_percent)}."
        ),
        *kind_terms,
    ]
    for tier in sorted(clause.credits, key=lambda t: t.below_percent, reverse=True):
        steps.append(
            Step(
                f"Tier: below {percent_words(tier.below_percent)}, "
                f"credit {percent_words(tier.credit_percent)}."
            )
        )
    rule = clause.consecutive
    if rule is not None:
        steps.append(
            Step(
                f"Consecutive rule: missed {rule.periods} or more months in a row adds "
                f"{percent_words(rule.credit_percent)}; remedy: {remedy_words(rule.remedy)}."
            )
        )
    return Section("Terms in force", steps)


def _credit_rules_steps(contract: Contract) -> list[Step]:
    """The credit rules of SPEC.md section 12 in force, if any (the month's money applies them)."""
    rules = contract.credit_rules
    if rules is None or (rules.min_credit_amount is None and rules.annual_cap_percent is None):
        return []
    parts = []
    if rules.min_credit_amount is not None:
        parts.append(f"minimum credit {money_words(rules.min_credit_amount, contract.currency)}")
    if rules.annual_cap_percent is not None:
        parts.append(
            f"annual cap {percent_words(rules.annual_cap_percent)} of 12 monthly fees per contract year"
        )
    return [Step(f"Credit rules: {'; '.join(parts)}.")]


def arithmetic_section(
    ctx: ClauseContext,
    attained: Fraction,
    formula: Step,
    history: Sequence[dict[str, Any]],
) -> Section:
    """From the attained fraction to the clause's credit percent; checked against the records
    of the engine or the ledger (``history``: this clause's records up to this period). The
    contract's money follows in ``monitor.explain.credit``."""
    clause = ctx.clause
    target = Fraction(clause.target_percent)
    met = attained >= target
    steps = [
        formula,
        Step(
            f"Attained {percent(attained)} against the target {percent_words(clause.target_percent)}: "
            + ("met." if met else "missed.")
        ),
    ]
    tiers = [t for t in clause.credits if attained < Fraction(t.below_percent)]
    tier_credit = max((t.credit_percent for t in tiers), default=Decimal(0))
    if clause.credits:
        below = ", ".join(percent_words(t.below_percent) for t in tiers) or "none"
        steps.append(Step(f"Tiers whose bound is missed: {below}; tier credit {percent_words(tier_credit)}."))
    earlier = [r for r in history if r["period"] < ctx.period]
    count = 0 if met else 1 + _previous_count(earlier)
    if earlier:
        last = earlier[-1]
        steps.append(
            Step(
                f"Previous period {last['period']}: {'met' if last['met'] else 'missed'}, "
                f"consecutive breaches {last['consecutive_breaches']}."
            )
        )
    steps.append(Step(f"Consecutive breaches in {ctx.period}: {count}."))
    credit = tier_credit
    rule = clause.consecutive
    if rule is not None and count >= rule.periods:
        credit += rule.credit_percent
        steps.append(
            Step(
                f"{count} >= {rule.periods}: the consecutive rule adds {percent_words(rule.credit_percent)}"
                + (f"; remedy open: {remedy_words(rule.remedy)}." if rule.remedy != "none" else ".")
            )
        )
    chronic = getattr(clause, "chronic", None)
    record = next((r for r in history if r["period"] == ctx.period), None)
    if chronic is not None and record is not None and record.get("chronic"):
        missed = [r["period"] for r in history if not r["met"]][-chronic.missed :]
        credit += chronic.credit_percent
        steps.append(
            Step(
                f"Chronic: missed in {chronic.missed} of the last {chronic.of_last} months "
                f"({', '.join(missed)}): adds {percent_words(chronic.credit_percent)}"
                + (f"; remedy open: {remedy_words(chronic.remedy)}." if chronic.remedy != "none" else ".")
            )
        )
    steps.append(Step(f"Clause credit: {percent_words(credit)} of the monthly fee."))
    _check(ctx, met, count, credit, history)
    return Section("Arithmetic", steps)


def _previous_count(earlier: Sequence[dict[str, Any]]) -> int:
    return int(earlier[-1]["consecutive_breaches"]) if earlier else 0


def _check(
    ctx: ClauseContext, met: bool, count: int, credit: Decimal, history: Sequence[dict[str, Any]]
) -> None:
    record = next((r for r in history if r["period"] == ctx.period), None)
    if record is None:
        raise ExplainError(f"no result for {ctx.clause.id} of {ctx.contract.id} in {ctx.period}")
    recorded = (record["met"], record["consecutive_breaches"], Decimal(repr(record["credit_percent"])))
    if recorded != (met, count, credit):
        raise ExplainError(
            f"the derivation ({met}, {count}, {credit}) disagrees with the recorded result {recorded}"
        )
