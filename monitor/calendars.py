"""Named business calendars of a contract (SPEC.md section 10), as pydantic models.

A calendar is weekly local wall-clock ranges per weekday plus closed whole days (public
holidays from the ``holidays`` package, and extra dates). The engine turns it into open
time (``monitor.engine.business_hours``); here it is only read and checked.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated

import holidays
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from monitor.contract_errors import FieldProblem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 24 * 60
DayRange = tuple[int, int]  # [start, end) in minutes after local midnight; end may be 1440 (24:00)

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def parse_day_keys(key: str) -> list[int]:
    """``mon`` or a range in week order like ``mon-fri``: the weekday numbers it names."""
    parts = key.split("-")
    if len(parts) > 2 or any(part not in WEEKDAYS for part in parts):
        raise ValueError(
            f"unknown day {key!r}: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri"
        )
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    if last < first:
        raise ValueError(f"day range {key!r} must be in week order (mon ... sun)")
    return list(range(first, last + 1))


def _clock_minutes(text: str, *, allow_24: bool) -> int:
    hours, _, minutes = text.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not allow_24):
        raise ValueError
    return value


def parse_range(text: str) -> DayRange:
    """``"HH:MM-HH:MM"``, start before end, the end may be ``24:00``."""
    start_text, dash, end_text = text.strip().partition("-")
    try:
        if not dash:
            raise ValueError
        start = _clock_minutes(start_text, allow_24=False)
        end = _clock_minutes(end_text, allow_24=True)
    except ValueError:
        hint = "use 'HH:MM-HH:MM' like '08:00-12:00' (end may be 24:00)"
        raise ValueError(f"invalid range {text!r}: {hint}") from None
    if end <= start:
        raise ValueError(f"range {text!r}: the start must be before the end")
    return start, end


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str | None, year: int) -> tuple[tuple[date, str], ...]:
    """The ``holidays`` package's public holidays of one year, sorted (pure data, no I/O)."""
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return tuple(sorted(table.items()))


class Holidays(_Strict):
    """Closed whole local days: a country's public holidays (optional) and extra dates."""

    country: CountryCode | None = None
    subdivision: Annotated[str, StringConstraints(min_length=1)] | None = None
    dates: list[date] = Field(default_factory=list)

    @field_validator("dates", mode="before")
    @classmethod
    def _plain_dates(cls, value: object) -> object:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, datetime):
                    raise FieldProblem((index,), "must be a local date like 2026-12-24, not a timestamp")
        return value

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        if self.country is None:
            if self.subdivision is not None:
                raise FieldProblem(("subdivision",), "a subdivision needs a country")
            return self
        supported = holidays.list_supported_countries()
        if self.country not in supported:
            raise FieldProblem(
                ("country",), f"unknown country {self.country!r}: the holidays package has no such country"
            )
        if self.subdivision is not None and self.subdivision not in supported[self.country]:
            known = ", ".join(supported[self.country]) or "none"
            raise FieldProblem(
                ("subdivision",),
                f"unknown subdivision {self.subdivision!r} of {self.country} (known: {known})",
            )
        return self

    def closed_days(self, year: int) -> dict[date, str]:
        """The closed days of a year with their names; an extra date is named "closed"."""
        closed: dict[date, str] = {}
        if self.country is not None:
            closed.update(public_holidays(self.country, self.subdivision, year))
        for day in self.dates:
            if day.year == year:
                closed.setdefault(day, "closed")
        return closed


RangesText = str | list[str]


class BusinessCalendar(_Strict):
    """Local wall-clock ranges per weekday (unlisted days are closed) and closed days."""

    hours: dict[str, RangesText]
    holidays: Holidays = Field(default_factory=Holidays)

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, hours: dict[str, RangesText]) -> dict[str, RangesText]:
        named: dict[int, str] = {}
        for key, ranges in hours.items():
            try:
                days = parse_day_keys(key)
            except ValueError as error:
                raise FieldProblem((key,), str(error)) from None
            for day in days:
                if day in named:
                    raise FieldProblem((key,), f"{WEEKDAYS[day]} is named twice (also in {named[day]!r})")
                named[day] = key
            texts = [ranges] if isinstance(ranges, str) else ranges
            parsed = []
            for index, text in enumerate(texts):
                try:
                    parsed.append(parse_range(text))
                except ValueError as error:
                    where = (key,) if isinstance(ranges, str) else (key, index)
                    raise FieldProblem(where, str(error)) from None
            parsed.sort()
            for (_, end), (start, _) in itertools.pairwise(parsed):
                if start < end:
                    raise FieldProblem((key,), f"ranges overlap: {_text(parsed)}")
        if not any(ranges for ranges in hours.values()):
            raise ValueError("the calendar is never open: give at least one range")
        return hours

    def week(self) -> tuple[tuple[DayRange, ...], ...]:
        """The ranges of each weekday (index 0 = Monday), sorted."""
        days: list[list[DayRange]] = [[] for _ in WEEKDAYS]
        for key, ranges in self.hours.items():
            texts = [ranges] if isinstance(ranges, str) else ranges
            for day in parse_day_keys(key):
                days[day].extend(parse_range(text) for text in texts)
        return tuple(tuple(sorted(day)) for day in days)


def _text(ranges: list[DayRange]) -> str:
    return ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in ranges)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
