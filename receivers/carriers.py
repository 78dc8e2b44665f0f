"""Which receiver carries a page to a person's address: by contact kind and country prefix.

Several receivers may carry one contact kind (a Twilio account for +49, SNS
for everything else). Each carrier either lists E.164 `country_prefixes` in
its settings, or lists none and is the kind's default. A number goes to the
carrier with the longest prefix it starts with, else to the default; an email
address (no prefixes anywhere) to the kind's one carrier.

`carrier_choose` and `carrier_conflicts` are pure; `page_carrier_for` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from receivers.models import Receiver
from receivers.phone.numbers import longest_prefix
from receivers.transports.registry import TRANSPORTS, contact_kind_channels


class _CarrierLike(Protocol):
    id: int | None
    name: str
    kind: str
    config: Mapping[str, Any]


C = TypeVar("C", bound=_CarrierLike)


def carrier_prefixes(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The carrier's country prefixes as stored (its settings check them on save)."""
    prefixes = config.get("country_prefixes") if isinstance(config, Mapping) else None
    if not isinstance(prefixes, list):
        return ()
    return tuple(str(prefix).strip() for prefix in prefixes if str(prefix).strip())


def carrier_choose(carriers: Sequence[C], *, address: str) -> C | None:
    """The carrier of `address` among a kind's carriers: longest prefix, else the default.

    A carrier without prefixes is a default; of two (never saved so), the first wins.
    """
    by_prefix: dict[str, C] = {}
    default = None
    for carrier in carriers:
        prefixes = carrier_prefixes(carrier.config)
        if not prefixes and default is None:
            default = carrier
        for prefix in prefixes:
            by_prefix.setdefault(prefix, carrier)
    prefix = longest_prefix(address, by_prefix)
    return by_prefix[prefix] if prefix is not None else default


@dataclass(frozen=True)
class CarrierConflict:
    name: str  # the receiver at fault (the later one)
    setting: str  # "carries_pages" or "country_prefixes"
    message: str


@dataclass(frozen=True)
class CarrierEntry:
    """A receiver that carries pages, as the conflict check sees it (a row or a file's spec)."""

    name: str
    kind: str
    config: Mapping[str, Any]


def carrier_conflicts(carriers: Iterable[CarrierEntry]) -> list[CarrierConflict]:
    """Two defaults for one contact kind, or one prefix claimed twice: each one named.

    `carriers`: the receivers that carry pages, in order; the later one is at fault.
    """
    conflicts: list[CarrierConflict] = []
    defaults: dict[str, str] = {}
    prefixes: dict[tuple[str, str], str] = {}
    for carrier in carriers:
        transport = TRANSPORTS.get(carrier.kind)
        if transport is None:
            continue
        own = carrier_prefixes(carrier.config)
        for contact_kind in transport.contact_kinds:
            if not own:
                first = defaults.setdefault(contact_kind, carrier.name)
                if first != carrier.name:
                    conflicts.append(CarrierConflict(carrier.name, "carries_pages", (
                        f"{first!r} already carries the {contact_kind} pages of every "
                        "number no prefix claims: give one of them country_prefixes"
                        if contact_kind in ("sms", "voice") else
                        f"{first!r} carries the {contact_kind} pages already (one per kind)"
                    )))
            for prefix in own:
                first = prefixes.setdefault((contact_kind, prefix), carrier.name)
                if first != carrier.name:
                    conflicts.append(CarrierConflict(carrier.name, "country_prefixes", (
                        f"{prefix} is claimed twice for {contact_kind} pages "
                        f"({first!r} claims it already)"
                    )))
    unique: list[CarrierConflict] = []
    for conflict in conflicts:
        if conflict not in unique:
            unique.append(conflict)
    return unique


def page_carriers(*, contact_kind: str | None = None) -> list[Receiver]:
    """The enabled receivers that carry pages (of a contact kind), in id order."""
    carriers = Receiver.objects.filter(carries_pages=True, enabled=True).order_by("id")
    if contact_kind is not None:
        carriers = carriers.filter(kind__in=contact_kind_channels(contact_kind))
    return list(carriers)


def page_carrier_for(*, contact_kind: str, address: str) -> Receiver | None:
    """The enabled receiver that carries a page of `contact_kind` to `address`, if any."""
    return carrier_choose(page_carriers(contact_kind=contact_kind), address=address)
