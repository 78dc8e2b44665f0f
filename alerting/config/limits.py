"""Vendor limits a rendered part should stay within, from each transport's own constants.

Transports cut longer text safely; a template that regularly produces more
than the vendor shows is still a problem worth reporting (paranoid level).
"""

from __future__ import annotations

from receivers.transports import discord, email, msteams, opsgenie, pagerduty, slack, telegram

# (channel, part) -> (vendor, characters)
PART_LIMITS: dict[tuple[str, str], tuple[str, int]] = {
    ("slack", "title"): ("Slack (header block)", slack.HEADER_LIMIT),
    ("slack", "body"): ("Slack (message blocks)", slack.BODY_LIMIT),
    ("discord", "title"): ("Discord (content)", discord.CONTENT_LIMIT),
    ("discord", "body"): ("Discord (embed description)", discord.DESCRIPTION_LIMIT),
    ("msteams", "title"): ("Teams (card title)", msteams.TITLE_LIMIT),
    ("pagerduty", "summary"): ("PagerDuty (summary)", pagerduty.SUMMARY_LIMIT),
    ("opsgenie", "message"): ("Opsgenie (message)", opsgenie.MESSAGE_LIMIT),
    ("opsgenie", "description"): ("Opsgenie (description)", opsgenie.DESCRIPTION_LIMIT),
    ("telegram", "body"): ("Telegram (message)", telegram.TEXT_LIMIT),
    ("email", "subject"): ("email (subject)", email.SUBJECT_LIMIT),
}
