"""Label selectors in Prometheus' matcher syntax: ``name="value"``, ``!=``, ``=~``, ``!~``,
separated by commas, optionally inside braces. Regular expressions are anchored (match the whole
value), as in Prometheus and Alertmanager; a missing label has the value ``""``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*')


@dataclass(frozen=True)
class Matcher:
    label: str
    operator: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.operator == "=":
            return actual == self.value
        if self.operator == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.operator == "=~" else not found

    def __str__(self) -> str:
        return f"{self.label}{self.operator}{json.dumps(self.value)}"


@dataclass(frozen=True)
class Selector:
    matchers: tuple[Matcher, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every matcher matches (an empty selector matches everything)."""
        return all(matcher.matches(labels) for matcher in self.matchers)

    def __str__(self) -> str:
        return "{" + ",".join(str(m) for m in self.matchers) + "}"


def parse_selector(text: str) -> Selector:
    """Parse ``a="x",b=~"y|z"`` (or ``{...}``); raise ValueError naming the part that is wrong."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    matchers = []
    position = 0
    while position < len(body):
        found = _MATCHER.match(body, position)
        if found is None:
            raise ValueError(f'cannot read a matcher at {body[position:]!r}; expected like name="value"')
        label, operator, quoted = found.groups()
        value = json.loads(quoted)
        if operator in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as error:
                problem = f"matcher {label}{operator}{quoted}: bad regular expression: {error}"
                raise ValueError(problem) from None
        matchers.append(Matcher(label, operator, value))
        position = found.end()
        if position < len(body):
            if body[position] != ",":
                raise ValueError(f"expected ',' between matchers, before {body[position:]!r}")
            position += 1
    return Selector(tuple(matchers))
