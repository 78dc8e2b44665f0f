"""Transports by receiver kind."""

from receivers.transports.base import SendResult, Transport, TransportError
from receivers.transports.webhook import WebhookTransport

TRANSPORTS: dict[str, type[Transport]] = {
    transport.kind: transport for transport in (WebhookTransport,)
}


def transport_class(kind: str) -> type[Transport]:
    return TRANSPORTS[kind]


__all__ = ["TRANSPORTS", "SendResult", "Transport", "TransportError", "transport_class"]
