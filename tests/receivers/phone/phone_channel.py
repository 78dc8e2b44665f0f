"""A phone channel for the shared half's tests: SMS and calls posted as JSON to a local server.

Registered for a test with `loopback_phone` (receivers' plugin registry), so
carriers by prefix, codes and limits are tested through the registry, the
settings every phone provider shares and real HTTP, independently of any
one provider's API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import Field

from receivers.messages import AlertMessage
from receivers.phone.numbers import phone_number_clean
from receivers.phone.settings import PhoneCarrierSettings
from receivers.transports.base import SendResult, Transport
from receivers.transports.registry import channel_registered
from receivers.transports.settings import HttpUrl


class LoopbackPhoneSettings(PhoneCarrierSettings):
    url: HttpUrl = Field(description="Where the SMS and calls are posted.")
    to: str = ""
    mode: str = "sms"


class LoopbackPhoneTransport(Transport):
    kind = "loopphone"
    label = "Loopback phone"
    settings_class = LoopbackPhoneSettings
    contact_kinds = ("sms", "voice")

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        return phone_number_clean(address)

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        return {**config, "to": address}

    @classmethod
    def page_config(cls, config, *, contact_kind: str, address: str) -> dict[str, Any]:
        return {**super().page_config(config, contact_kind=contact_kind, address=address),
                "mode": contact_kind}

    def send(self, message: AlertMessage) -> SendResult:
        self.post(self.settings.url, json={"to": self.settings.to, "mode": self.settings.mode,
                                           "text": message.common_labels.get("alertname", "")})
        return SendResult(http_status=200)

    def verification_send(self, *, address: str, text: str) -> None:
        self.post(self.settings.url, json={"to": address, "mode": self.settings.mode,
                                           "text": text})


@pytest.fixture
def loopback_phone() -> Iterator[type[LoopbackPhoneTransport]]:
    with channel_registered(LoopbackPhoneTransport) as transport:
        yield transport
