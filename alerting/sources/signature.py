"""HMAC-SHA256 request signatures, as Grafana's webhook contact point signs its body.

Grafana sends the hex HMAC-SHA256 of the body under the secret in a header
(X-Grafana-Alerting-Signature by default). With a timestamp header set, it
signs "<timestamp>:<body>" and sends the Unix timestamp too: then a request
older (or newer) than the replay window is refused, so a captured request
cannot be replayed later. Within the window a replay changes nothing, as
ingest is idempotent by fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

DEFAULT_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
DEFAULT_REPLAY_WINDOW_SECONDS = 300
MAX_SIGNATURE_CHARS = 200


class SignatureRefused(Exception):
    """The request's signature does not hold; the message says which part, never the secret."""


def hmac_hex(*, secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _given(header: str) -> str:
    value = header.strip()
    # Some senders write "sha256=<hex>", as GitHub does.
    return value.removeprefix("sha256=").lower()[:MAX_SIGNATURE_CHARS]


def signature_check(
    *,
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    signature_header: str = DEFAULT_SIGNATURE_HEADER,
    timestamp_header: str = "",
    replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
    now: float,
) -> None:
    """Raises SignatureRefused unless `headers` carry a good signature of `body`."""
    given = headers.get(signature_header)
    if not given:
        raise SignatureRefused(f"The {signature_header} header is required for this source.")
    message = body
    if timestamp_header:
        stamp = (headers.get(timestamp_header) or "").strip()
        if not stamp:
            raise SignatureRefused(f"The {timestamp_header} header is required for this source.")
        try:
            sent = int(stamp[:20])
        except ValueError:
            raise SignatureRefused(
                f"The {timestamp_header} header must be a Unix time in seconds."
            ) from None
        if abs(now - sent) > replay_window_seconds:
            raise SignatureRefused(
                f"The {timestamp_header} header is more than {replay_window_seconds} s "
                "from Herald's clock: a stale or replayed request."
            )
        message = stamp.encode() + b":" + body
    expected = hmac_hex(secret=secret, message=message)
    if not hmac.compare_digest(expected.encode(), _given(given).encode()):
        raise SignatureRefused(f"The {signature_header} header does not match the body.")
