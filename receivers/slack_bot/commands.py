"""The `/herald` slash command: who is on call now, per schedule.

It answers in the HTTP response (a reply only the person who typed it sees),
well within Slack's 3 seconds: at most MAX_SCHEDULES schedules are read.
Only a Slack user linked to a person of the tenant is told who is on call.
"""

from __future__ import annotations

from escalation.models import ContactMethod, Schedule
from escalation.oncall_selectors import person_names
from escalation.schedules import schedule_on_call_now
from receivers.slack_bot.interactions import link_reply
from receivers.slack_bot.linking import KIND, slack_person
from receivers.slack_bot.payloads import Command
from receivers.transports.slack_app import slack_escape

MAX_SCHEDULES = 20
HELP = "Try `/herald oncall`: who is on call now, in each schedule."


def _slack_ids(person_ids: set[int]) -> dict[int, str]:
    """Each person's linked Slack user, to mention them rather than spell their name."""
    rows = (ContactMethod.objects.filter(person_id__in=person_ids, kind=KIND,
                                         verified_at__isnull=False)
            .order_by("verified_at", "id").values_list("person_id", "address"))
    found: dict[int, str] = {}
    for person_id, address in rows:
        found.setdefault(person_id, address)
    return found


def on_call_text() -> str:
    """Who is on call now in each schedule of the current tenant, by name (or mention)."""
    schedules = list(Schedule.objects.order_by("name", "id")[: MAX_SCHEDULES + 1])
    if not schedules:
        return "There are no on-call schedules yet, so nobody is on call."
    answers = [(schedule, schedule_on_call_now(schedule_id=schedule.id).people)
               for schedule in schedules[:MAX_SCHEDULES]]
    ids = {person for _, people in answers for person in people}
    names, mentions = person_names(person_ids=ids), _slack_ids(ids)

    def who(person_id: int) -> str:
        if person_id in mentions:
            return f"<@{mentions[person_id]}>"
        name = names.get(person_id)
        return slack_escape(name.display_name) if name else f"person #{person_id}"

    lines = ["*On call now*"]
    for schedule, people in answers:
        named = ", ".join(who(person) for person in people) or "nobody (a gap)"
        lines.append(f"• *{slack_escape(schedule.name)}*: {named}")
    if len(schedules) > MAX_SCHEDULES:
        lines.append(f"…and more schedules: the first {MAX_SCHEDULES} are shown.")
    return "\n".join(lines)


def slack_command_answer(*, command: Command) -> str:
    """The text of the reply to `/herald <text>`."""
    if command.text not in ("oncall", "on-call", "on call"):
        return HELP
    if slack_person(slack_user_id=command.user_id) is None:
        return link_reply(user_id=command.user_id, user_name=command.user_name)
    return on_call_text()
