"""The two changes a message's buttons make that alerting.services has no service for:
unacknowledge, and silence a group's alerts for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from alerting.matchers import Matcher, MatchType
from alerting.models import Alert, AlertGroup, AlertStatus, Silence, SilenceKind
from alerting.selectors import alert_group_firing_snapshot
from alerting.services import AlertGroupActionError
from alerting.silence_limits import matchers_catch_all, silence_create_bounded
from escalation.actions.tokens import Action
from escalation.models import Escalation, EscalationState
from escalation.services import escalation_start, escalation_stop
from receivers.delivery.updates import UNACKNOWLEDGED, group_update_notify

SILENCE_DURATIONS = {
    Action.SILENCE_1H: timedelta(hours=1),
    Action.SILENCE_4H: timedelta(hours=4),
    Action.SILENCE_24H: timedelta(hours=24),
}
# A second click soon after the first finds the silence it made: "already".
_SAME_SILENCE_SLACK = timedelta(minutes=10)


def alert_group_unacknowledge(*, alert_group_id: int) -> AlertGroup:
    """Nobody is on it after all: the acknowledgement is cleared and escalation runs again.

    The chains the acknowledgement stopped start again from their policy's
    first level (as a fresh alert would), and channels that edit their
    message in place hear of it. Call with the group locked, or not: it locks.
    """
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError("The alert group is resolved already.")
        if group.acknowledged_at is None:
            return group
        stopped = list(
            Escalation.objects.filter(
                alert_group_id=group.id, state=EscalationState.ACKNOWLEDGED,
                stopped_at__gte=group.acknowledged_at, policy__isnull=False,
            ).values_list("policy_id", flat=True)
        )
        group.acknowledged_at, group.acknowledged_by = None, ""
        group.save(update_fields=["acknowledged_at", "acknowledged_by"])
        now = timezone.now()
        for policy_id in dict.fromkeys(stopped):
            escalation_start(alert_group=group, policy_id=policy_id, now=now)
        group_update_notify(
            group=group, update=UNACKNOWLEDGED,
            alerts=alert_group_firing_snapshot(alert_group_id=group.id),
        )
    return group


def group_silence_matchers(*, group_labels: dict, common_labels: dict) -> str:
    """Matchers for the group's alerts: its grouping labels, else the labels all share.

    Raises AlertGroupActionError when neither names a label value (such a
    silence would mute every alert of the tenant).
    """
    labels = group_labels or common_labels
    text = ", ".join(
        str(Matcher.create(name, MatchType.EQUAL, str(value)))
        for name, value in sorted(labels.items())
    )
    if not text or matchers_catch_all(matchers=text):
        raise AlertGroupActionError(
            "This alert group has no labels to silence it by; silence it in the admin."
        )
    return text


def alert_group_silence(
    *, alert_group_id: int, action: Action, by: str, comment: str, now: datetime | None = None
) -> tuple[Silence, bool]:
    """Silence the group's alerts for the action's time; returns the silence and whether new.

    Its firing alerts are held back at once (notified again when the silence
    ends, if still firing), and the escalation and pages stop: nobody is paged
    for what someone chose to silence. A silence of the same alerts that ends
    as late already (within minutes) is kept instead of making a second.
    Raises AlertGroupActionError, or SilenceError past the tenant's
    silence_max_duration.
    """
    now = now or timezone.now()
    ends_at = now + SILENCE_DURATIONS[action]
    with transaction.atomic():
        group = AlertGroup.objects.select_for_update().get(id=alert_group_id)
        if group.status == AlertStatus.RESOLVED:
            raise AlertGroupActionError("The alert group is resolved already.")
        matchers = group_silence_matchers(
            group_labels=group.group_labels, common_labels=group.common_labels
        )
        existing = (
            Silence.objects.filter(
                matchers=matchers, kind=SilenceKind.ONCE, starts_at__lte=now,
                ends_at__gte=ends_at - _SAME_SILENCE_SLACK,
            ).order_by("-ends_at").first()
        )
        if existing is not None:
            return existing, False
        # Within the tenant's bound on silences, as the API's (SilenceLimitError).
        silence = silence_create_bounded(
            matchers=matchers, created_by=by[:200], starts_at=now, ends_at=ends_at,
            comment=comment, max_duration=connection.tenant.silence_max_duration, now=now,
        )
        Alert.objects.filter(group_id=group.id, status=AlertStatus.FIRING).update(
            suppressed=True, silenced_by=silence
        )
        escalation_stop(alert_group_id=group.id, state=EscalationState.ACKNOWLEDGED)
    return silence, True
