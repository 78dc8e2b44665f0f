"""What every transport shares: the error type, the response check, the base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from receivers.messages import AlertMessage


class TransportError(Exception):
    """A failed send. `permanent` failures are not retried."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.http_status = http_status
        self.retry_after = retry_after


@dataclass(frozen=True)
class SendResult:
    http_status: int | None = None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header in its delta-seconds form."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Transport(ABC):
    """One channel. Subclasses build the vendor's payload (pure) and send it."""

    kind: ClassVar[str]

    def __init__(self, *, config: dict[str, Any], secrets: dict[str, str], allow_private: bool):
        self.config = config
        self.secrets = secrets
        self.allow_private = allow_private

    @abstractmethod
    def send(self, message: AlertMessage) -> SendResult:
        """Deliver the message, or raise TransportError."""

    def raise_for_response(self, response: requests.Response) -> None:
        """Turn a vendor's answer into success or a TransportError.

        Timeouts, 429 and 5xx are worth retrying; any other 4xx will fail the
        same way again. Override for vendors that answer errors differently.
        """
        if 200 <= response.status_code < 300:
            return
        retryable = response.status_code == 429 or response.status_code >= 500
        raise TransportError(
            f"HTTP {response.status_code}: {response.text[:300]}",
            permanent=not retryable,
            http_status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
