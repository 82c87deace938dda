"""``slamon explain``: how one clause's figure for one month was reached, every number traced
to the events behind it (SPEC.md section 14). Each clause kind contributes its own sections
(``kinds.py``); the period, the terms and the arithmetic to the credit are shared."""

from monitor.explain.derive import explain_from_events, explain_from_ledger
from monitor.explain.model import ExplainError, Explanation, Section, Step

__all__ = ["ExplainError", "Explanation", "Section", "Step", "explain_from_events", "explain_from_ledger"]
