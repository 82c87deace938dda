"""A month's statement rendered for the customer's legal and account teams: ``render(statement, fmt)``.

Formats (``FORMATS``): ``md`` (GitHub-flavoured Markdown), ``html`` (one self-contained printable
page with an inline SVG chart of daily availability per uptime clause), ``csv`` and ``json``.

Human formats (md, html, pdf) show times in the contract's zone with their UTC offset, percents
attained and targets with 3 decimals, and amounts with thousands separators and the currency's minor
unit (``12,000.00 EUR``, ``1,234,567 JPY``), from the exact Decimal, never through float.

JSON: the whole ``Statement``, field by field in the model's order, preceded by ``status`` (FINAL or
PROVISIONAL) and ``status_note``, and followed by ``data_note`` (null unless no event at all arrived
for the contract in the month); each clause also carries ``details_note`` (null unless the ledger
has no outage/ticket detail for the month) and ``events_received`` (null when not recorded).
Datetimes are ISO 8601 with offsets, dates ISO 8601, Decimals strings, percents numbers.

CSV: one table, a header row and then one row per fact; ``section`` says what a row is and which
of the generic columns it fills (empty otherwise). Times are ISO 8601 with offsets, percents plain
numbers without ``%`` (attained/target with 3 decimals), amounts and minutes exact decimals. Text
cells that a spreadsheet would take for a formula (starting with ``= + - @``) get a leading ``'``.

=============  =====================================================================================
section        columns filled
=============  =====================================================================================
contract       item (contract_id, customer, provider, timezone, currency, monthly_fee, period,
               period_label, terms, status, generated_at), text; period: start, end; monthly_fee: amount,
               currency; status: status (FINAL / PROVISIONAL)
clause         clause, item (kind), attained_percent, target_percent, met (yes/no), count
               (consecutive breaches), percent (clause credit, before the cap), status, text (clause)
clause_remedy  clause, text (a remedy open under this clause, in words)
note           clause (empty: the whole contract), text (no data received in the month; outage/ticket
               details not available in the ledger)
outage         clause, start, end (the clock if ongoing), minutes (counted), status (ended / ongoing)
maintenance    clause, item (scheduled / announced), start, end, minutes (excluded, within the month)
tickets        clause, item (counted / on_time), count
missed_ticket  clause, item (ticket id), priority, start (opened), end (deadline), first_measure
               (first response/resolution, or "none"), minutes (counted time at the first measure)
holiday        clause, item (local date closed in the clause's business calendar), text (its name)
undecided_ticket  clause, item (ticket id), priority, start (opened), minutes (counted at settlement)
daily          clause, item (local date), attained_percent
history        clause, item (period), attained_percent, met, count (consecutive breaches), status
credit         item (uncapped_percent, cap_percent, credit_percent, before_rules, adjustment,
               amount), percent; cap_percent without a cap: text "no cap"; before_rules (only when
               a credit rule changed the amount) and amount: amount, currency; adjustment: text
remedy         text (a remedy now available under the contract, in words)
=============  =====================================================================================
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from monitor.statements.chart import daily_chart
from monitor.statements.model import ClauseStatement, OutageLine, Statement
from monitor.wording import money_words, percent_words

FORMATS = ("md", "html", "csv", "json")  # text, from ``render``
FILE_FORMATS = (*FORMATS, "pdf")  # any, as bytes from ``render_bytes``

FINAL, PROVISIONAL = "FINAL", "PROVISIONAL"
NO_DETAILS = "Outage and ticket details are not available for this month in the ledger."
NO_REMEDIES = "none beyond the service credit"
NO_DATA = (
    "No data received: not a single event (status, maintenance or ticket) arrived for this contract "
    "in the month. The figures below assume an uninterrupted service and count no tickets."
)
NO_CLAUSE_DATA = "No data received for this clause in the month: its figures rest on no event."


def render(statement: Statement, fmt: str) -> str:
    """The statement as ``fmt`` (one of ``FORMATS``)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown text format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderer(statement)


def render_bytes(statement: Statement, fmt: str) -> bytes:
    """The statement as a file's bytes in any of ``FILE_FORMATS`` (text formats in UTF-8)."""
    if fmt == "pdf":
        from monitor.statements.pdf import html_to_pdf

        return html_to_pdf(render_html(statement))
    return render(statement, fmt).encode("utf-8")


# wording shared by the human formats ---------------------------------------------------------


def status_word(final: bool) -> str:
    return FINAL if final else PROVISIONAL


def status_note(statement: Statement) -> str:
    if statement.final:
        return "the month is closed; these are the final figures."
    return (
        f"figures may still change. The month is still open; these figures are as of "
        f"{local_time(statement.generated_at)}."
    )


def local_time(moment: datetime) -> str:
    """``2026-10-03 14:05 +02:00``; seconds (and microseconds) only when there are any."""
    spec = "%Y-%m-%d %H:%M"
    if moment.second or moment.microsecond:
        spec += ":%S"
    text = moment.strftime(spec)
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return f"{text} {_offset(moment)}".rstrip()


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def percent3(value: float) -> str:
    return f"{value:.3f}%"


def result_word(met: bool) -> str:
    return "met" if met else "missed"


def minutes_text(minutes: Decimal) -> str:
    # Human formats round to the hundredth of a minute; JSON and CSV keep the exact value.
    exponent = minutes.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        minutes = minutes.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format(minutes.normalize(), "f")


def money(amount: Decimal, currency: str) -> str:
    """``12,000.00 EUR``: the same form in every human format (see ``money_words``)."""
    return money_words(amount, currency)


def outage_end(outage: OutageLine) -> str:
    return f"ongoing (as of {local_time(outage.end)})" if outage.open else local_time(outage.end)


def period_words(statement: Statement) -> str:
    return (
        f"{statement.period_label} ({statement.period}): from {local_time(statement.period_start)} "
        f"to {local_time(statement.period_end)} (end exclusive), {statement.timezone}"
    )


def credit_words(statement: Statement) -> str:
    """``20% of the monthly fee (30% before the cap of 20%)``."""
    text = f"{percent_words(statement.credit_percent)} of the monthly fee"
    if statement.cap_percent is not None and statement.uncapped_credit_percent > statement.cap_percent:
        text += (
            f" ({percent_words(statement.uncapped_credit_percent)} before the cap of "
            f"{percent_words(statement.cap_percent)})"
        )
    return text


def cap_words(statement: Statement) -> str:
    if statement.cap_percent is None:
        return "no cap"
    return f"{percent_words(statement.cap_percent)} of the monthly fee"


# tables shared by Markdown and HTML ----------------------------------------------------------


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    numeric: frozenset[int] = frozenset()  # columns aligned right
    total: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Section:
    """One sub-heading of a clause: a lead sentence, a table, or a sentence saying there is none."""

    heading: str
    table: Table | None = None
    lead: str | None = None
    empty: str | None = None
    notice: bool = False  # the lead is a warning to the reader


@dataclass(frozen=True)
class ClauseView:
    clause: ClauseStatement
    facts: Table
    sections: list[Section] = field(default_factory=list)
    chart: Markup | None = None


def summary_table(statement: Statement) -> Table:
    rows = [
        (
            c.clause_id,
            c.kind.replace("_", " "),
            percent3(c.target_percent),
            percent3(c.attained_percent),
            result_word(c.met),
            str(c.consecutive_breaches),
            percent_words(c.credit_percent),
        )
        for c in statement.clauses
    ]
    headers = ("Clause", "Kind", "Target", "Attained", "Result", "Consecutive breaches", "Clause credit")
    return Table(headers, rows, numeric=frozenset({2, 3, 5, 6}))


def facts_table(clause: ClauseStatement) -> Table:
    row = (
        percent3(clause.target_percent),
        percent3(clause.attained_percent),
        result_word(clause.met),
        str(clause.consecutive_breaches),
        percent_words(clause.credit_percent),
        "; ".join(clause.remedies) or NO_REMEDIES,
    )
    headers = ("Target", "Attained", "Result", "Consecutive breaches", "Clause credit", "Remedies open")
    return Table(headers, [row], numeric=frozenset({0, 1, 3, 4}))


def outage_table(clause: ClauseStatement) -> Table:
    rows = [(local_time(o.start), outage_end(o), minutes_text(o.minutes)) for o in clause.outages]
    total = minutes_text(sum((o.minutes for o in clause.outages), Decimal(0)))
    if clause.kind == "availability":  # down runs: their worst interval's error rate too
        worst = [
            (*row, f"{o.worst_error_percent or 0:.2f}%") for row, o in zip(rows, clause.outages, strict=True)
        ]
        headers = ("Start", "End", "Minutes counted", "Worst error rate")
        return Table(headers, worst, frozenset({2, 3}), total=("Total", "", total, ""))
    return Table(("Start", "End", "Minutes counted"), rows, frozenset({2}), total=("Total", "", total))


def maintenance_table(clause: ClauseStatement) -> Table:
    rows = [
        (local_time(m.start), local_time(m.end), minutes_text(m.minutes), m.kind) for m in clause.maintenance
    ]
    total = minutes_text(sum((m.minutes for m in clause.maintenance), Decimal(0)))
    headers = ("Start", "End", "Minutes excluded", "Kind")
    return Table(headers, rows, frozenset({2}), total=("Total", "", total, ""))


def ticket_table(clause: ClauseStatement) -> Table:
    rows: list[tuple[str, ...]] = [
        (
            t.ticket_id,
            t.priority or "-",
            local_time(t.opened),
            local_time(t.deadline),
            local_time(t.first_measure) if t.first_measure else "none",
        )
        for t in clause.missed_tickets
    ]
    headers = ("Ticket", "Priority", "Opened", "Deadline", "First response / resolution")
    if clause.calendar is None and not clause.pausable:
        return Table(headers, rows)
    counted = [minutes_or_none(t.counted_minutes) for t in clause.missed_tickets]
    rows = [(*row, minutes) for row, minutes in zip(rows, counted, strict=True)]
    return Table((*headers, "Counted minutes at it"), rows, frozenset({5}))


def minutes_or_none(minutes: Decimal | None) -> str:
    return "none" if minutes is None else minutes_text(minutes)


def holiday_table(clause: ClauseStatement) -> Table:
    return Table(("Date", "Closed for"), [(h.day.isoformat(), h.name) for h in clause.holidays])


def undecided_table(clause: ClauseStatement) -> Table:
    rows = [
        (t.ticket_id, t.priority or "-", local_time(t.opened), minutes_text(t.counted_minutes))
        for t in clause.undecided_tickets
    ]
    return Table(("Ticket", "Priority", "Opened", "Counted minutes"), rows, frozenset({3}))


def business_sections(clause: ClauseStatement) -> list[Section]:
    """A clause in business time: the closed days of the month, and the tickets its
    settlement left undecided (paused short of their deadline; not counted)."""
    sections = []
    if clause.calendar is not None:
        lead = f"Response time counts only the open hours of the calendar {clause.calendar!r}."
        holidays = Section("Holidays (closed days)", lead=lead, empty="No closed days this month.")
        sections.append(_maybe(holidays, holiday_table(clause)))
    if clause.pausable:
        lead = "Paused short of their deadline when the month settled; not counted."
        undecided = Section("Undecided at settlement", lead=lead, empty="No undecided tickets.")
        sections.append(_maybe(undecided, undecided_table(clause)))
    return sections


def history_table(clause: ClauseStatement) -> Table:
    rows = [
        (
            h.period,
            percent3(h.attained_percent),
            result_word(h.met),
            str(h.consecutive_breaches),
            status_word(h.final).lower(),
        )
        for h in clause.history
    ]
    headers = ("Period", "Attained", "Result", "Consecutive breaches", "Status")
    return Table(headers, rows, frozenset({1, 3}))


def credit_table(statement: Statement) -> Table:
    rows = [
        ("Credit before the cap (sum of the clauses)", percent_words(statement.uncapped_credit_percent)),
        ("Cap", cap_words(statement)),
        ("Credit after the cap", f"{percent_words(statement.credit_percent)} of the monthly fee"),
        ("Monthly fee", money(statement.monthly_fee, statement.currency)),
    ]
    if statement.amount_before_rules is not None:
        rows.append(
            ("Amount before the credit rules", money(statement.amount_before_rules, statement.currency))
        )
    rows += [("Adjustment", text) for text in statement.adjustments]
    rows.append(("Service credit amount", money(statement.credit_amount, statement.currency)))
    return Table(("Item", "Value"), rows)


def tickets_lead(clause: ClauseStatement) -> str | None:
    if clause.tickets_counted is None:
        return None
    on_time = clause.tickets_on_time if clause.tickets_on_time is not None else 0
    return (
        f"Tickets counted: {clause.tickets_counted}; on time: {on_time}; "
        f"missed: {clause.tickets_counted - on_time}."
    )


def clause_sections(clause: ClauseStatement) -> list[Section]:
    sections = []
    if clause.events_received == 0:
        sections.append(Section("Data received", lead=NO_CLAUSE_DATA, notice=True))
    if not clause.details_known:
        sections.append(Section("Details", lead=NO_DETAILS, notice=True))
    elif clause.kind in ("uptime", "availability") or clause.outages or clause.maintenance:
        sections.append(_maybe(Section("Outages counted", empty="No outages counted."), outage_table(clause)))
        sections.append(
            _maybe(
                Section("Maintenance excluded", empty="No maintenance excluded."), maintenance_table(clause)
            )
        )
    if clause.details_known and (clause.kind == "response_time" or clause.missed_tickets):
        section = Section("Missed tickets", lead=tickets_lead(clause), empty="No missed tickets.")
        sections.append(_maybe(section, ticket_table(clause)))
        sections += business_sections(clause)
    history = Section("Consecutive-breach history", empty="No history recorded.")
    sections.append(_maybe(history, history_table(clause)))
    return sections


def _maybe(section: Section, table: Table) -> Section:
    if not table.rows:
        return section
    return Section(section.heading, table=table, lead=section.lead)


# Markdown -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Text as literal Markdown: no markup, no HTML, and no line break to split a table row."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def md_table(table: Table) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(md_escape(c) for c in cells) + " |"

    rule = "|" + "|".join("---:" if i in table.numeric else "---" for i in range(len(table.headers))) + "|"
    lines = [line(table.headers), rule, *(line(row) for row in table.rows)]
    if table.total:
        lines.append("| " + " | ".join(f"**{md_escape(c)}**" if c else "" for c in table.total) + " |")
    return lines


def md_clause(view: ClauseView) -> list[str]:
    clause = view.clause
    lines = [f"## Clause {md_escape(clause.clause_id)} ({clause.kind.replace('_', ' ')})", ""]
    lines += [f"> {md_escape(clause.text)}", "", *md_table(view.facts), ""]
    for section in view.sections:
        lines += [f"### {section.heading}", ""]
        if section.lead:
            lines += [md_escape(section.lead), ""]
        if section.table:
            lines += [*md_table(section.table), ""]
        elif section.empty:
            lines += [section.empty, ""]
    return lines


def md_header(statement: Statement) -> list[str]:
    return [
        f"# Service level statement: {md_escape(statement.customer)}, {md_escape(statement.period_label)}",
        "",
        f"> **{status_word(statement.final)}:** {status_note(statement)}",
        "",
        *([f"> **{NO_DATA}**", ""] if statement.no_data_received else []),
        f"- **Customer:** {md_escape(statement.customer)}",
        f"- **Provider:** {md_escape(statement.provider)}",
        f"- **Contract:** {md_escape(statement.contract_id)}",
        f"- **Period:** {md_escape(period_words(statement))}",
        f"- **Monthly fee:** {money(statement.monthly_fee, statement.currency)}",
        f"- **Terms in force:** {md_escape(statement.terms)}",
        f"- **Status:** {status_word(statement.final)}",
        "",
    ]


def md_credit(statement: Statement) -> list[str]:
    lines = ["## Service credit", "", *md_table(credit_table(statement)), "", "Remedies now available:", ""]
    lines += [f"- {md_escape(r)}" for r in statement.remedies] or [f"- {NO_REMEDIES}"]
    return lines


def render_markdown(statement: Statement) -> str:
    lines = md_header(statement)
    lines += ["## Summary", "", *md_table(summary_table(statement)), ""]
    amount = money(statement.credit_amount, statement.currency)
    lines += [f"**Service credit: {amount}**, {credit_words(statement)}.", ""]
    for view in clause_views(statement, charts=False):
        lines += md_clause(view)
    lines += md_credit(statement)
    footer = md_escape(f"Generated at {local_time(statement.generated_at)}. {_times_note(statement)}")
    lines += ["", f"_{footer}_", ""]
    return "\n".join(lines)


def _times_note(statement: Statement) -> str:
    return f"Times are local to {statement.timezone}, shown with their offset from UTC."


# HTML ---------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    # autoescape=True outright: select_autoescape() would not match the ".html.j2" file name.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.statements", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string: anything but letters, digits and plain punctuation is
    written as a hex escape, so no quote, backslash or ``</style>`` can leave the string."""
    plain = set(" .,:;-+()/'") | {chr(c) for c in range(ord("0"), ord("9") + 1)}
    body = "".join(c if (c.isalpha() and c.isascii()) or c in plain else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{body}"')


def clause_views(statement: Statement, charts: bool) -> list[ClauseView]:
    return [
        ClauseView(c, facts_table(c), clause_sections(c), _chart(statement, c, i) if charts else None)
        for i, c in enumerate(statement.clauses)
    ]


def _chart(statement: Statement, clause: ClauseStatement, index: int) -> Markup | None:
    if clause.kind != "uptime" or not clause.daily:
        return None
    zone = statement.period_start.tzinfo
    until = None if statement.final else statement.generated_at.astimezone(zone).date()
    name = f"Daily availability of {clause.clause_id}, {statement.period_label}"
    # daily_chart escapes every text it writes, so its markup is safe to embed as is.
    return Markup(daily_chart(clause.daily, clause.target_percent, name, f"chart-{index}", until))


def render_html(statement: Statement) -> str:
    template = _environment().get_template("statement.html.j2")
    return template.render(
        s=statement,
        status=status_word(statement.final),
        status_note=status_note(statement),
        no_data=NO_DATA if statement.no_data_received else None,
        period=period_words(statement),
        fee=money(statement.monthly_fee, statement.currency),
        amount=money(statement.credit_amount, statement.currency),
        credit_words=credit_words(statement),
        summary=summary_table(statement),
        clauses=clause_views(statement, charts=True),
        credit=credit_table(statement),
        no_remedies=NO_REMEDIES,
        generated=local_time(statement.generated_at),
        page_footer=css_string(
            f"{statement.customer}: {statement.period_label}, {status_word(statement.final).lower()} "
            f"statement generated at {local_time(statement.generated_at)}"
        ),
        times_note=_times_note(statement),
        local_time=local_time,
    )


# CSV ----------------------------------------------------------------------------------------

COLUMNS = (
    "section",
    "clause",
    "item",
    "start",
    "end",
    "minutes",
    "attained_percent",
    "target_percent",
    "met",
    "count",
    "status",
    "percent",
    "amount",
    "currency",
    "priority",
    "first_measure",
    "text",
)
Row = dict[str, str]


def _cell(text: str) -> str:
    """Free text that a spreadsheet would otherwise evaluate as a formula gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _num3(value: float) -> str:
    return f"{value:.3f}"


def _plain_percent(value: Decimal | float) -> str:
    return percent_words(value).removesuffix("%")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def csv_contract(s: Statement) -> Iterator[Row]:
    section = "contract"
    yield {"section": section, "item": "contract_id", "text": _cell(s.contract_id)}
    yield {"section": section, "item": "customer", "text": _cell(s.customer)}
    yield {"section": section, "item": "provider", "text": _cell(s.provider)}
    yield {"section": section, "item": "timezone", "text": s.timezone}
    yield {"section": section, "item": "currency", "text": s.currency}
    yield {"section": section, "item": "monthly_fee", "amount": str(s.monthly_fee), "currency": s.currency}
    yield {
        "section": section,
        "item": "period",
        "start": s.period_start.isoformat(),
        "end": s.period_end.isoformat(),
        "text": s.period,
    }
    yield {"section": section, "item": "period_label", "text": _cell(s.period_label)}
    yield {"section": section, "item": "terms", "text": _cell(s.terms)}
    note = "final" if s.final else "figures may still change"
    yield {"section": section, "item": "status", "status": status_word(s.final), "text": note}
    yield {"section": section, "item": "generated_at", "text": s.generated_at.isoformat()}
    if s.no_data_received:
        yield {"section": "note", "text": NO_DATA}


def csv_clause(c: ClauseStatement) -> Iterator[Row]:
    yield {
        "section": "clause",
        "clause": c.clause_id,
        "item": c.kind,
        "attained_percent": _num3(c.attained_percent),
        "target_percent": _num3(c.target_percent),
        "met": _yes(c.met),
        "count": str(c.consecutive_breaches),
        "status": status_word(c.final),
        "percent": _plain_percent(c.credit_percent),
        "text": _cell(c.text),
    }
    for remedy in c.remedies:
        yield {"section": "clause_remedy", "clause": c.clause_id, "text": _cell(remedy)}
    if c.events_received == 0:
        yield {"section": "note", "clause": c.clause_id, "text": NO_CLAUSE_DATA}
    if not c.details_known:
        yield {"section": "note", "clause": c.clause_id, "text": NO_DETAILS}
    yield from csv_details(c)
    for h in c.history:
        yield {
            "section": "history",
            "clause": c.clause_id,
            "item": h.period,
            "attained_percent": _num3(h.attained_percent),
            "met": _yes(h.met),
            "count": str(h.consecutive_breaches),
            "status": status_word(h.final),
        }


def csv_details(c: ClauseStatement) -> Iterator[Row]:
    for o in c.outages:
        yield {
            "section": "outage",
            "clause": c.clause_id,
            "start": o.start.isoformat(),
            "end": o.end.isoformat(),
            "minutes": str(o.minutes),
            "status": "ongoing" if o.open else "ended",
        }
    for m in c.maintenance:
        yield {
            "section": "maintenance",
            "clause": c.clause_id,
            "item": m.kind,
            "start": m.start.isoformat(),
            "end": m.end.isoformat(),
            "minutes": str(m.minutes),
        }
    yield from csv_tickets(c)
    for d in c.daily:
        yield {
            "section": "daily",
            "clause": c.clause_id,
            "item": d.day.isoformat(),
            "attained_percent": _num3(d.attained_percent),
        }


def csv_tickets(c: ClauseStatement) -> Iterator[Row]:
    if c.tickets_counted is not None:
        yield {
            "section": "tickets",
            "clause": c.clause_id,
            "item": "counted",
            "count": str(c.tickets_counted),
        }
    if c.tickets_on_time is not None:
        yield {
            "section": "tickets",
            "clause": c.clause_id,
            "item": "on_time",
            "count": str(c.tickets_on_time),
        }
    for t in c.missed_tickets:
        yield _ticket_row("missed_ticket", c, t.ticket_id, t.priority, t.opened) | {
            "end": t.deadline.isoformat(),
            "first_measure": t.first_measure.isoformat() if t.first_measure else "none",
            "minutes": str(t.counted_minutes) if t.counted_minutes is not None else "",
        }
    for h in c.holidays:
        yield {"section": "holiday", "clause": c.clause_id, "item": h.day.isoformat(), "text": _cell(h.name)}
    for u in c.undecided_tickets:
        yield _ticket_row("undecided_ticket", c, u.ticket_id, u.priority, u.opened) | {
            "minutes": str(u.counted_minutes)
        }


def _ticket_row(
    section: str, c: ClauseStatement, ticket_id: str, priority: str | None, opened: datetime
) -> Row:
    return {
        "section": section,
        "clause": c.clause_id,
        "item": _cell(ticket_id),
        "priority": _cell(priority or ""),
        "start": opened.isoformat(),
    }


def csv_credit(s: Statement) -> Iterator[Row]:
    section = "credit"
    yield {
        "section": section,
        "item": "uncapped_percent",
        "percent": _plain_percent(s.uncapped_credit_percent),
    }
    if s.cap_percent is None:
        yield {"section": section, "item": "cap_percent", "text": "no cap"}
    else:
        yield {"section": section, "item": "cap_percent", "percent": _plain_percent(s.cap_percent)}
    yield {"section": section, "item": "credit_percent", "percent": _plain_percent(s.credit_percent)}
    if s.amount_before_rules is not None:
        yield {
            "section": section,
            "item": "before_rules",
            "amount": str(s.amount_before_rules),
            "currency": s.currency,
        }
    for text in s.adjustments:
        yield {"section": section, "item": "adjustment", "text": _cell(text)}
    yield {"section": section, "item": "amount", "amount": str(s.credit_amount), "currency": s.currency}
    for remedy in s.remedies:
        yield {"section": "remedy", "text": _cell(remedy)}


def render_csv(statement: Statement) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="")
    writer.writeheader()
    writer.writerows(csv_contract(statement))
    for clause in statement.clauses:
        writer.writerows(csv_clause(clause))
    writer.writerows(csv_credit(statement))
    return buffer.getvalue()


# JSON ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Dataclasses as dicts in field order, Decimals as strings, dates and times as ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        document = {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, ClauseStatement):
            document["details_note"] = None if value.details_known else NO_DETAILS
        return document
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def render_json(statement: Statement) -> str:
    note = "final" if statement.final else "figures may still change"
    document = {"status": status_word(statement.final), "status_note": note, **_plain(statement)}
    document["data_note"] = NO_DATA if statement.no_data_received else None
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_RENDERERS: dict[str, Callable[[Statement], str]] = {
    "md": render_markdown,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
}
