"""Kafka TLS and SASL settings, passed through to faust and to the aiokafka clients alike."""

from __future__ import annotations

import ssl
from typing import Any

from monitor.settings import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying TLS context (system CAs, or ``broker_ca_file``), with a client certificate
    when ``broker_cert_file`` is set; None for plaintext listeners."""
    if settings.broker_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.broker_ca_file) if settings.broker_ca_file else None
    )
    if settings.broker_cert_file is not None:
        key = str(settings.broker_key_file) if settings.broker_key_file else None
        context.load_cert_chain(str(settings.broker_cert_file), key)
    return context


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaAdminClient / AIOKafkaConsumer."""
    options: dict[str, Any] = {"security_protocol": settings.broker_security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.broker_security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.broker_sasl_mechanism,
            "sasl_plain_username": settings.broker_username,
            "sasl_plain_password": _password(settings),
        }
    return options


def faust_credentials(settings: Settings) -> Any:
    """faust's ``broker_credentials``: SASL (over TLS or not), TLS only, or None."""
    import faust

    context = ssl_context(settings)
    protocol = settings.broker_security_protocol
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.broker_username,
            password=_password(settings),
            ssl_context=context,
            mechanism=settings.broker_sasl_mechanism,  # over TLS when there is a context (SASL_SSL)
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _password(settings: Settings) -> str | None:
    return settings.broker_password.get_secret_value() if settings.broker_password is not None else None
