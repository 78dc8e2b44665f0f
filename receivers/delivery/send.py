"""One send of a notification through its receiver's transport.

Preparing a send reads the database (templates, the tenant's signing key);
the prepared send itself is pure I/O, so a batch can run its sends in other
threads (receivers.delivery.threads). A batch prepares every send with one
`Sends`, which reads each channel's templates and builds each receiver's
transport once. A person's page goes through the carrier receiver's
transport addressed to the person (`Transport.addressed_to`), and its
acknowledge link names the person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection
from django.utils import timezone, translation

from alerting.encryption import SecretUnreadable
from alerting.fields import encrypted_value_readable
from alerting.infra.log_context import notification_log_context
from escalation.links import acknowledge_url, message_actions, person_recipient
from receivers.delivery.digest import digest_text
from receivers.delivery.rules import is_page
from receivers.delivery.ticket_lock import ticket_lock
from receivers.messages import AlertMessage, alert_message_for, message_group_state
from receivers.models import Notification
from receivers.redaction import secrets_scrub
from receivers.selectors import message_template_sources
from receivers.template_limits import TemplateError
from receivers.transports import Transport, TransportError, transport_class
from receivers.transports.base import render_problems_collected

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    """What one send did; `error` is empty on success and never holds a secret."""

    http_status: int | None = None
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None
    # Settings the vendor told us to change (a Telegram group became a supergroup).
    config_update: dict[str, Any] | None = None
    started_at: datetime | None = None
    duration: float = 0.0
    # What went wrong with the tenant's templates; the defaults were sent instead.
    template_problems: tuple[str, ...] = ()
    # The vendor's name for the message it made (SendResult.vendor_ref).
    vendor_ref: dict[str, str] | None = None

    @property
    def note(self) -> str:
        """The error, or on success what the recipient got instead of the tenant's template."""
        return self.error or "; ".join(self.template_problems)

    @property
    def outage(self) -> bool:
        """Does this failure say the receiver is down (counts for its circuit)?

        A 429 is the vendor pacing us (its Retry-After is honoured), and a
        permanent failure is this message's or this receiver's settings' fault.
        """
        return bool(self.error) and not self.permanent and self.http_status != 429


@dataclass(frozen=True)
class Send:
    """A prepared send: `run` it once, in any thread."""

    receiver_id: int | None
    run: Callable[[], SendOutcome]


def _link_recipient(notification: Notification) -> tuple[str, str]:
    """Who the notification's link is for, and by which channel when it is a person's page."""
    if not is_page(notification):
        return (notification.receiver.name if notification.receiver else "", "")
    # One read for a page (rare beside the channel messages): its person.
    person_id = notification.page.person_id if notification.page_id else None
    if person_id is None:  # the page's person was deleted: the address it went to
        return (f"contact:{notification.recipient_address}"[:150], notification.channel)
    return (person_recipient(person_id), notification.channel)


def notification_message(notification: Notification, *, language: str = "en") -> AlertMessage:
    """The message a notification carries, with its acknowledge link and action buttons.

    A firing message offers the actions that still make sense for its group
    now (escalation.links.message_actions), its links naming who it went to,
    as the acknowledge link does; an update passed on to a channel that edits
    its message in place carries them too, so the edit shows the right buttons.
    """
    tenant = connection.tenant
    firing = notification.status == "firing" and not notification.is_digest
    wants_link = firing and not notification.acknowledgement
    recipient, channel = _link_recipient(notification) if firing else ("", "")
    group = notification.alert_group
    # The incident the notification is about, and who it goes to.
    incident = notification.incident or group.incident
    with translation.override(language):  # the buttons' labels, in the message's language
        actions = (
            message_actions(
                tenant=tenant, alert_group_id=group.id, incident=incident,
                state=message_group_state(group), recipient=recipient, channel=channel,
            )
            if firing and incident == group.incident
            else ()
        )
    message = alert_message_for(
        notification,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        acknowledge_url=acknowledge_url(
            tenant=tenant,
            alert_group_id=notification.alert_group_id,
            incident=group.incident,
            recipient=recipient,
            channel=channel,
        )
        if wants_link
        else "",
        actions=actions,
    )
    if not notification.is_digest:
        return message
    text = digest_text(
        alerts=notification.alerts, since=notification.created_at, now=timezone.now(),
        language=language,
    )
    # Its own group key: vendors that deduplicate (PagerDuty, Opsgenie) keep
    # each digest apart from the groups it summarises.
    return replace(
        message,
        group_key=f"herald-digest/{notification.id}",
        group_labels={"alertname": "HeraldDigest"},
        common_labels={"alertname": "HeraldDigest"},
        common_annotations={"summary": text, "description": text},
    )


class Sends:
    """Prepares the sends of one tenant's notifications (in the thread that holds the tenant)."""

    def __init__(
        self, *, templates: Callable[[str], dict[tuple[str, str], str]] | None = None
    ) -> None:
        # The tenant's template overrides for a channel; read here unless given.
        self._templates_of = templates or (
            lambda channel: message_template_sources(channel=channel)
        )
        self._templates: dict[str, dict[tuple[str, str], str]] = {}
        # By receiver id, and (receiver id, address, contact kind) for people's pages.
        self._transports: dict[int | tuple[int, str, str], Transport | SendOutcome] = {}

    def prepare(self, notification: Notification) -> Send:
        """A send to run once, in any thread; it touches no database."""
        receiver = notification.receiver
        if receiver is None or not receiver.enabled:
            return _known(
                None, SendOutcome(error="the receiver was deleted or disabled", permanent=True)
            )
        transport = self._transport(notification)
        if isinstance(transport, SendOutcome):
            return _known(receiver.id, transport)
        try:
            message = notification_message(notification, language=transport.settings.language)
        except SecretUnreadable:
            # The tenant's link signing key: a key dropped too early, as above.
            return _known(receiver.id, SendOutcome(
                error="the tenant's link signing key cannot be decrypted with the configured keys"
            ))
        secrets = receiver.secrets
        label = f"notification {notification.id} to receiver {receiver.name!r}"
        lock = nullcontext
        if transport.needs_ticket_lock:  # one ticket per incident: its sends one at a time
            lock = partial(
                ticket_lock, receiver_id=receiver.id, alert_group_id=message.alert_group_id,
                incident=message.incident, schema=connection.schema_name,
            )
        return Send(
            receiver.id,
            lambda: _send(transport, message, secrets=secrets, label=label, lock=lock),
        )

    def _transport(self, notification: Notification) -> Transport | SendOutcome:
        receiver = notification.receiver
        if is_page(notification):
            key = (receiver.id, notification.recipient_address, notification.contact_kind)
            if key not in self._transports:
                self._transports[key] = self._build(
                    receiver, address=notification.recipient_address,
                    contact_kind=notification.contact_kind,
                )
            return self._transports[key]
        if receiver.id not in self._transports:
            self._transports[receiver.id] = self._build(receiver)
        return self._transports[receiver.id]

    def _build(
        self, receiver, *, address: str | None = None, contact_kind: str = ""
    ) -> Transport | SendOutcome:
        """The receiver's transport; with `address`, sending to that person instead."""
        if not encrypted_value_readable(receiver, "secrets"):
            # A key was dropped from HERALD_ENCRYPTION_KEYS too early (or
            # never given). Putting it back makes the retries succeed.
            return SendOutcome(
                error="the receiver's secrets cannot be decrypted with the configured keys"
            )
        if receiver.kind not in self._templates:
            self._templates[receiver.kind] = self._templates_of(receiver.kind)
        config = receiver.config
        if address is not None:
            kind = transport_class(receiver.kind)
            if not receiver.carries_pages or not kind.pages_people:
                return SendOutcome(
                    error=f"the receiver {receiver.name!r} no longer carries "
                    f"{kind.label} pages to people",
                    permanent=True,
                )
            try:
                config = kind.page_config(  # a page written before contact kinds: its own
                    receiver.config, contact_kind=contact_kind or receiver.kind, address=address
                )
            except ValueError as exc:
                return SendOutcome(error=f"the person's address is not usable: {exc}"[:300],
                                   permanent=True)
        try:
            return transport_class(receiver.kind)(
                config=config,
                secrets=receiver.secrets,
                allow_private=connection.tenant.allow_private_targets,
                templates=self._templates[receiver.kind],
            )
        except TransportError as exc:
            error = secrets_scrub(exc.message, receiver.secrets)
            logger.warning("receiver %r cannot send: %s", receiver.name, error)
            return SendOutcome(error=error, permanent=exc.permanent)


def _known(receiver_id: int | None, outcome: SendOutcome) -> Send:
    return Send(receiver_id, lambda: replace(outcome, started_at=timezone.now()))


def _send(
    transport: Transport, message: AlertMessage, *, secrets: Any, label: str,
    lock: Callable[[], AbstractContextManager] = nullcontext,
) -> SendOutcome:
    """Send once. Any secret of the receiver that the vendor echoed back is masked."""
    with notification_log_context(message.notification_id):
        return _send_once(transport, message, secrets=secrets, label=label, lock=lock)


def _send_once(
    transport: Transport, message: AlertMessage, *, secrets: Any, label: str,
    lock: Callable[[], AbstractContextManager],
) -> SendOutcome:
    started_at = timezone.now()
    clock = time.perf_counter()
    try:
        # What Herald adds to the message (state lines, buttons) in the receiver's language.
        with render_problems_collected() as problems, lock(), translation.override(
            transport.settings.language
        ):
            result = transport.send(message)
    except TransportError as exc:
        error = secrets_scrub(exc.message, secrets)
        logger.warning(
            "%s failed (%s): %s", label, "permanent" if exc.permanent else "will retry", error
        )
        return SendOutcome(
            http_status=exc.http_status,
            error=error,
            permanent=exc.permanent,
            retry_after=exc.retry_after,
            config_update=exc.config_update or None,
            started_at=started_at,
            duration=time.perf_counter() - clock,
        )
    except TemplateError as exc:
        error = secrets_scrub(f"template error: {exc}", secrets)
        logger.warning("%s: %s", label, error)
        return SendOutcome(
            error=error, permanent=True, started_at=started_at, duration=time.perf_counter() - clock
        )
    return SendOutcome(
        http_status=result.http_status,
        vendor_ref=_vendor_ref(result.vendor_ref),
        started_at=started_at,
        duration=time.perf_counter() - clock,
        template_problems=tuple(secrets_scrub(problem, secrets) for problem in problems),
    )


# A vendor's reference is a few short ids; anything bigger is not kept.
_VENDOR_REF_ENTRIES = 8
_VENDOR_REF_CHARACTERS = 200


def _vendor_ref(ref) -> dict[str, str] | None:
    """The vendor's reference as stored: a few short strings, or None."""
    if not ref:
        return None
    return {
        str(key)[:64]: str(value)[:_VENDOR_REF_CHARACTERS]
        for key, value in list(ref.items())[:_VENDOR_REF_ENTRIES]
        if value is not None
    } or None
