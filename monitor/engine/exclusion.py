"""Excluded time of one clause's service (SPEC.md section 4): the contract's scheduled windows
and the announced maintenance of that service with enough notice."""

from __future__ import annotations

from monitor.contract import Contract
from monitor.engine.intervals import Interval, clip, merge
from monitor.engine.schedule import MaintenanceSchedule
from monitor.engine.timeline import ServiceTimeline
from monitor.timeutil import span_us

NO_ANNOUNCED_MAINTENANCE = -1


class ServiceExclusions:
    def __init__(
        self,
        contract: Contract,
        exclude_maintenance: bool,
        schedule: MaintenanceSchedule,
        timeline: ServiceTimeline,
    ) -> None:
        self.enabled = exclude_maintenance
        self.timeline = timeline
        self._schedule = schedule
        notice = contract.maintenance.announced_min_notice
        self._min_notice = span_us(notice) if notice is not None else NO_ANNOUNCED_MAINTENANCE

    def excluded(self, lo: int, hi: int) -> list[Interval]:
        """Merged excluded time within ``[lo, hi)``."""
        if not self.enabled:
            return []
        windows = self._schedule.windows(lo, hi)
        if self._min_notice != NO_ANNOUNCED_MAINTENANCE and self.timeline.announcements:
            announced = clip(self.timeline.maintenance(self._min_notice, lo, hi), lo, hi)
            if announced:
                return merge(windows + announced)
        return windows

    def lines(self, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """The excluded time within ``[lo, hi)`` by source: ``scheduled`` and ``announced``."""
        if not self.enabled:
            return []
        lines = [(a, b, "scheduled") for a, b in self._schedule.windows(lo, hi)]
        if self._min_notice != NO_ANNOUNCED_MAINTENANCE:
            announced = merge(clip(self.timeline.maintenance(self._min_notice, lo, hi), lo, hi))
            lines += [(a, b, "announced") for a, b in announced]
        return sorted(lines)
