"""Contract clauses and periods in plain words, for the people who read notices and statements."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from iso4217 import Currency

from monitor.contract import AvailabilityClause, Clause, Contract, ResponseTimeClause, UptimeClause

REMEDY_WORDS = {
    "contract_review": "the Client may initiate a contract review",
    "termination_right": "the Client may terminate the contract",
    "none": "no further remedy",
}
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"


def percent_words(value: Decimal | float) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return f"{text}%"


def money_words(amount: Decimal | str, currency: str) -> str:
    """An amount as people read it: thousands separated, as many decimals as the currency's
    minor unit (``12,000.00 EUR``, ``8,500.00 USD``, ``1,234,567 JPY``), more only if the
    amount has them (a fee is never shown rounded)."""
    value = Decimal(amount)
    places = Currency[currency].exponent or 0
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        places = -exponent
    return f"{value:,.{places}f} {currency}"


def period_label(period: str) -> str:
    """``2026-10`` as ``October 2026``."""
    return date(int(period[:4]), int(period[5:7]), 1).strftime("%B %Y")


def clause_words(contract: Contract, clause: Clause) -> str:
    """The clause's promise and its consequences, as a sentence a legal team would write."""
    if clause.description:
        promise = clause.description.rstrip(".") + "."
    elif isinstance(clause, UptimeClause):
        promise = _uptime_words(contract, clause)
    elif isinstance(clause, AvailabilityClause):
        promise = _availability_words(contract, clause)
    else:
        promise = _response_words(contract, clause)
    return " ".join([promise, *_credit_words(clause)])


def _uptime_words(contract: Contract, clause: UptimeClause) -> str:
    text = (
        f"The Provider shall maintain an uptime of at least {percent_words(clause.target_percent)} "
        f"for the service {clause.service!r} in each calendar month ({contract.timezone})"
    )
    if clause.exclude_maintenance:
        text += ", excluding scheduled maintenance"
    if clause.min_outage > timedelta(0):
        text += f"; outages shorter than {duration_words(clause.min_outage)} are not counted"
    return text + "."


def _availability_words(contract: Contract, clause: AvailabilityClause) -> str:
    interval = f"{int(clause.interval.total_seconds()) // 60}-minute"
    at_least = f"at least {percent_words(clause.target_percent)}"
    service = f"the service {clause.service!r}"
    enough = f" of at least {clause.min_requests} requests" if clause.min_requests > 1 else ""
    if clause.method == "downtime_intervals":
        above = percent_words(clause.error_rate_above_percent or 0)
        text = (
            f"The Provider shall keep {at_least} of the {interval} intervals of each calendar month "
            f"({contract.timezone}) free of downtime for {service}, an interval{enough} being down "
            f"when more than {above} of its requests fail"
        )
    elif clause.method == "mean_error_rate":
        target = percent_words(clause.target_percent)
        text = (
            f"The Provider shall keep the availability of {service}, 100% less the average error rate "
            f"of its {interval} intervals{enough}, at {target} or more in each calendar month "
            f"({contract.timezone})"
        )
    else:
        text = (
            f"The Provider shall serve {at_least} of the requests to {service} successfully "
            f"in each calendar month ({contract.timezone})"
        )
    if clause.exclude_maintenance:
        text += ", excluding scheduled maintenance"
    if clause.method == "downtime_intervals" and clause.min_downtime > timedelta(0):
        text += f"; downtime shorter than {duration_words(clause.min_downtime)} in a row is not counted"
    return text + "."


def _response_words(contract: Contract, clause: ResponseTimeClause) -> str:
    verb = "respond to" if clause.measure == "responded" else "resolve"
    tickets = "support tickets"
    if clause.priorities:
        tickets = f"{' and '.join(', '.join(clause.priorities).rsplit(', ', 1))} support tickets"
    within = duration_words(clause.within)
    if clause.calendar is not None:
        within += f" of the support hours of the calendar {clause.calendar!r} (closed days excluded)"
    paused = ", not counting the time a ticket is paused (waiting on the Client)" if clause.pausable else ""
    return (
        f"The Provider shall {verb} at least {percent_words(clause.target_percent)} of {tickets} "
        f"within {within} of their opening{paused}, "
        f"in each calendar month ({contract.timezone})."
    )


def _credit_words(clause: Clause) -> list[str]:
    sentences = []
    for tier in sorted(clause.credits, key=lambda t: t.below_percent, reverse=True):
        sentences.append(
            f"Below {percent_words(tier.below_percent)}, a service credit of "
            f"{percent_words(tier.credit_percent)} of the monthly fee applies."
        )
    rule = clause.consecutive
    if rule is not None:
        consequences = []
        if rule.credit_percent:
            consequences.append(f"a further credit of {percent_words(rule.credit_percent)}")
        if rule.remedy != "none":
            consequences.append(REMEDY_WORDS[rule.remedy])
        if consequences:
            months = "month" if rule.periods == 1 else f"{rule.periods} consecutive months"
            sentences.append(f"If missed for {months} or more: {' and '.join(consequences)}.")
    return sentences


def remedy_words(remedy: str) -> str:
    return REMEDY_WORDS.get(remedy, remedy)
