"""Settings come from flags and SLAMON_* variables; a wrong one stops the command with its name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.cli import main
from monitor.settings import Settings


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--broker", "localhost:9092"], "broker"),
        (["--database", "mysql://x/y"], "database"),
        (["--idle-timeout", "soon"], "idle_timeout"),
        (["--partitions", "0"], "partitions"),
        (["--broker-kind", "redpanda"], "broker_kind"),
    ],
)
def test_a_wrong_flag_fails_at_start_naming_the_setting(flags, named, capsys) -> None:
    assert main(["worker", *flags]) == 2
    error = capsys.readouterr().err
    assert "invalid setting" in error and named in error
    assert "Traceback" not in error


def test_a_wrong_environment_variable_fails_the_same_way(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SLAMON_ALLOWED_LATENESS", "-PT1H")
    assert main(["results"]) == 2
    assert "allowed_lateness" in capsys.readouterr().err


def test_flags_override_environment_and_defaults(monkeypatch) -> None:
    monkeypatch.setenv("SLAMON_IDLE_TIMEOUT", "30s")
    monkeypatch.setenv("SLAMON_TOPIC_TICKETS", "acme.tickets")
    settings = Settings(idle_timeout="2m")
    assert settings.idle_timeout == timedelta(minutes=2)
    assert settings.allowed_lateness == timedelta(hours=1)
    assert settings.topics.tickets == "acme.tickets"
    assert settings.bootstrap == "127.0.0.1:9092"


def test_kafka_tls_and_sasl_settings_reach_faust_and_aiokafka(monkeypatch: pytest.MonkeyPatch) -> None:
    import faust

    from monitor.kafka_security import aiokafka_options, faust_credentials

    monkeypatch.setenv("SLAMON_BROKER_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("SLAMON_BROKER_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("SLAMON_BROKER_USERNAME", "slamon")
    monkeypatch.setenv("SLAMON_BROKER_PASSWORD", "s3cret-value")
    settings = Settings()
    options = aiokafka_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_password"] == "s3cret-value"
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials) and credentials.ssl_context is not None
    assert "s3cret-value" not in repr(settings)


def test_sasl_without_a_password_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLAMON_BROKER_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValueError, match="SLAMON_BROKER_PASSWORD"):
        Settings()


def test_plaintext_passes_no_credentials() -> None:
    from monitor.kafka_security import aiokafka_options, faust_credentials

    assert aiokafka_options(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Settings()) is None
