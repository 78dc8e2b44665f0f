"""Reads for the bot: the receivers it answers for, and who is on call now."""

from __future__ import annotations

from datetime import datetime

from escalation.oncall_selectors import person_names, schedule_list, schedule_on_call_at
from receivers.models import Receiver

# A chat answer, not a report: the first schedules by name, then "and N more".
ON_CALL_SCHEDULES_SHOWN = 20


def telegram_receiver(*, receiver_id: int) -> Receiver | None:
    """The tenant's enabled Telegram receiver of that id (the webhook's URL names it)."""
    return Receiver.objects.filter(id=receiver_id, kind="telegram", enabled=True).first()


def on_call_text(*, now: datetime, tenant_name: str) -> str:
    """'Who is on call' as the bot says it: one line per schedule."""
    schedules = list(schedule_list()[: ON_CALL_SCHEDULES_SHOWN + 1])
    if not schedules:
        return f"{tenant_name} has no on-call schedules."
    lines = [f"On call now in {tenant_name}:"]
    for schedule in schedules[:ON_CALL_SCHEDULES_SHOWN]:
        people = schedule_on_call_at(schedule=schedule, at=now).on_call.people
        names = person_names(person_ids=people)
        who = ", ".join(names[p].display_name for p in people if p in names) or "nobody"
        lines.append(f"• {schedule.name}: {who}")
    if len(schedules) > ON_CALL_SCHEDULES_SHOWN:
        lines.append("• … and more schedules (see Herald).")
    return "\n".join(lines)
