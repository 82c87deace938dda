"""The pure compliance engine (SPEC.md section 4)."""

from monitor.engine.core import DEFAULT_LATENESS, DEFAULT_MAX_FUTURE_SKEW, Engine, Outcome, Verdict
from monitor.engine.results import ClauseResult, ContractResult, PeriodResult, record_sort_key

__all__ = [
    "DEFAULT_LATENESS",
    "DEFAULT_MAX_FUTURE_SKEW",
    "ClauseResult",
    "ContractResult",
    "Engine",
    "Outcome",
    "PeriodResult",
    "Verdict",
    "record_sort_key",
]
