"""The record of what a level paged and where it found nobody: events, audit, metrics, log.

Recorded as it happens, never recomputed: who was paged, through which
target, under which schedule version; each gap with its reason and times.
A gap is an EscalationEvent of kind "gap", a count in
`alertmanager_escalation_gaps`, a warning in the log and part of the
step's entry in the audit trail: never silent.
"""

from __future__ import annotations

import logging

from django.db import connection

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.infra.metrics import escalation_gaps, pages_started
from escalation.models import Escalation, EscalationEvent, EventKind, Page
from escalation.paging.targets import Gap

logger = logging.getLogger(__name__)


def rule_words(rules: list[dict]) -> str:
    """'email at once, sms after 5 min' for a page's rules."""
    return ", ".join(
        f"{rule['kind']} " + ("at once" if not rule["delay_minutes"] else
                              f"after {rule['delay_minutes']} min")
        for rule in rules
    ) or "no rule"


def page_detail(page: Page) -> str:
    version = f", schedule version {page.schedule_version}" if page.schedule_version else ""
    return f"paged {page.person_name} ({page.target}{version}): {rule_words(page.rules)}"


def gap_record(*, escalation: Escalation, level: int | None, gap: Gap) -> EscalationEvent:
    """One gap in the history, the metric and the log (the audit entry is the step's)."""
    escalation_gaps.labels(
        tenant=connection.tenant.slug, policy=escalation.policy_name, reason=gap.reason
    ).inc()
    logger.warning(
        "escalation %s level %s: %s%s", escalation.id, level, gap.detail,
        " (fallback)" if gap.fallback else "",
    )
    return EscalationEvent(
        escalation=escalation, kind=EventKind.GAP, level=level,
        detail=("fallback: " if gap.fallback else "") + gap.detail,
    )


def level_paged_record(
    *, escalation: Escalation, level: int, pages: list[Page], gaps: list[Gap],
    fallback_used: bool, audits: list[dict],
) -> list[EscalationEvent]:
    """Events for the level's pages and gaps, their counts, and one audit entry for the step.

    Events are returned and the audit entry added to `audits`, unsaved: the
    step's transaction writes its records at once at its end.
    """
    events = [
        EscalationEvent(escalation=escalation, kind=EventKind.PAGE, level=level,
                        detail=page_detail(page))
        for page in pages
    ]
    events += [gap_record(escalation=escalation, level=level, gap=gap) for gap in gaps]
    if pages:
        pages_started.labels(tenant=connection.tenant.slug, policy=escalation.policy_name).inc(
            len(pages)
        )
    if not pages and not gaps:
        return events
    audits.append(dict(
        actor="system", source=AuditSource.SYSTEM, action="escalation_page",
        obj_type="escalation.escalation", obj_id=escalation.id, obj_repr=str(escalation),
        after={
            "alert_group_id": escalation.alert_group_id,
            "level": level,
            "fallback_used": fallback_used,
            "pages": [
                {"page_id": page.id, "person_id": page.person_id, "person": page.person_name,
                 "target": page.target, "schedule_id": page.schedule_id,
                 "schedule_version": page.schedule_version, "rules": page.rules}
                for page in pages
            ],
            "gaps": [{"reason": gap.reason, "detail": gap.detail, "fallback": gap.fallback}
                     for gap in gaps],
        },
    ))
    return events


def rule_failed_record(*, page: Page, reason: str, detail: str) -> None:
    """A rule of a running page that could not be sent (no carrier, method gone): a gap too."""
    escalation = page.escalation
    event = gap_record(
        escalation=escalation, level=page.level, gap=Gap(reason, f"{page.person_name}: {detail}")
    )
    event.save()
    audit_record(
        actor="system", source=AuditSource.SYSTEM, action="page_rule_failed",
        obj_type="escalation.page", obj_id=page.id, obj_repr=str(page),
        after={"alert_group_id": page.alert_group_id, "reason": reason, "detail": detail},
    )
