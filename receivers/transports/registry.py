"""The channel registry: receiver kind -> its Transport class, and what each channel declares.

Everything that differs per channel (its settings, parts, limits, default
templates, Alertmanager import) is declared on the channel's class; every
other module asks here, so adding a channel is its module, its templates and
one `channel_register` call in receivers/transports/__init__.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from receivers.template_context import LANGUAGES

if TYPE_CHECKING:
    from receivers.transports.alertmanager import AlertmanagerMapping
    from receivers.transports.base import PartLimit, Transport

# Kept in registration order: it is the order of the admin's chooser and of
# the Receiver.kind choices.
TRANSPORTS: dict[str, type[Transport]] = {}


def channel_declaration_problems(transport: type[Transport]) -> list[str]:
    """What a channel class leaves undeclared or contradicts; empty when it is complete."""
    name = transport.__name__
    problems = [
        f"{name} declares no {attribute}"
        for attribute in ("kind", "label", "settings_class")
        if not getattr(transport, attribute, None)
    ]
    if problems:
        return problems
    parts = set(transport.parts)
    problems += [f"{name}: HTML part {p!r} is not one of its parts"
                 for p in sorted(transport.html_parts - parts)]
    problems += [f"{name}: the limit of {p!r} is for no part of it"
                 for p in sorted(set(transport.part_limits) - parts)]
    problems += [
        f"{name}: no default template {path}"
        for language in LANGUAGES
        for part in transport.parts
        if not (path := transport.templates_dir / transport.kind / language / f"{part}.j2")
        .is_file()
    ]
    for mapping in transport.alertmanager:
        if not mapping.key.endswith("_configs"):
            problems.append(f"{name}: {mapping.key!r} is not an Alertmanager *_configs key")
        owner = alertmanager_mappings().get(mapping.key)
        if owner and owner[0] != transport.kind:
            problems.append(f"{name}: {mapping.key} already imports as {owner[0]}")
    return problems


def channel_register(transport: type[Transport]) -> type[Transport]:
    """Add a channel (usable as a class decorator); refused when its declarations are not whole."""
    if transport.kind in TRANSPORTS and TRANSPORTS[transport.kind] is not transport:
        raise ValueError(f"the receiver kind {transport.kind!r} is already registered")
    if problems := channel_declaration_problems(transport):
        raise ValueError("; ".join(problems))
    TRANSPORTS[transport.kind] = transport
    return transport


def channel_unregister(kind: str) -> None:
    TRANSPORTS.pop(kind, None)


@contextmanager
def channel_registered(transport: type[Transport]) -> Iterator[type[Transport]]:
    """A channel registered for the duration of the block (tests, plugins tried out)."""
    channel_register(transport)
    try:
        yield transport
    finally:
        channel_unregister(transport.kind)


def transport_class(kind: str) -> type[Transport]:
    return TRANSPORTS[kind]


def channel_kinds() -> tuple[str, ...]:
    return tuple(TRANSPORTS)


def channel_choices() -> list[tuple[str, str]]:
    """(kind, label) of every channel, for choosers."""
    return [(kind, transport.label) for kind, transport in TRANSPORTS.items()]


# How the admin names the contact kinds that are not a channel's own kind.
CONTACT_KIND_LABELS = {"sms": "SMS", "voice": "Voice call"}


def contact_kind_choices() -> list[tuple[str, str]]:
    """(kind, label) of the kinds a person's contact method may be of: every kind some
    registered channel carries (Transport.contact_kinds), in registration order."""
    choices: dict[str, str] = {}
    for transport in TRANSPORTS.values():
        for kind in transport.contact_kinds:
            label = CONTACT_KIND_LABELS.get(kind) or (
                transport.label if kind == transport.kind else kind
            )
            choices.setdefault(kind, label)
    return list(choices.items())


def contact_kind_transports(contact_kind: str) -> tuple[type[Transport], ...]:
    """The channels that carry a contact kind ("sms": Twilio, AWS SNS)."""
    return tuple(t for t in TRANSPORTS.values() if contact_kind in t.contact_kinds)


def contact_kind_channels(contact_kind: str) -> tuple[str, ...]:
    """The receiver kinds that carry a contact kind."""
    return tuple(t.kind for t in contact_kind_transports(contact_kind))


def contact_address_transport(contact_kind: str) -> type[Transport]:
    """The channel that cleans addresses of a contact kind (the first that carries it:
    every carrier of a kind accepts the same addresses). KeyError when none does."""
    carriers = contact_kind_transports(contact_kind)
    if not carriers:
        raise KeyError(contact_kind)
    return carriers[0]


def templated_channel_choices() -> list[tuple[str, str]]:
    """(kind, label) of every channel rendered from parts, for template choosers."""
    return [(kind, transport.label) for kind, transport in TRANSPORTS.items() if transport.parts]


def templated_kinds() -> tuple[str, ...]:
    """The channels whose messages are rendered from parts (the webhook sends JSON)."""
    return tuple(kind for kind, transport in TRANSPORTS.items() if transport.parts)


def channel_parts(kind: str) -> tuple[str, ...]:
    """The parts a channel renders, in the order its payload uses them; () when none or unknown."""
    transport = TRANSPORTS.get(kind)
    return transport.parts if transport else ()


def part_is_html(kind: str, part: str) -> bool:
    """Whether the part's output is HTML (values are escaped unless marked safe)."""
    transport = TRANSPORTS.get(kind)
    return bool(transport) and part in transport.html_parts


def part_limit(kind: str, part: str) -> PartLimit | None:
    """What the vendor shows of a rendered part, if it says."""
    transport = TRANSPORTS.get(kind)
    return transport.part_limits.get(part) if transport else None


def alertmanager_mappings() -> dict[str, tuple[str, AlertmanagerMapping]]:
    """Alertmanager key (`slack_configs`) -> (the kind it imports as, how)."""
    return {
        mapping.key: (kind, mapping)
        for kind, transport in TRANSPORTS.items()
        for mapping in transport.alertmanager
    }
