"""Slack's request signature, v0 (pure).

Slack signs `v0:<X-Slack-Request-Timestamp>:<raw body>` with HMAC-SHA256
keyed by the app's signing secret and sends `v0=<hex>` as X-Slack-Signature.
The timestamp is signed, so a request more than five minutes away from now
is refused: a captured request cannot be replayed later (and one replayed
within the window is caught by replay.py).
"""

from __future__ import annotations

import hashlib
import hmac

MAX_AGE_SECONDS = 300
_PREFIX = "v0="
# A hex SHA-256 after "v0=": anything longer is not a signature.
_SIGNATURE_LENGTH = len(_PREFIX) + 64


class SignatureRefused(Exception):
    """The request is not the app's, or not now; the message says which, for the log."""


def slack_signature(*, signing_secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature Slack would send for this body at this timestamp."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def slack_signature_check(
    *, signing_secret: str, timestamp: str, signature: str, body: bytes, now: float
) -> None:
    """Raise SignatureRefused unless the signature is the app's and the timestamp is recent."""
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused("no valid X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        raise SignatureRefused("the request's timestamp is more than 5 minutes away")
    if not signature.startswith(_PREFIX) or len(signature) != _SIGNATURE_LENGTH:
        raise SignatureRefused("no valid X-Slack-Signature")
    expected = slack_signature(signing_secret=signing_secret, timestamp=timestamp, body=body)
    # Constant time: the comparison tells nothing of how much of a forgery was right.
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        raise SignatureRefused("the signature does not match")
