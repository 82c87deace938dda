"""Settings of the worker and the tools: flags or ``SLAMON_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.durations import Duration, parse_duration

DEFAULT_CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"


class Topics(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLAMON_TOPIC_", extra="forbid")

    uptime: str = "sla.uptime"
    maintenance: str = "sla.maintenance"
    tickets: str = "sla.tickets"
    requests: str = "sla.requests"
    results: str = "sla.results"
    deadletter: str = "sla.deadletter"
    notices: str = "sla.notices"

    def inputs(self) -> list[str]:
        return [self.uptime, self.maintenance, self.requests, self.tickets]

    def all(self) -> list[str]:
        return [*self.inputs(), self.results, self.deadletter, self.notices]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLAMON_", extra="forbid")

    broker: str = Field("kafka://127.0.0.1:9092", description="kafka://host:port[,host:port]")
    broker_kind: Literal["kafka", "dev"] = Field(
        "kafka", description="'dev' applies the bundled broker's quirks (one record per batch)"
    )
    contracts: Path = DEFAULT_CONTRACTS
    database: str = "sqlite:///slamon.db"
    allowed_lateness: Duration = timedelta(hours=1)
    idle_timeout: Duration = timedelta(minutes=5)
    max_future_skew: Duration = Field(
        timedelta(hours=1), description="inputs further ahead of the wall clock are refused"
    )
    partitions: int = Field(4, ge=1, le=1024)
    replication: int = Field(1, ge=1, le=16, description="replication factor of the topics faust creates")
    app_id: str = Field("slamon", pattern=r"^[A-Za-z0-9._-]+$")
    data_dir: Path = Path(".slamon")
    web_port: int = Field(0, ge=0, le=65535, description="faust's web views on 127.0.0.1 (0 = off)")
    web_token: SecretStr | None = Field(None, description="bearer token required by faust's web views")
    metrics_port: int = Field(9464, ge=0, le=65535, description="Prometheus /metrics port; 0 turns it off")
    metrics_host: str = Field("127.0.0.1", description="address /metrics listens on (0.0.0.0 in a container)")
    at_risk_budget_percent: Decimal = Field(
        Decimal(75), ge=0, le=100, description="share of the error budget used at which sla.at_risk fires"
    )
    subscriptions: Path | None = Field(None, description="webhook subscriptions YAML file")
    webhook_retry_schedule: str = Field(
        "5s,5m,30m,2h,5h,10h,14h,20h,24h", description="waits after the 1st, 2nd, ... failed delivery"
    )
    webhook_max_age: Duration | None = Field(None, description="a delivery failing past this is dead")

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        steps = [part.strip() for part in value.split(",") if part.strip()]
        if not steps:
            raise ValueError("needs at least one wait, e.g. 5s,5m,30m")
        for step in steps:
            parse_duration(step)  # raises ValueError naming the bad step
        return ",".join(steps)

    @property
    def retry_waits_seconds(self) -> tuple[float, ...]:
        return tuple(parse_duration(step).total_seconds() for step in self.webhook_retry_schedule.split(","))

    topics: Topics = Field(default_factory=Topics)
    # Kafka TLS / SASL (Apache Kafka in production; the bundled broker is plaintext only)
    broker_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    broker_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    broker_username: str | None = None
    broker_password: SecretStr | None = None
    broker_ca_file: Path | None = Field(None, description="CA bundle for the brokers' certificates")
    broker_cert_file: Path | None = Field(None, description="client certificate (mutual TLS)")
    broker_key_file: Path | None = None

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Settings:
        if self.broker_security_protocol.startswith("SASL") and not (
            self.broker_username and self.broker_password
        ):
            raise ValueError("SASL needs SLAMON_BROKER_USERNAME and SLAMON_BROKER_PASSWORD")
        return self

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        hosts = value.removeprefix("kafka://")
        if not value.startswith("kafka://") or not hosts or any(":" not in h for h in hosts.split(",")):
            raise ValueError(f"broker must look like kafka://host:port[,host:port], got {value!r}")
        return value

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError(f"not a database URL: {value!r} ({error})") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"database must be sqlite:/// or postgresql://, got {url.get_backend_name()!r}")
        return value

    @field_validator("allowed_lateness", "idle_timeout", "max_future_skew")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @property
    def bootstrap(self) -> str:
        return self.broker.removeprefix("kafka://")
