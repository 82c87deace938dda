"""When to try a failed webhook delivery again: exponential backoff with jitter, ``Retry-After``,
and a maximum age after which the delivery is dead."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# seconds to wait after the 1st, 2nd, ... failure: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
DEFAULT_JITTER = 0.1  # each wait is scaled by a random factor in [0.9, 1.1]


@dataclass(frozen=True)
class RetryPolicy:
    """``max_age`` (seconds from the delivery's creation; default the schedule's total, about
    three days): a failure at or after it makes the delivery dead, and no retry is planned
    later than it. After the schedule's last step, that last wait repeats until then."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    max_age: float | None = None
    jitter: float = DEFAULT_JITTER

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedule", tuple(float(step) for step in self.schedule))
        if not self.schedule or any(step < 0 for step in self.schedule):
            raise ValueError("the retry schedule needs at least one wait, none negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.max_age is not None and self.max_age < 0:
            raise ValueError("max_age must not be negative")

    @property
    def deadline_age(self) -> float:
        return float(sum(self.schedule)) if self.max_age is None else self.max_age

    def wait(self, failures: int, rng: random.Random) -> float:
        """The jittered wait after the ``failures``-th failure (1-based)."""
        step = self.schedule[min(max(failures, 1), len(self.schedule)) - 1]
        return step * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def next_attempt(
        self,
        created: float,
        now: float,
        failures: int,
        rng: random.Random,
        retry_after: float | None = None,
    ) -> float | None:
        """The Unix time of the next attempt, or None when the delivery is dead.
        ``retry_after`` is an absolute time the receiver asked for (429/503)."""
        deadline = created + self.deadline_age
        if now >= deadline:
            return None
        planned = retry_after if retry_after is not None else now + self.wait(failures, rng)
        return max(now, min(planned, deadline))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """A ``Retry-After`` header (delay seconds or an HTTP-date) as a Unix time; None if absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return now + int(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return when.timestamp()
