"""The settings every phone provider's receiver shares: its country prefixes and prices.

A provider's settings class (Twilio's, SNS's) subclasses `PhoneCarrierSettings`.
`country_prefixes` are E.164 prefixes ("+49", "+1") of the numbers this
receiver carries; none makes it the default for numbers no other carrier
claims (receivers.carriers). Prices are in the tenant's currency, the one its
monthly phone spend ceiling is written in (receivers.delivery.phone_limits).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from receivers.phone.numbers import country_prefix_clean
from receivers.transports.settings import ChannelSettings

MAX_PREFIXES = 50
# A price above this per message is a typo (a price in cents written as units).
MAX_PRICE = Decimal("100")


class PhoneCarrierSettings(ChannelSettings):
    country_prefixes: list[str] = Field(
        default_factory=list, max_length=MAX_PREFIXES,
        description="E.164 prefixes this receiver carries (+49, +1); none: the default.",
    )
    price_per_sms: Decimal = Field(
        Decimal("0"), ge=0, le=MAX_PRICE, decimal_places=4,
        description="What one SMS costs, for the tenant's monthly spend ceiling.",
    )
    price_per_call: Decimal = Field(
        Decimal("0"), ge=0, le=MAX_PRICE, decimal_places=4,
        description="What one call costs, for the tenant's monthly spend ceiling.",
    )

    @field_validator("country_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        cleaned = [country_prefix_clean(prefix) for prefix in value]
        twice = sorted({prefix for prefix in cleaned if cleaned.count(prefix) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice")
        return cleaned
