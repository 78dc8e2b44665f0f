"""The one error a transport raises, and how vendors say "later"."""

from __future__ import annotations

from typing import Any


class TransportError(Exception):
    """A failed send. `permanent` failures are not retried.

    The message is stored with the notification and shown to people: it
    never contains a URL or any other secret.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        http_status: int | None = None,
        retry_after: float | None = None,
        config_update: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.http_status = http_status
        self.retry_after = retry_after
        # Settings the vendor told us to change (Telegram's migrate_to_chat_id):
        # the delivery service stores them before the retry.
        self.config_update = config_update


def parse_retry_after(value: str | float | None) -> float | None:
    """Seconds from a Retry-After header in its delta-seconds form."""
    if value is None or value == "":
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
