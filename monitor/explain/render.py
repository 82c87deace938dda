"""An explanation as text for people (numbered sections, each step with its event ids) or JSON."""

from __future__ import annotations

import json

from monitor.explain.model import Explanation

MAX_IDS_SHOWN = 6


def explanation_text(explanation: Explanation) -> str:
    lines = [
        f"How {explanation.contract} / {explanation.clause} / {explanation.period} was reached "
        f"(from {explanation.source})",
        "",
    ]
    for number, section in enumerate(explanation.sections, start=1):
        lines.append(f"{number}. {section.heading}")
        if not section.steps and section.empty:
            lines.append(f"   {section.empty}")
        for step in section.steps:
            lines.append(f"   - {step.text}")
            if step.events:
                shown = ", ".join(step.events[:MAX_IDS_SHOWN])
                more = len(step.events) - MAX_IDS_SHOWN
                lines.append(f"     events: {shown}" + (f" and {more} more" if more > 0 else ""))
        lines.append("")
    return "\n".join(lines)


def explanation_json(explanation: Explanation) -> str:
    return json.dumps(explanation.to_document(), indent=2, ensure_ascii=False) + "\n"
