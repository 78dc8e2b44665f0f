"""What Twilio's callbacks say and what a reply asks (pure).

A page's SMS ends with "Reply 12a to acknowledge, 12r to resolve, 12s to
silence 1 h" (12: the alert group); on a call, key 4 acknowledges and 6
resolves. Twilio's statuses that end a send: an SMS is `delivered`, or
`undelivered` / `failed`; a call is `completed` (answered), or `busy`,
`no-answer`, `failed`, `canceled`. The others (queued, sent, ringing, ...)
are steps on the way and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escalation.actions import Action

DELIVERED = frozenset({"delivered", "completed"})
NOT_DELIVERED = frozenset({"undelivered", "failed", "busy", "no-answer", "canceled"})
KEY_ACTIONS = {"4": Action.ACKNOWLEDGE, "6": Action.RESOLVE}
LETTER_ACTIONS = {"a": Action.ACKNOWLEDGE, "r": Action.RESOLVE, "s": Action.SILENCE_1H}
# A group id fits a bigint (18 digits always do); a reply is that and one letter.
_REPLY = re.compile(r"^\s*(\d{1,18})\s*([ars])\s*[.!]?\s*$", re.IGNORECASE)


def final_status(status: str) -> bool | None:
    """True: delivered (or answered); False: not; None: not a final status."""
    status = status.strip().lower()
    if status in DELIVERED:
        return True
    if status in NOT_DELIVERED:
        return False
    return None


@dataclass(frozen=True)
class SmsReply:
    alert_group_id: int
    action: Action


def sms_reply_read(body: str) -> SmsReply | None:
    """'12a' -> acknowledge group 12; None when the text is not a reply code."""
    match = _REPLY.match(body[:64])
    if match is None:
        return None
    return SmsReply(alert_group_id=int(match.group(1)),
                    action=LETTER_ACTIONS[match.group(2).lower()])


def key_action(digits: str) -> Action | None:
    return KEY_ACTIONS.get(digits.strip()[:1]) if digits else None
