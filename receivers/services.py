"""Writes: notifications (outbox, delivery, sweep), receivers, their secrets, templates."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerting.models import AlertGroup
from escalation.links import acknowledge_url
from receivers.backoff import retry_delay_seconds
from receivers.messages import alert_message_for
from receivers.models import (
    AttemptOutcome,
    DeliveryAttempt,
    MessageTemplate,
    Notification,
    NotificationState,
    Receiver,
)
from receivers.redaction import secrets_scrub
from receivers.selectors import message_template_sources, notification_ids_overdue
from receivers.templating import TemplateError, template_source_check
from receivers.transports import SettingsError, TransportError, settings_class, transport_class

logger = logging.getLogger(__name__)

_FINAL_STATES = (NotificationState.DELIVERED, NotificationState.FAILED)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: AttemptOutcome | None  # None: nothing to do (already final, or gone)
    retry_in: float | None = None


def notification_bulk_create(
    *,
    alert_group: AlertGroup,
    receivers: list[Receiver],
    status: str,
    alerts: list[dict[str, Any]],
    acknowledgement: bool = False,
) -> list[int]:
    """Record what each receiver is owed; call inside the ingest transaction."""
    now = timezone.now()
    created = Notification.objects.bulk_create(
        Notification(
            receiver=receiver,
            receiver_name=receiver.name,
            channel=receiver.kind,
            alert_group=alert_group,
            status=status,
            alerts=alerts,
            acknowledgement=acknowledgement,
            created_at=now,
            next_attempt_at=now,
        )
        for receiver in receivers
    )
    return [notification.id for notification in created]


def notifications_enqueue(*, notification_ids: list[int]) -> None:
    """Hand notifications to the workers; run it on commit.

    A broker outage must not fail the request that already committed the
    work: the sweep enqueues whatever is still pending later.
    """
    from receivers.tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception as exc:  # kombu raises several types; all mean "not now"
            logger.warning(
                "broker unavailable, notification %s left for the sweep: %s",
                notification_id,
                type(exc).__name__,
            )
            return


def _lease_seconds() -> float:
    # Long enough for one send to finish or time out.
    return 2 * settings.HERALD_HTTP_TIMEOUT_SECONDS + 5


def _notification_claim(notification_id: int) -> Notification | float | None:
    """Lease the notification for one attempt.

    Returns the notification, None when there is nothing to do, or the seconds
    until another worker's lease on it runs out (it may be sending right now).
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("receiver", "alert_group")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.state in _FINAL_STATES:
            return None
        if notification.state == NotificationState.SENDING and notification.next_attempt_at > now:
            return (notification.next_attempt_at - now).total_seconds()
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + timedelta(seconds=_lease_seconds())
        notification.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    return notification


def _send(notification: Notification) -> tuple[int | None, str, bool, float | None]:
    """Send once. Returns (http status, error text, permanent failure, retry-after).

    The error text is stored and shown: any secret of the receiver that a
    vendor echoed back is masked in it.
    """
    receiver = notification.receiver
    if receiver is None or not receiver.enabled:
        return None, "the receiver was deleted or disabled", True, None
    if not isinstance(receiver.secrets, dict):
        # Decryption failed: a key was dropped from HERALD_ENCRYPTION_KEYS
        # too early. Putting it back makes the retries succeed.
        return (
            None,
            "the receiver's secrets cannot be decrypted with the configured keys",
            False,
            None,
        )
    tenant = connection.tenant
    message = alert_message_for(
        notification,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        acknowledge_url=acknowledge_url(tenant=tenant, alert_group_id=notification.alert_group_id)
        if notification.status == "firing" and not notification.acknowledgement
        else "",
    )
    try:
        transport = transport_class(receiver.kind)(
            config=receiver.config,
            secrets=receiver.secrets,
            allow_private=tenant.allow_private_targets,
            templates=message_template_sources(channel=receiver.kind),
        )
        result = transport.send(message)
    except TransportError as exc:
        if exc.config_update:
            receiver_config_update(receiver_id=receiver.id, changes=exc.config_update)
        error = secrets_scrub(exc.message, receiver.secrets)
        logger.warning(
            "notification %s to receiver %r failed (%s): %s",
            notification.id,
            receiver.name,
            "permanent" if exc.permanent else "will retry",
            error,
        )
        return exc.http_status, error, exc.permanent, exc.retry_after
    except TemplateError as exc:
        error = secrets_scrub(f"template error: {exc}", receiver.secrets)
        logger.warning("notification %s to receiver %r: %s", notification.id, receiver.name, error)
        return None, error, True, None
    return result.http_status, "", False, None


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """Make one delivery attempt and record it.

    A notification already delivered or failed is left alone, so a task that
    is redelivered (worker lost, sweep) does not send twice.
    """
    notification = _notification_claim(notification_id)
    if notification is None:
        return DeliveryResult(outcome=None)
    if isinstance(notification, float):
        return DeliveryResult(outcome=None, retry_in=notification)

    started_at = timezone.now()
    clock = time.perf_counter()
    http_status, error, permanent, retry_after = _send(notification)
    latency_ms = round((time.perf_counter() - clock) * 1000)

    retry_in = None
    if not error:
        outcome = AttemptOutcome.DELIVERED
        notification.state = NotificationState.DELIVERED
        notification.delivered_at = timezone.now()
    elif permanent or notification.attempts >= _max_attempts(notification):
        outcome = AttemptOutcome.FAILED
        notification.state = NotificationState.FAILED
    else:
        outcome = AttemptOutcome.RETRY
        retry_in = retry_delay_seconds(attempt=notification.attempts, retry_after=retry_after)
        notification.state = NotificationState.PENDING
        notification.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)

    notification.last_http_status = http_status
    notification.last_latency_ms = latency_ms
    notification.last_error = error
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=notification,
            number=notification.attempts,
            started_at=started_at,
            outcome=outcome,
            http_status=http_status,
            latency_ms=latency_ms,
            error=error,
        )
        notification.save(
            update_fields=[
                "state",
                "delivered_at",
                "next_attempt_at",
                "last_http_status",
                "last_latency_ms",
                "last_error",
                "updated_at",
            ]
        )
    return DeliveryResult(outcome=outcome, retry_in=retry_in)


def _max_attempts(notification: Notification) -> int:
    return notification.receiver.max_attempts if notification.receiver else 1


def notification_sweep() -> list[int]:
    """Re-enqueue this tenant's notifications whose task was lost; returns their ids."""
    now = timezone.now()
    overdue = notification_ids_overdue(
        due_before=now - timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    )
    if overdue:
        # Make them due now, so the next sweep does not enqueue them again
        # while the re-enqueued tasks are still in the queue; a lease that ran
        # out means its worker died mid-send, so the work is pending again.
        Notification.objects.filter(id__in=overdue).update(
            state=NotificationState.PENDING, next_attempt_at=now, updated_at=now
        )
        notifications_enqueue(notification_ids=overdue)
    return overdue


def receiver_settings_validate(
    *, kind: str, config: dict[str, Any], secrets: dict[str, Any]
) -> None:
    """Raise ValidationError, one message per setting, unless the settings suit `kind`."""
    try:
        settings_class(kind).parse(config=config, secrets=secrets)
    except SettingsError as exc:
        raise ValidationError({name: [problem] for name, problem in exc.errors.items()}) from None


def receiver_create(
    *,
    name: str,
    kind: str,
    secrets: dict[str, str],
    config: dict[str, Any] | None = None,
    enabled: bool = True,
    max_attempts: int = 6,
) -> Receiver:
    """Create a receiver after checking its settings against its kind's."""
    receiver = Receiver(name=name, kind=kind, enabled=enabled, max_attempts=max_attempts)
    return receiver_save(receiver=receiver, config=config or {}, secrets=secrets)


def receiver_save(
    *,
    receiver: Receiver,
    config: dict[str, Any],
    secrets: dict[str, str | None],
    clear_secrets: tuple[str, ...] = (),
) -> Receiver:
    """Store a receiver (new or not) with its settings, checked against its kind's.

    Secrets are write-only: an empty or None value keeps the one saved, and
    only names in `clear_secrets` are removed.
    """
    kept = dict(receiver.secrets) if receiver.pk and isinstance(receiver.secrets, dict) else {}
    for name in clear_secrets:
        kept.pop(name, None)
    kept.update({name: value for name, value in secrets.items() if value not in (None, "")})
    receiver_settings_validate(kind=receiver.kind, config=config, secrets=kept)
    receiver.config = config
    receiver.secrets = kept
    receiver.full_clean(exclude=["config", "secrets"])
    receiver.save()
    return receiver


def receiver_secret_set(*, receiver: Receiver, name: str, value: str) -> None:
    """Store one secret of a receiver (encrypted at rest)."""
    receiver_save(receiver=receiver, config=receiver.config, secrets={name: value})


def receiver_config_update(*, receiver_id: int, changes: dict[str, Any]) -> Receiver:
    """Change some of a receiver's settings, as a vendor asked (Telegram's chat migration)."""
    with transaction.atomic():
        receiver = Receiver.objects.select_for_update().get(id=receiver_id)
        config = {**receiver.config, **changes}
        receiver_settings_validate(kind=receiver.kind, config=config, secrets=receiver.secrets)
        receiver.config = config
        receiver.save(update_fields=["config", "updated_at"])
    logger.info(
        "receiver %r: settings %s updated as the vendor asked", receiver.name, sorted(changes)
    )
    return receiver


@dataclass(frozen=True)
class RotationResult:
    rotated: int
    unreadable: list[str]


def receiver_secrets_rotate() -> RotationResult:
    """Re-encrypt the current tenant's receiver secrets with the newest key.

    A receiver whose secrets no configured key decrypts is left untouched and
    named in the result: saving it would destroy them.
    """
    rotated = 0
    unreadable = []
    for receiver_id in Receiver.objects.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            receiver = Receiver.objects.select_for_update().get(id=receiver_id)
            if not isinstance(receiver.secrets, dict):
                unreadable.append(receiver.name)
                continue
            # Saving encrypts with the first key; updated_at is left alone:
            # a rotation is not a change of the receiver.
            receiver.save(update_fields=["secrets"])
            rotated += 1
    return RotationResult(rotated=rotated, unreadable=unreadable)


def message_template_save(
    *,
    channel: str,
    language: str,
    part: str,
    source: str,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Store a tenant's template (a new one, or `template` changed), checked in the sandbox.

    Raises ValidationError naming the line for syntax errors, for attributes
    the sandbox refuses and for errors rendering a sample alert.
    """
    message_template_validate(channel=channel, part=part, source=source)
    if template is None:
        template = (
            MessageTemplate.objects.filter(channel=channel, language=language, part=part).first()
            or MessageTemplate()
        )
    template.channel, template.language, template.part = channel, language, part
    template.source = source
    template.full_clean()
    template.save()
    return template


def message_template_validate(*, channel: str, part: str, source: str) -> None:
    try:
        template_source_check(channel=channel, part=part, source=source)
    except TemplateError as exc:
        raise ValidationError({"source": [str(exc)]}) from None
