"""The escalation tick's entry in the due-work index (tenants/due_work.py).

Due: an active escalation's next step, an active page's next rule, an unsent
phone summary. Each is written with an ETA task, which notes its time; the
tick runs what such a task left behind.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from escalation.services import escalation_tick_run
from receivers.phone.summaries import phone_summaries_send_due
from tenants.due_work import due_work_note
from tenants.models_due import DueKind

_NEXT_DUE = """
SELECT min(due) FROM (
    SELECT min(next_step_at) AS due FROM escalation_escalation WHERE state = 'active'
    UNION ALL
    SELECT min(next_rule_at) FROM escalation_page WHERE state = 'active'
    UNION ALL
    SELECT min(due_at) FROM receivers_phonesummary WHERE sent_at IS NULL
) AS due
"""


def escalation_due_note(*, eta: datetime | None) -> None:
    if eta is not None:
        due_work_note(kind=DueKind.ESCALATION, due_at=eta)


def escalation_due_run() -> int:
    ran = escalation_tick_run()
    # Summary SMS whose ETA task was lost (receivers.phone.summaries).
    phone_summaries_send_due()
    return ran


def escalation_next_due_at(*, now: datetime) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_DUE)
        return cursor.fetchone()[0]
