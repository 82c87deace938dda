"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

A secret is ``whsec_<base64>``; the HMAC key is the decoded part. Nothing here logs or puts a
secret into an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


class SecretFormatError(ValueError):
    """A secret that is not ``whsec_<base64>`` (the message never contains the secret)."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(f"a webhook secret must look like '{SECRET_PREFIX}<base64>'")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SecretFormatError(f"the part after '{SECRET_PREFIX}' is not valid base64") from error
    if len(key) < 16:
        raise SecretFormatError("a webhook secret must hold at least 16 bytes (24 base64 characters)")
    return key


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    digest = _digest(secret_key(secret), msg_id, int(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    msg_id: str,
    timestamp: int | str,
    body: bytes,
    signatures: str,
    *,
    tolerance: float | None = None,
    now: float | None = None,
) -> bool:
    """True if any of the space-separated ``v1,<base64>`` signatures matches (constant-time
    comparison); with ``tolerance`` (seconds) the timestamp must also be that close to ``now``."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if tolerance is not None and abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = _digest(secret_key(secret), msg_id, stamp, body)
    matched = False
    for candidate in signatures.split():
        version, _, encoded = candidate.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        matched |= hmac.compare_digest(expected, given)
    return matched
