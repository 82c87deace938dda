"""The contract language of SPEC.md section 2, as pydantic models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.parser import parse as parse_datetime
from dateutil.rrule import rrule as RecurrenceRule
from dateutil.rrule import rrulestr
from iso4217 import Currency
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from monitor.calendars import BusinessCalendar
from monitor.contract_errors import FieldProblem
from monitor.durations import Duration

Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
NonEmptyText = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {name!r}") from error
    return name


def _check_currency(code: str) -> str:
    if code not in Currency.__members__ or code != code.upper():
        raise ValueError(f"unknown ISO 4217 currency code {code!r}")
    return code


class CreditTier(_Strict):
    below_percent: Percent
    credit_percent: Percent


class ConsecutiveRule(_Strict):
    periods: Annotated[int, Field(ge=1)]
    credit_percent: Percent = Decimal(0)
    remedy: Literal["contract_review", "termination_right", "none"] = "none"


MAX_CHRONIC_WINDOW = 1200  # months: a century


class ChronicRule(_Strict):
    """ "Missed in ``missed`` of the last ``of_last`` months" (SPEC.md section 12)."""

    missed: Annotated[int, Field(ge=1)]
    of_last: Annotated[int, Field(ge=1, le=MAX_CHRONIC_WINDOW)]
    credit_percent: Percent = Decimal(0)
    remedy: Literal["contract_review", "termination_right", "none"] = "none"

    @model_validator(mode="after")
    def _fits(self) -> ChronicRule:
        if self.missed > self.of_last:
            raise FieldProblem(("missed",), f"must not exceed of_last ({self.of_last})")
        return self


class CreditRules(_Strict):
    """Contract-level rules on the money owed (SPEC.md section 12)."""

    min_credit_amount: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    annual_cap_percent: Percent | None = None
    claim_within: Duration | None = None

    @field_validator("claim_within")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("claim_within must be positive")
        return value


class RecurringWindow(_Strict):
    """A scheduled window: local wall-clock starts given by an RFC 5545 RRULE."""

    rrule: NonEmptyText
    duration: Duration

    @field_validator("rrule")
    @classmethod
    def _parses(cls, text: str) -> str:
        if "DTSTART" in text.upper():
            raise ValueError("DTSTART is not allowed: occurrences start at local midnight of effective_from")
        try:
            zoned_rule(text, datetime(2000, 1, 1, tzinfo=UTC))
        except (ValueError, TypeError) as error:
            raise ValueError(f"invalid RRULE {text!r}: {error}") from error
        return text

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("duration must be positive")
        return value

    def rule(self, dtstart: datetime) -> RecurrenceRule:
        """The rule from ``dtstart``, an aware local time: see ``zoned_rule``."""
        return zoned_rule(self.rrule, dtstart)


_UNTIL = re.compile(r"UNTIL=([^;]*)", re.IGNORECASE)


def zoned_rule(text: str, dtstart: datetime) -> RecurrenceRule:
    """An RRULE whose occurrences are wall-clock times in the zone of the aware ``dtstart``.

    ``UNTIL`` may be UTC (``...Z``), as RFC 5545 requires with a zoned DTSTART, or a floating
    local date or time, read in the same zone."""
    until = _UNTIL.search(text)
    if until is None or until.group(1).upper().endswith("Z"):
        return _single_rule(text, dtstart)
    local_until = parse_datetime(until.group(1)).replace(tzinfo=dtstart.tzinfo)
    without_until = _UNTIL.sub("", text).replace(";;", ";").strip(";")
    return _single_rule(without_until, dtstart).replace(until=local_until)


def _single_rule(text: str, dtstart: datetime) -> RecurrenceRule:
    """``rrulestr`` for one RRULE (a set of rules or dates is refused with a ValueError)."""
    rule = rrulestr(text, dtstart=dtstart)
    if not isinstance(rule, RecurrenceRule):
        raise ValueError("only a single RRULE is supported")
    return rule


class OneOffWindow(_Strict):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> OneOffWindow:
        if self.end <= self.start:
            raise FieldProblem(("end",), "must be after start")
        return self


def _window_form(value: object) -> str:
    """A window with an ``rrule`` key is recurring, any other is one-off: errors then name
    the fields of the form the author meant, not of both forms."""
    if isinstance(value, dict):
        return WINDOW_RECURRING if "rrule" in value else WINDOW_ONE_OFF
    return WINDOW_RECURRING if isinstance(value, RecurringWindow) else WINDOW_ONE_OFF


WINDOW_RECURRING, WINDOW_ONE_OFF = "recurring-window", "one-off-window"
MaintenanceWindow = Annotated[
    Annotated[RecurringWindow, Tag(WINDOW_RECURRING)] | Annotated[OneOffWindow, Tag(WINDOW_ONE_OFF)],
    Discriminator(_window_form),
]


class Maintenance(_Strict):
    windows: list[MaintenanceWindow] = Field(default_factory=list)
    announced_min_notice: Duration | None = None


class _ClauseBase(_Strict):
    id: Identifier
    description: NonEmptyText | None = None
    target_percent: Percent
    credits: list[CreditTier] = Field(default_factory=list)
    consecutive: ConsecutiveRule | None = None
    chronic: ChronicRule | None = None


class UptimeClause(_ClauseBase):
    kind: Literal["uptime"]
    service: NonEmptyText
    exclude_maintenance: bool = True
    min_outage: Duration = timedelta(0)


class ResponseTimeClause(_ClauseBase):
    kind: Literal["response_time"]
    measure: Literal["responded", "resolved"]
    within: Duration
    priorities: list[NonEmptyText] | None = None
    calendar: NonEmptyText | None = None  # SPEC.md section 10: only open hours of it count
    pausable: bool = False
    settle_after: Duration = timedelta(days=30)

    @field_validator("within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("within must be positive")
        return value


AVAILABILITY_INTERVALS = {timedelta(minutes=n) for n in (1, 3, 5, 15)}


class AvailabilityClause(_ClauseBase):
    """Request-based availability (SPEC.md section 11): intervals of request counts."""

    kind: Literal["availability"]
    service: NonEmptyText
    method: Literal["downtime_intervals", "mean_error_rate", "request_ratio"]
    interval: Duration
    error_rate_above_percent: Percent | None = None
    min_requests: Annotated[int, Field(ge=1, strict=True)] = 1
    min_downtime: Duration = timedelta(0)
    exclude_maintenance: bool = True

    @field_validator("interval")
    @classmethod
    def _aligned_interval(cls, value: timedelta) -> timedelta:
        if value not in AVAILABILITY_INTERVALS:
            raise ValueError("interval must be 1m, 3m, 5m or 15m")
        return value

    @field_validator("min_downtime")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("min_downtime must not be negative")
        return value

    @model_validator(mode="after")
    def _threshold_for_downtime(self) -> AvailabilityClause:
        if self.method == "downtime_intervals" and self.error_rate_above_percent is None:
            raise FieldProblem(("error_rate_above_percent",), "required when method is downtime_intervals")
        return self


Clause = Annotated[UptimeClause | ResponseTimeClause | AvailabilityClause, Field(discriminator="kind")]
Clauses = Annotated[list[Clause], Field(min_length=1)]

# keys an amendment may replace, and those it may not (SPEC.md section 12)
AMENDABLE_KEYS = ("monthly_fee", "credit_cap_percent", "credit_rules", "maintenance", "calendars", "clauses")
FIXED_KEYS = ("id", "customer", "provider", "timezone", "currency", "effective_from", "effective_to")
_NOT_NULL = ("monthly_fee", "maintenance", "calendars", "clauses")


def _local_date(value: object) -> object:
    if isinstance(value, datetime):
        raise ValueError("must be a local date like 2026-01-01, not a timestamp")
    return value


def _duplicate_clause(
    clauses: list[UptimeClause | ResponseTimeClause | AvailabilityClause],
) -> FieldProblem | None:
    seen: dict[str, int] = {}
    for index, clause in enumerate(clauses):
        if clause.id in seen:
            return FieldProblem(
                ("clauses", index, "id"),
                f"duplicate clause id {clause.id!r} (also clauses[{seen[clause.id]}].id)",
            )
        seen[clause.id] = index
    return None


class Amendment(_Strict):
    """New terms from ``effective_from`` on: each key given replaces the one in force whole."""

    effective_from: date
    title: NonEmptyText
    monthly_fee: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    credit_cap_percent: Percent | None = None
    credit_rules: CreditRules | None = None
    maintenance: Maintenance | None = None
    calendars: dict[NonEmptyText, BusinessCalendar] | None = None
    clauses: Clauses | None = None

    @model_validator(mode="before")
    @classmethod
    def _amendable(cls, value: object) -> object:
        if isinstance(value, dict):
            for key in FIXED_KEYS:
                if key in value and key != "effective_from":  # an amendment's own start
                    raise FieldProblem(
                        (key,), f"{key} cannot be amended (an amendment may set {', '.join(AMENDABLE_KEYS)})"
                    )
        return value

    _plain_date = field_validator("effective_from", mode="before")(_local_date)

    @model_validator(mode="after")
    def _consistent(self) -> Amendment:
        if self.effective_from.day != 1:
            raise FieldProblem(("effective_from",), "must be the 1st of a month")
        for key in _NOT_NULL:
            if key in self.model_fields_set and getattr(self, key) is None:
                raise FieldProblem((key,), "must not be null (leave it out to keep the terms in force)")
        if not self.replaced_keys:
            raise FieldProblem((), f"amends nothing: set at least one of {', '.join(AMENDABLE_KEYS)}")
        problem = _duplicate_clause(self.clauses or [])
        if problem is not None:
            raise problem
        return self

    @property
    def replaced_keys(self) -> tuple[str, ...]:
        return tuple(key for key in AMENDABLE_KEYS if key in self.model_fields_set)


class Contract(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    id: Identifier
    customer: NonEmptyText
    provider: NonEmptyText
    timezone: Annotated[str, AfterValidator(_check_zone)]
    currency: Annotated[str, AfterValidator(_check_currency)]
    monthly_fee: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    effective_from: date
    effective_to: date | None = None
    credit_cap_percent: Percent | None = None
    # share of an open period's error budget used at which sla.at_risk fires (default: global)
    at_risk_budget_percent: Percent | None = None
    maintenance: Maintenance = Field(default_factory=Maintenance)
    calendars: dict[NonEmptyText, BusinessCalendar] = Field(default_factory=dict)
    clauses: Clauses
    credit_rules: CreditRules | None = None
    amendments: list[Amendment] = Field(default_factory=list)

    _plain_date = field_validator("effective_from", "effective_to", mode="before")(_local_date)

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise FieldProblem(
                ("effective_to",), f"must be after effective_from ({self.effective_from.isoformat()})"
            )
        problem = _duplicate_clause(self.clauses)
        if problem is not None:
            raise problem
        self._amendments_in_order()
        self._calendars_known()
        return self

    def _amendments_in_order(self) -> None:
        previous = self.effective_from
        titles: dict[str, int] = {}
        for index, amendment in enumerate(self.amendments):
            day = amendment.effective_from
            if day <= previous:
                after = "effective_from" if index == 0 else f"amendments[{index - 1}].effective_from"
                raise FieldProblem(
                    ("amendments", index, "effective_from"),
                    f"must be after {after} ({previous.isoformat()}): amendments are in date order",
                )
            if self.effective_to is not None and day >= self.effective_to:
                raise FieldProblem(
                    ("amendments", index, "effective_from"),
                    f"must be before effective_to ({self.effective_to.isoformat()})",
                )
            title = amendment.title
            if title in titles or title == "base":
                also = f"also amendments[{titles[title]}].title" if title in titles else "the base terms"
                raise FieldProblem(("amendments", index, "title"), f"title {title!r} is taken ({also})")
            titles[title] = index
            previous = day

    def _calendars_known(self) -> None:
        """Every clause names a calendar of the terms it is in force under (SPEC.md section 10)."""
        _check_calendars(self.clauses, self.calendars, ("clauses",))
        calendars, clauses = self.calendars, self.clauses
        for index, amendment in enumerate(self.amendments):
            calendars = amendment.calendars if amendment.calendars is not None else calendars
            where: tuple[str | int, ...] = ("amendments", index, "clauses")
            if amendment.clauses is None:
                where = ("amendments", index, "calendars")  # the inherited clauses lost a calendar
            clauses = amendment.clauses if amendment.clauses is not None else clauses
            _check_calendars(clauses, calendars, where)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def minor_unit(self) -> int:
        return Currency[self.currency].exponent or 0


def _check_calendars(
    clauses: list[UptimeClause | ResponseTimeClause | AvailabilityClause],
    calendars: dict[str, BusinessCalendar],
    where: tuple[str | int, ...],
) -> None:
    known = ", ".join(sorted(calendars)) or "none defined"
    for index, clause in enumerate(clauses):
        calendar = getattr(clause, "calendar", None)
        if calendar is not None and calendar not in calendars:
            location = (*where, index, "calendar") if where[-1] == "clauses" else where
            raise FieldProblem(
                location, f"unknown calendar {calendar!r} for clause {clause.id!r} (calendars: {known})"
            )
