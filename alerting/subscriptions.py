"""Webhook subscriptions: a YAML file of where to send which notices; secrets come from the environment.

Every problem names the file, the field path and what is wrong (as for contract files); a missing
or malformed secret names the subscription and the variable, never the value.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerting.signing import SecretFormatError, secret_key
from monitor.contract import FieldProblem
from monitor.durations import Duration
from monitor.loader import (
    MAX_DOCUMENT_NODES,
    ContractProblem,
    _describe_document,
    _expands_beyond,
    _join,
    _UniqueKeySafeLoader,
    field_path,
)

NoticeType = Literal["sla.at_risk", "sla.breached", "sla.period_closed"]
NOTICE_TYPES: tuple[NoticeType, ...] = get_args(NoticeType)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_TIMEOUT = timedelta(seconds=15)
MAX_TIMEOUT = timedelta(minutes=5)

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=128)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]


def check_url(url: str) -> str:
    """An absolute http(s) URL; plain http only to this machine. Credentials in it are refused."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise ValueError(f"invalid URL: {error}") from error
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"the URL must start with https:// (or http:// to {sorted(LOCAL_HOSTS)})")
    if not host:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not allowed; receivers verify the signature")
    if parts.scheme == "http" and host not in LOCAL_HOSTS and not _is_loopback(host):
        raise ValueError(f"plain http is only allowed to 127.0.0.1, localhost or ::1; use https for {host}")
    return url


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host) in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    except ValueError:
        return False


class SubscriptionSpec(BaseModel):
    """One entry of the file, as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    url: str
    secret_env: EnvName
    types: tuple[NoticeType, ...] = Field(NOTICE_TYPES, min_length=1)
    contracts: tuple[str, ...] | None = Field(None, min_length=1)
    timeout: Duration = DEFAULT_TIMEOUT

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_file(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in ("secret", "signing_secret"):
                if key in value:
                    message = "never put a secret in the file: name its environment variable in secret_env"
                    raise FieldProblem((key,), message)
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("types", "contracts")
    @classmethod
    def _distinct(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists an entry twice")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= MAX_TIMEOUT:
            raise ValueError(f"must be more than 0 and at most {int(MAX_TIMEOUT.total_seconds())}s")
        return value


class SubscriptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscriptions: list[SubscriptionSpec]

    @model_validator(mode="after")
    def _unique_names(self) -> SubscriptionsFile:
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.subscriptions):
            if entry.name in seen:
                raise FieldProblem(
                    ("subscriptions", index, "name"),
                    f"duplicate subscription name {entry.name!r} (also subscriptions[{seen[entry.name]}])",
                )
            seen[entry.name] = index
        return self


@dataclass(frozen=True)
class Subscription:
    """A subscription ready to deliver to: the secret is resolved (and never shown by repr)."""

    name: str
    url: str
    secret: str = field(repr=False)
    types: frozenset[str] = frozenset(NOTICE_TYPES)
    contracts: frozenset[str] | None = None
    timeout: float = DEFAULT_TIMEOUT.total_seconds()

    def __post_init__(self) -> None:
        check_url(self.url)
        secret_key(self.secret)  # raises SecretFormatError without the value

    def matches(self, notice_type: str, contract: str) -> bool:
        return notice_type in self.types and (self.contracts is None or contract in self.contracts)


class SubscriptionFileError(ValueError):
    """The file's problems, each naming file, field path and what is wrong."""

    def __init__(self, problems: list[ContractProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _read_document(path: Path) -> object:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SubscriptionFileError([ContractProblem(name, "", f"cannot read file: {error}")]) from error
    try:
        document = yaml.load(text, Loader=_UniqueKeySafeLoader)  # a SafeLoader: no objects
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SubscriptionFileError([ContractProblem(name, "", f"invalid YAML{where}: {problem}")]) from None
    except RecursionError:
        raise SubscriptionFileError([ContractProblem(name, "", "invalid YAML: nested too deeply")]) from None
    except ValueError as error:  # a scalar the safe constructors refuse, e.g. a 5,000-digit number
        raise SubscriptionFileError([ContractProblem(name, "", f"invalid YAML value: {error}")]) from None
    if not isinstance(document, dict):
        found = _describe_document(document)
        raise SubscriptionFileError(
            [ContractProblem(name, "", f"a subscriptions file must hold one YAML mapping; {found}")]
        )
    if _expands_beyond(document, MAX_DOCUMENT_NODES):
        raise SubscriptionFileError([ContractProblem(name, "", "document too large (YAML aliases?)")])
    return document


def _validation_problems(name: str, error: ValidationError) -> list[ContractProblem]:
    problems = []
    for item in error.errors(include_url=False):
        path = field_path(item["loc"], frozenset())
        message = item["msg"].removeprefix("Value error, ")
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            path = _join(path, field_path(cause.location, frozenset()))
            message = str(cause)
        problems.append(ContractProblem(name, path, message))
    return problems


def _resolve(
    name: str, index: int, spec: SubscriptionSpec, environ: Mapping[str, str]
) -> Subscription | ContractProblem:
    where = f"subscriptions[{index}].secret_env"
    secret = environ.get(spec.secret_env)
    if not secret:
        return ContractProblem(
            name, where, f"subscription {spec.name!r}: environment variable {spec.secret_env} is not set"
        )
    try:
        secret_key(secret)
    except SecretFormatError as error:
        return ContractProblem(
            name, where, f"subscription {spec.name!r}: environment variable {spec.secret_env}: {error}"
        )
    return Subscription(
        name=spec.name,
        url=spec.url,
        secret=secret,
        types=frozenset(spec.types),
        contracts=frozenset(spec.contracts) if spec.contracts is not None else None,
        timeout=spec.timeout.total_seconds(),
    )


def load_subscriptions(path: str | Path, environ: Mapping[str, str] | None = None) -> list[Subscription]:
    """Load and check a subscriptions file, reading each secret from ``environ`` (default: the
    process environment). Raises :class:`SubscriptionFileError` listing every problem."""
    path = Path(path)
    document = _read_document(path)
    try:
        parsed = SubscriptionsFile.model_validate(document)
    except ValidationError as error:
        raise SubscriptionFileError(_validation_problems(str(path), error)) from None
    env = os.environ if environ is None else environ
    resolved = [_resolve(str(path), i, spec, env) for i, spec in enumerate(parsed.subscriptions)]
    problems = [r for r in resolved if isinstance(r, ContractProblem)]
    if problems:
        raise SubscriptionFileError(problems)
    return [r for r in resolved if isinstance(r, Subscription)]
