"""Writes: notifications (outbox, delivery, sweep), receivers, their secrets, templates.

Delivery in one place: the claim decides under the notification's lock
(circuit, grouping window, rate limit, max age, failover), one send happens
outside any transaction, and its outcome is recorded with the next step
(delivered, retry with backoff, failed or handed to the fallback).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerting.models import AlertGroup
from escalation.links import acknowledge_url
from receivers import metrics
from receivers.backoff import retry_delay_seconds
from receivers.circuit import circuit_admit, circuit_record_failure, circuit_record_success
from receivers.digest import alerts_merge, digest_text
from receivers.messages import AlertMessage, alert_message_for
from receivers.metrics import error_reason
from receivers.models import (
    FINAL_STATES,
    AttemptOutcome,
    DeliveryAttempt,
    MessageTemplate,
    Notification,
    NotificationState,
    Receiver,
)
from receivers.ratelimit import delivery_rate_take
from receivers.redaction import secrets_scrub
from receivers.selectors import message_template_sources, notification_ids_overdue
from receivers.templating import TemplateError, template_source_check
from receivers.transports import SettingsError, TransportError, settings_class, transport_class

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class DeliveryResult:
    outcome: str | None  # an AttemptOutcome, a final state, or None: nothing was sent
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


def notifications_enqueue(*, notification_ids: list[int], countdown: float | None = None) -> None:
    """Hand notifications to the workers; run it on commit.

    A broker outage must not fail the request that already committed the
    work: the sweep enqueues whatever is still pending later.
    """
    from receivers.tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.apply_async((notification_id,), countdown=countdown)
        except Exception as exc:  # kombu raises several types; all mean "not now"
            logger.warning(
                "broker unavailable, notification %s left for the sweep: %s",
                notification_id,
                type(exc).__name__,
            )
            return


def _lease_seconds() -> float:
    # Long enough for one send to finish or time out.
    return settings.HERALD_DELIVERY_LEASE_SECONDS or 2 * settings.HERALD_HTTP_TIMEOUT_SECONDS + 5


def _labels(notification: Notification) -> dict[str, str]:
    return {
        "tenant": connection.tenant.schema_name,
        "receiver": notification.receiver_name,
        "channel": notification.channel,
    }


def _count(notification: Notification, status: str) -> None:
    metrics.notifications_total.labels(**_labels(notification), status=status).inc()


@dataclass
class _Claim:
    """What the claim decided: send `notification`, or `result` says why not."""

    notification: Notification | None = None
    result: DeliveryResult | None = None
    probe: bool = False
    circuit_seen: tuple | None = None


def _postpone(notification: Notification, *, seconds: float, reason: str, now) -> _Claim:
    """Put it back without counting an attempt: nothing was sent."""
    notification.state = NotificationState.PENDING
    notification.next_attempt_at = now + timedelta(seconds=seconds)
    notification.last_error = reason
    notification.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
    return _Claim(result=DeliveryResult(outcome=None, retry_in=seconds))


def _too_old(notification: Notification, now) -> bool:
    receiver = notification.receiver
    max_age = receiver.max_age_seconds if receiver else 0
    return now >= notification.created_at + timedelta(seconds=max_age)


def _notification_claim(notification_id: int) -> _Claim:
    """Decide, under the notification's lock, whether to send it now.

    In order: final or leased elsewhere (nothing to do); too old (give up,
    fail over); circuit open (fail over, or wait for the cool-down); inside
    the grouping window (wait, then carry every alert that came meanwhile);
    over the rate limit (fold into the receiver's digest). Otherwise lease it
    for one attempt.
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("receiver", "alert_group")
            .filter(id=notification_id)
            .first()
        )
        if notification is None or notification.state in FINAL_STATES:
            return _Claim(result=DeliveryResult(outcome=None))
        if notification.state == NotificationState.SENDING and notification.next_attempt_at > now:
            wait = (notification.next_attempt_at - now).total_seconds()
            return _Claim(result=DeliveryResult(outcome=None, retry_in=wait))
        receiver = notification.receiver
        probe, circuit_seen = False, None
        if receiver is not None and receiver.enabled:
            if _too_old(notification, now) and notification.attempts:
                error = notification.last_error or "no attempt succeeded"
                outcome = _give_up(notification, reason=f"gave up after max age: {error}")
                return _Claim(result=DeliveryResult(outcome=outcome))
            admission, circuit_seen = circuit_admit(
                receiver=receiver, now=now, probe_lease_seconds=_lease_seconds()
            )
            if not admission.allowed:
                metrics.notification_errors_total.labels(
                    **_labels(notification), reason="circuit_open"
                ).inc()
                if _failover(notification, reason="the receiver's circuit is open"):
                    return _Claim(result=DeliveryResult(outcome=NotificationState.FAILED_OVER))
                if _too_old(notification, now):
                    outcome = _give_up(notification, reason="gave up: the circuit stayed open")
                    return _Claim(result=DeliveryResult(outcome=outcome))
                return _postpone(
                    notification,
                    seconds=admission.wait_seconds,
                    reason="circuit open: waiting for the cool-down",
                    now=now,
                )
            probe = admission.probe
            if not notification.acknowledgement and not notification.is_digest:
                wait = _group_window_wait(notification, now)
                if wait:
                    return _postpone(
                        notification, seconds=wait, reason="grouping window", now=now
                    )
            rate = delivery_rate_take(
                tenant_key=connection.tenant.schema_name,
                receiver_key=_rate_key(receiver),
                receiver_rate=receiver.rate_limit,
            )
            if not rate.allowed:
                if notification.is_digest:
                    return _postpone(
                        notification, seconds=rate.wait_seconds, reason="rate limited", now=now
                    )
                _fold_into_digest(notification, wait=rate.wait_seconds, now=now)
                return _Claim(result=DeliveryResult(outcome=NotificationState.FOLDED))
        notification.state = NotificationState.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + timedelta(seconds=_lease_seconds())
        notification.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    return _Claim(notification=notification, probe=probe, circuit_seen=circuit_seen)


def _rate_key(receiver: Receiver) -> str:
    # With its creation time: a receiver re-created under a reused id starts afresh.
    return f"{receiver.pk}.{receiver.created_at.timestamp():.6f}"


def _group_window_wait(notification: Notification, now) -> float:
    """Seconds to hold a notification so later alerts of its group join it; 0: send now.

    The first message of a group goes out at once; what follows for the same
    receiver and group within the window waits for the window to pass and
    then goes out as one message. Waiting siblings are merged into this one.
    """
    window = settings.HERALD_GROUP_WINDOW_SECONDS
    if window <= 0:
        return 0.0
    # One query on the hot path: usually a group has no other notification.
    siblings = list(
        Notification.objects.filter(
            receiver_id=notification.receiver_id, alert_group_id=notification.alert_group_id
        )
        .exclude(id=notification.id)
        .values_list("state", "delivered_at", "is_digest", "acknowledgement")
    )
    if not siblings:
        return 0.0
    if any(state == NotificationState.SENDING for state, *_ in siblings):
        return window
    sent = [
        delivered_at
        for state, delivered_at, is_digest, _ in siblings
        if state == NotificationState.DELIVERED and not is_digest and delivered_at
    ]
    if sent and (wait := (max(sent) + timedelta(seconds=window) - now).total_seconds()) > 0:
        return wait
    if any(
        state == NotificationState.PENDING and not is_digest and not acknowledgement
        for state, _, is_digest, acknowledgement in siblings
    ):
        _group_merge(notification)
    return 0.0


def _group_merge(notification: Notification) -> None:
    """Carry the alerts of the group's other waiting notifications in this one."""
    others = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(
            receiver_id=notification.receiver_id,
            alert_group_id=notification.alert_group_id,
            state=NotificationState.PENDING,
            acknowledgement=False,
            is_digest=False,
        )
        .exclude(id=notification.id)
        .order_by("created_at", "id")
    )
    if not others:
        return
    notification.alerts = alerts_merge([notification.alerts, *(o.alerts for o in others)])
    if any(alert.get("status") == "firing" for alert in notification.alerts):
        notification.status = "firing"
    notification.folded_count += sum(1 + o.folded_count for o in others)
    notification.save(update_fields=["alerts", "status", "folded_count", "updated_at"])
    Notification.objects.filter(id__in=[o.id for o in others]).update(
        state=NotificationState.MERGED, folded_into=notification, updated_at=timezone.now()
    )
    for other in others:
        _count(other, NotificationState.MERGED)


def _fold_into_digest(notification: Notification, *, wait: float, now) -> None:
    """Over the rate limit: not dropped, but carried by the receiver's next digest."""
    # The receiver's lock makes workers agree on one open digest per receiver.
    Receiver.objects.select_for_update().filter(id=notification.receiver_id).first()
    digest = (
        Notification.objects.select_for_update()
        .filter(
            receiver_id=notification.receiver_id,
            is_digest=True,
            state=NotificationState.PENDING,
            attempts=0,
        )
        .first()
    )
    created = digest is None
    if created:
        digest = Notification(
            receiver=notification.receiver,
            receiver_name=notification.receiver_name,
            channel=notification.channel,
            alert_group=notification.alert_group,
            status=notification.status,
            alerts=[],
            is_digest=True,
            created_at=now,
            next_attempt_at=now + timedelta(seconds=wait),
        )
    digest.alerts = alerts_merge([digest.alerts, notification.alerts])
    if notification.status == "firing":
        digest.status = "firing"
    digest.folded_count += 1 + notification.folded_count
    digest.save()
    notification.state = NotificationState.FOLDED
    notification.folded_into = digest
    notification.last_error = "rate limited: folded into a digest"
    notification.save(update_fields=["state", "folded_into", "last_error", "updated_at"])
    _count(notification, NotificationState.FOLDED)
    if created:
        digest_id = digest.id
        transaction.on_commit(
            lambda: notifications_enqueue(notification_ids=[digest_id], countdown=wait)
        )


def _failover_target(notification: Notification) -> Receiver | None:
    """The receiver's fallback, unless it already had this notification (no loops)."""
    receiver = notification.receiver
    fallback = receiver.fallback if receiver else None
    if fallback is None or not fallback.enabled:
        return None
    seen = {notification.receiver_id}
    ancestor_id = notification.failover_of_id
    while ancestor_id is not None and ancestor_id not in seen:
        row = (
            Notification.objects.filter(id=ancestor_id)
            .values("receiver_id", "failover_of_id")
            .first()
        )
        if row is None:
            break
        seen.add(row["receiver_id"])
        ancestor_id = row["failover_of_id"]
    return None if fallback.id in seen else fallback


def _failover(notification: Notification, *, reason: str) -> bool:
    """Hand the notification to the receiver's fallback; False if there is none to use."""
    fallback = _failover_target(notification)
    if fallback is None:
        return False
    copy = Notification.objects.create(
        receiver=fallback,
        receiver_name=fallback.name,
        channel=fallback.kind,
        alert_group=notification.alert_group,
        status=notification.status,
        alerts=notification.alerts,
        acknowledgement=notification.acknowledgement,
        is_digest=notification.is_digest,
        folded_count=notification.folded_count,
        failover_of=notification,
    )
    notification.state = NotificationState.FAILED_OVER
    notification.last_error = f"{reason}; sent through the fallback receiver {fallback.name!r}"
    notification.save(update_fields=["state", "last_error", "updated_at"])
    _count(notification, NotificationState.FAILED_OVER)
    transaction.on_commit(lambda: notifications_enqueue(notification_ids=[copy.id]))
    return True


def _give_up(notification: Notification, *, reason: str) -> str:
    """Failed for good here: the fallback takes it, or it is recorded as failed."""
    if _failover(notification, reason=reason):
        return NotificationState.FAILED_OVER
    notification.state = NotificationState.FAILED
    notification.last_error = reason
    notification.save(update_fields=["state", "last_error", "updated_at"])
    _count(notification, NotificationState.FAILED)
    return NotificationState.FAILED


def _message(notification: Notification) -> AlertMessage:
    tenant = connection.tenant
    message = alert_message_for(
        notification,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        acknowledge_url=acknowledge_url(tenant=tenant, alert_group_id=notification.alert_group_id)
        if notification.status == "firing" and not notification.acknowledgement
        and not notification.is_digest
        else "",
    )
    if not notification.is_digest:
        return message
    text = digest_text(
        alerts=notification.alerts, since=notification.created_at, now=timezone.now()
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


@dataclass(frozen=True)
class _SendOutcome:
    http_status: int | None = None
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def _send(notification: Notification) -> _SendOutcome:
    """Send once.

    The error text is stored and shown: any secret of the receiver that a
    vendor echoed back is masked in it.
    """
    receiver = notification.receiver
    if receiver is None or not receiver.enabled:
        return _SendOutcome(error="the receiver was deleted or disabled", permanent=True)
    if not isinstance(receiver.secrets, dict):
        # Decryption failed: a key was dropped from HERALD_ENCRYPTION_KEYS
        # too early. Putting it back makes the retries succeed.
        return _SendOutcome(
            error="the receiver's secrets cannot be decrypted with the configured keys"
        )
    try:
        transport = transport_class(receiver.kind)(
            config=receiver.config,
            secrets=receiver.secrets,
            allow_private=connection.tenant.allow_private_targets,
            templates=message_template_sources(channel=receiver.kind),
        )
        result = transport.send(_message(notification))
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
        return _SendOutcome(exc.http_status, error, exc.permanent, exc.retry_after)
    except TemplateError as exc:
        error = secrets_scrub(f"template error: {exc}", receiver.secrets)
        logger.warning("notification %s to receiver %r: %s", notification.id, receiver.name, error)
        return _SendOutcome(error=error, permanent=True)
    return _SendOutcome(http_status=result.http_status)


def _outage(sent: _SendOutcome) -> bool:
    """Does this failure say the receiver is down (counts for its circuit)?

    A 429 is the vendor pacing us (its Retry-After is honoured), and a
    permanent failure is this message's or this receiver's settings' fault.
    """
    return bool(sent.error) and not sent.permanent and sent.http_status != 429


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """Make at most one delivery attempt and record it.

    A notification already delivered or otherwise final is left alone, so a
    task that is redelivered (worker lost, sweep) does not send twice.
    """
    claim = _notification_claim(notification_id)
    if claim.notification is None:
        return claim.result
    notification = claim.notification
    receiver = notification.receiver

    started_at = timezone.now()
    clock = time.perf_counter()
    sent = _send(notification)
    duration = time.perf_counter() - clock
    latency_ms = round(duration * 1000)
    metrics.notification_duration_seconds.labels(channel=notification.channel).observe(duration)
    if sent.http_status is not None or sent.error:
        code = str(sent.http_status) if sent.http_status is not None else "error"
        metrics.integration_requests_total.labels(channel=notification.channel, code=code).inc()

    now = timezone.now()
    if receiver is not None:
        if not sent.error:
            circuit_record_success(receiver=receiver, now=now, seen=claim.circuit_seen)
        elif _outage(sent):
            circuit_record_failure(receiver=receiver, now=now, error=sent.error)

    retry_in = None
    if not sent.error:
        outcome = AttemptOutcome.DELIVERED
        notification.state = NotificationState.DELIVERED
        notification.delivered_at = now
    else:
        metrics.notification_errors_total.labels(
            **_labels(notification),
            reason=error_reason(
                http_status=sent.http_status, permanent=sent.permanent, error=sent.error
            ),
        ).inc()
        retry_in = retry_delay_seconds(attempt=notification.attempts, retry_after=sent.retry_after)
        deadline = notification.created_at + timedelta(
            seconds=receiver.max_age_seconds if receiver else 0
        )
        exhausted = (
            notification.attempts >= _max_attempts(notification)
            or now + timedelta(seconds=retry_in) > deadline
        )
        if sent.permanent or exhausted:
            outcome = AttemptOutcome.FAILED
            notification.state = NotificationState.FAILED
            retry_in = None
        else:
            outcome = AttemptOutcome.RETRY
            notification.state = NotificationState.PENDING
            notification.next_attempt_at = now + timedelta(seconds=retry_in)

    notification.last_http_status = sent.http_status
    notification.last_latency_ms = latency_ms
    notification.last_error = sent.error
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=notification,
            number=notification.attempts,
            started_at=started_at,
            outcome=outcome,
            http_status=sent.http_status,
            latency_ms=latency_ms,
            error=sent.error,
            retry_in_seconds=retry_in,
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
        final = outcome
        if outcome == AttemptOutcome.FAILED and _failover(
            notification, reason=f"failed for good: {sent.error}"
        ):
            final = NotificationState.FAILED_OVER
    _count(notification, "digest_" + outcome if notification.is_digest else final)
    return DeliveryResult(outcome=outcome, retry_in=retry_in)


def _max_attempts(notification: Notification) -> int:
    return notification.receiver.max_attempts if notification.receiver else 1


def notification_sweep() -> list[int]:
    """Re-enqueue this tenant's notifications whose task was lost; returns their ids."""
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.HERALD_SWEEP_PENDING_AFTER_SECONDS)
    overdue = notification_ids_overdue(due_before=due_before)
    if overdue:
        with transaction.atomic():
            # Checked again under the rows' locks: a worker may have claimed
            # one since the read, and resetting its fresh lease would let a
            # second worker send it again.
            overdue = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(
                    id__in=overdue,
                    state__in=[NotificationState.PENDING, NotificationState.SENDING],
                    next_attempt_at__lt=due_before,
                )
                .values_list("id", flat=True)
            )
            # Make them due now, so the next sweep does not enqueue them again
            # while the re-enqueued tasks are still in the queue; a lease that
            # ran out means its worker died mid-send, so the work is pending again.
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
