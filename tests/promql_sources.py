"""The PromQL expressions of the deployment: Grafana dashboard targets and Prometheus rules.

Shared by ``tests/test_deploy.py`` and the end-to-end checks that run every expression
against a live Prometheus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
RULES = DEPLOY / "prometheus" / "rules"

# values for the dashboard's template variables and Grafana's built-in interval variables,
# so that an expression can be sent to Prometheus as it is
DEFAULT_VARIABLES: Mapping[str, str] = {
    "contract": ".*",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}

# $name, ${name} and ${name:format}; "$1" (a label_replace group) is not a variable
_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)")


def dashboard_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_targets(path: Path | str) -> list[dict[str, Any]]:
    dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
    return [target for panel in dashboard_panels(dashboard) for target in panel.get("targets", [])]


def substitute(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """Replaces ``$name`` and ``${name}`` by their values; unknown variables are an error."""
    values = {**DEFAULT_VARIABLES, **(variables or {})}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for dashboard variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(value, expr)


def dashboard_expressions(
    path: Path | str = DASHBOARDS / "sla-monitor.json",
    variables: Mapping[str, str] | None = None,
    *,
    raw: bool = False,
) -> list[str]:
    """The ``expr`` of every panel target, with template variables replaced (unless ``raw``)."""
    exprs = [target.get("expr", "") for target in dashboard_targets(path)]
    return exprs if raw else [substitute(expr, variables) for expr in exprs]


def rule_expressions(directory: Path | str = RULES) -> list[str]:
    """The ``expr`` of every recording and alerting rule in the directory's ``*.yml`` files."""
    exprs = []
    for path in sorted(Path(directory).glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in document.get("groups", []):
            exprs.extend(str(rule["expr"]).strip() for rule in group.get("rules", []))
    return exprs
