"""Settings of the ingest service: flags or ``SLAMON_INGEST_*`` environment variables.

The broker, its kind and the topic names are the shared ``monitor.settings.Settings``.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.ingest.selector import Selector, parse_selector

LOOPBACK = "127.0.0.1"


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLAMON_INGEST_", extra="forbid")

    host: str = Field(LOOPBACK, description="address to listen on; other than loopback only with tokens")
    port: int = Field(8088, ge=0, le=65535)
    tokens: SecretStr | None = Field(None, description="comma-separated bearer tokens for /v1")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1, description="largest request body accepted")
    max_events: int = Field(10_000, ge=1, description="most events in one POST /v1/events")
    alert_selector: str = Field(
        "", description='Alertmanager alerts to take, e.g. alertname="ServiceDown",severity=~"page|critical"'
    )
    service_label: str = Field("service", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @field_validator("alert_selector")
    @classmethod
    def _selector(cls, value: str) -> str:
        parse_selector(value)  # raises ValueError naming the bad part
        return value

    @model_validator(mode="after")
    def _loopback_without_tokens(self) -> IngestSettings:
        if not self.token_list and not _is_loopback(self.host):
            raise ValueError(
                f"without SLAMON_INGEST_TOKENS the service listens on {LOOPBACK} only, not {self.host!r}"
            )
        return self

    @property
    def token_list(self) -> list[bytes]:
        if self.tokens is None:
            return []
        return [t.strip().encode() for t in self.tokens.get_secret_value().split(",") if t.strip()]

    @property
    def selector(self) -> Selector:
        return parse_selector(self.alert_selector)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
