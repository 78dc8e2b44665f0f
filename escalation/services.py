"""Start, run and stop escalation chains.

A chain works from a snapshot of its policy, so edits never change a chain in
flight. A step locks its row, checks that it is still the step due (a stale or
duplicate task exits), does its work and schedules the next on commit. The
due time lives in the database: the periodic tick finds every due step even
if all processes restarted, and ETA tasks only make it prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from alerting.infra.metrics import escalation_events
from alerting.models import AlertGroup, AlertStatus
from escalation.hours import HoursWindow, next_allowed
from escalation.models import (
    BusinessHoursMode,
    BusinessHoursWindow,
    Escalation,
    EscalationEvent,
    EscalationPolicy,
    EscalationState,
    EscalationTarget,
    PageState,
    StepKind,
)
from escalation.paging.context import PagingContext
from escalation.paging.level import level_page
from escalation.paging.pages import escalation_pages_stop, page_rules_run, pages_stop
from escalation.paging.snapshot import level_targets_snapshot
from receivers.delivery import notification_bulk_create
from receivers.models import Receiver
from tenants.due_work import due_work_note
from tenants.models_due import DueKind

logger = logging.getLogger(__name__)


def policy_snapshot(policy: EscalationPolicy) -> dict:
    """The policy as the chain will run it: its levels, then a repeat step.

    A level keeps its receivers and its targets (escalation.paging.snapshot);
    whoever a target means is resolved when the level's step runs.
    """
    levels = policy.levels.order_by("position", "id").prefetch_related(
        "receivers",
        Prefetch("targets", queryset=EscalationTarget.objects.select_related(
            "receiver", "team", "schedule", "layer")),
    )
    steps = []
    for index, level in enumerate(levels):
        receiver_ids, targets = level_targets_snapshot(level)
        steps.append({
            "kind": StepKind.NOTIFY,
            "level": index + 1,
            "delay_seconds": level.delay_minutes * 60,
            "receiver_ids": receiver_ids,
            "targets": targets,
        })
    steps.append({"kind": StepKind.REPEAT, "times": policy.repeat_count})
    return {"steps": steps, "business_hours": policy.business_hours}


def _schedule(escalation: Escalation) -> None:
    """On commit, an ETA task for the next step (the tick covers a lost one)."""
    from escalation.tasks import escalation_step

    token = (escalation.id, escalation.step, escalation.repeats_done)
    eta = escalation.next_step_at

    def send() -> None:
        # The tick's index first: it runs the step if the ETA task is lost.
        due_work_note(kind=DueKind.ESCALATION, due_at=eta)
        try:
            escalation_step.apply_async(token, eta=eta)
        except Exception as exc:  # broker down: the periodic tick runs the step
            logger.warning("escalation step left for the tick: %s", type(exc).__name__)

    transaction.on_commit(send)


def escalation_start(
    *, alert_group: AlertGroup, policy_id: int, now: datetime
) -> Escalation | None:
    """Start the policy's chain for the group, unless one is running already."""
    policy = EscalationPolicy.objects.filter(id=policy_id).first()
    if policy is None:
        return None
    running = Escalation.objects.filter(
        alert_group_id=alert_group.id, policy_name=policy.name, state=EscalationState.ACTIVE
    )
    if running.exists():
        return None
    snapshot = policy_snapshot(policy)
    if len(snapshot["steps"]) == 1:  # no levels: nothing to escalate to
        return None
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                alert_group_id=alert_group.id,
                policy=policy,
                policy_name=policy.name,
                snapshot=snapshot,
                next_step_at=now + timedelta(seconds=snapshot["steps"][0]["delay_seconds"]),
            )
    except IntegrityError:  # started by a concurrent request for the same group
        return None
    _schedule(escalation)
    return escalation


def escalation_stop(
    *, alert_group_id: int, state: EscalationState, acknowledged_by_person_id: int | None = None
) -> int:
    """Stop the group's running chains and pages (acknowledged or resolved); how many chains.

    Every person's page stops; with `acknowledged_by_person_id`, the acker's
    pages of the incident are marked acknowledged.
    """
    pages_stop(
        alert_group_id=alert_group_id, state=PageState.STOPPED,
        acknowledged_by_person_id=acknowledged_by_person_id,
    )
    return Escalation.objects.filter(
        alert_group_id=alert_group_id, state=EscalationState.ACTIVE
    ).update(state=state, stopped_at=timezone.now())


def _business_hours_wait(escalation: Escalation, now: datetime) -> datetime | None:
    """When the step may run, if not now; None when it may run now."""
    mode = escalation.snapshot.get("business_hours", BusinessHoursMode.ALWAYS)
    if mode == BusinessHoursMode.ALWAYS:
        return None
    windows = [
        HoursWindow(window.weekday, window.start, window.end)
        for window in BusinessHoursWindow.objects.all()
    ]
    allowed = next_allowed(
        now, windows, connection.tenant.time_zone, inside=mode == BusinessHoursMode.INSIDE
    )
    if allowed is None:
        logger.warning("escalation %s: no business hours defined; running now", escalation.id)
        return None
    return allowed if allowed > now else None


def _notify(escalation: Escalation, step: dict, now: datetime, context: PagingContext) -> None:
    # The chain moves on: whoever the level before paged stops being paged.
    escalation_pages_stop(escalation_id=escalation.id)
    receivers = list(
        Receiver.objects.filter(id__in=step["receiver_ids"], enabled=True).only(
            "id", "name", "kind"
        )
    )
    alerts = context.firing_alerts(escalation.alert_group_id)
    ids = []
    if receivers and alerts:
        ids = notification_bulk_create(
            alert_group=escalation.alert_group,
            receivers=receivers,
            status=AlertStatus.FIRING,
            alerts=alerts,
        )
        context.notifications_owed(ids)
    paged, fallback_receivers, events = level_page(
        escalation=escalation, step=step, now=now, context=context, alerts=alerts,
        receivers_reached=bool(ids),
    )
    told = [r.name for r in receivers] + fallback_receivers
    detail = f"{len(ids)} notification(s) to {', '.join(told) or 'nobody'}"
    if step.get("targets"):
        detail += f"; {paged} {'person' if paged == 1 else 'people'} paged"
    context.events += [
        EscalationEvent(
            escalation=escalation, kind=StepKind.NOTIFY, level=step["level"], detail=detail
        ),
        *events,
    ]
    escalation_events.labels(
        tenant=connection.tenant.slug, policy=escalation.policy_name, level=str(step["level"])
    ).inc()


def _enter_notify(escalation: Escalation, step: dict, now: datetime) -> None:
    escalation.next_step_at = now + timedelta(seconds=step["delay_seconds"])


def _enter_repeat(escalation: Escalation, step: dict, now: datetime) -> None:
    if escalation.repeats_done < step["times"]:
        escalation.repeats_done += 1
        escalation.step = 0
        EscalationEvent.objects.create(
            escalation=escalation, kind=StepKind.REPEAT, detail=f"run {escalation.repeats_done + 1}"
        )
        _ENTER[StepKind.NOTIFY](escalation, escalation.snapshot["steps"][0], now)
    else:
        escalation.state = EscalationState.FINISHED
        escalation.stopped_at = now


_RUN: dict[str, Callable[[Escalation, dict, datetime, PagingContext], None]] = {
    StepKind.NOTIFY: _notify
}
_ENTER: dict[str, Callable[[Escalation, dict, datetime], None]] = {
    StepKind.NOTIFY: _enter_notify,
    StepKind.REPEAT: _enter_repeat,
}


def _locked(ids: list[int], *, skip_locked: bool = False):
    return (
        Escalation.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("alert_group")
        .filter(id__in=ids)
        .order_by("id")
    )


def _step_locked(escalation: Escalation, *, now: datetime, context: PagingContext) -> bool:
    """Run the locked chain's step if it is due; True if it ran."""
    if escalation.state != EscalationState.ACTIVE or escalation.next_step_at > now:
        return False
    group = escalation.alert_group
    if group.acknowledged_at is not None or group.status == AlertStatus.RESOLVED:
        escalation.state = (
            EscalationState.ACKNOWLEDGED if group.acknowledged_at else EscalationState.RESOLVED
        )
        escalation.stopped_at = now
        escalation.save(update_fields=["state", "stopped_at"])
        return False
    wait_until = _business_hours_wait(escalation, now)
    if wait_until is not None:
        escalation.next_step_at = wait_until
        escalation.save(update_fields=["next_step_at"])
        _schedule(escalation)
        return False

    steps = escalation.snapshot["steps"]
    current = steps[escalation.step]
    _RUN[current["kind"]](escalation, current, now, context)
    escalation.step += 1
    following = steps[escalation.step]
    _ENTER[following["kind"]](escalation, following, now)
    escalation.save(update_fields=["step", "repeats_done", "next_step_at", "state", "stopped_at"])
    if escalation.state == EscalationState.ACTIVE:
        _schedule(escalation)
    return True


def escalation_step_run(
    *, escalation_id: int, step: int | None = None, repeats_done: int | None = None,
    context: PagingContext | None = None,
) -> bool:
    """Run the chain's due step; True if it ran.

    With `step`/`repeats_done` (from an ETA task), anything but exactly that
    step is stale and exits. Acknowledged or resolved groups stop the chain.
    `context` carries what a tick reads once for all its steps.
    """
    now = timezone.now()
    context = context or PagingContext()
    try:
        with transaction.atomic():
            escalation = _locked([escalation_id]).first()
            if escalation is None:
                return False
            if step is not None and (escalation.step, escalation.repeats_done) != (
                step, repeats_done
            ):
                return False
            ran = _step_locked(escalation, now=now, context=context)
            context.records_write()
    except BaseException:
        context.records_drop()
        raise
    return ran


# Due steps run per transaction in the tick: their rows locked together,
# their events and audit entries written at once.
STEPS_BATCH = 50


def escalation_steps_run(*, escalation_ids: list[int], context: PagingContext) -> int:
    """The tick's due steps, a batch per transaction; how many ran.

    A chain another worker holds (its ETA task running it) is skipped. If
    one chain of a batch fails, the batch is rolled back and its chains run
    one by one, so one chain's fault holds no other back.
    """
    ran = 0
    for start in range(0, len(escalation_ids), STEPS_BATCH):
        batch = escalation_ids[start:start + STEPS_BATCH]
        now = timezone.now()
        try:
            with transaction.atomic():
                escalations = list(_locked(batch, skip_locked=True))
                context.firing_alerts_prefetch({e.alert_group_id for e in escalations})
                done = sum(
                    _step_locked(escalation, now=now, context=context)
                    for escalation in escalations
                )
                context.records_write()
            ran += done
        except Exception:  # any chain's fault: the others must still run (one by one)
            context.records_drop()
            logger.exception("escalation steps batch failed; running its chains one by one")
            ran += sum(_step_alone(escalation_id, context) for escalation_id in batch)
    return ran


def _step_alone(escalation_id: int, context: PagingContext) -> bool:
    try:
        return escalation_step_run(escalation_id=escalation_id, context=context)
    except Exception:  # this chain's fault, logged; the tick goes on with the others
        logger.exception("escalation %s: its step failed", escalation_id)
        return False


# The tick's one query: due steps and due page rules, by due time (both indexed).
_DUE_WORK = """
SELECT 'step', id, next_step_at AS due FROM escalation_escalation
WHERE state = 'active' AND next_step_at <= %(now)s
UNION ALL
SELECT 'page', id, next_rule_at FROM escalation_page
WHERE state = 'active' AND next_rule_at <= %(now)s
ORDER BY due
"""


def escalation_work_due(*, now: datetime) -> list[tuple[str, int]]:
    """What the tick runs: ("step", escalation id) and ("page", page id), oldest due first."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_WORK, {"now": now})
        return [(kind, id_) for kind, id_, _ in cursor.fetchall()]


def escalation_ids_due(*, now: datetime) -> list[int]:
    return list(
        Escalation.objects.filter(state=EscalationState.ACTIVE, next_step_at__lte=now)
        .order_by("next_step_at")
        .values_list("id", flat=True)
    )


# Due page rules run per transaction (their rows locked together).
PAGE_RULES_BATCH = 200


def escalation_tick_run() -> int:
    """Every due step and page rule of the current tenant; how many ran.

    One query finds both; one context loads each schedule's snapshot once.
    """
    context = PagingContext(defer_enqueue=True)
    ran = 0
    try:
        due = escalation_work_due(now=timezone.now())
        ran += escalation_steps_run(
            escalation_ids=[id_ for kind, id_ in due if kind == "step"], context=context
        )
        # The due page rules together, after the steps (a step may have
        # stopped some): a few statements for all of them, in batches.
        page_ids = [id_ for kind, id_ in due if kind == "page"]
        for start in range(0, len(page_ids), PAGE_RULES_BATCH):
            ran += page_rules_run(
                page_ids=page_ids[start:start + PAGE_RULES_BATCH], context=context
            )
    finally:
        context.flush()
    return ran
