"""What Herald does with Twilio's callbacks: reports recorded, replies acted on.

Each is short and bounded (a row or two read, one group locked), so it is
done in the request and Twilio gets its answer in well under a second: a
reply's answer (TwiML) says what was done. A reply acts through
escalation.actions as the person whose verified number it came from and
who was paged for the incident; anyone else, or a code that is not one of
their current pages, gets a short answer and nothing changes.
"""

from __future__ import annotations

from django.db import connection

from escalation.actions import ActionRequest, actor_for_person, incident_action_apply
from receivers.delivery.receipts import notification_receipt_record
from receivers.models import Notification, Receiver
from receivers.twilio_hooks.replies import final_status, key_action, sms_reply_read
from receivers.twilio_hooks.selectors import number_people, paged_notification

UNKNOWN_NUMBER = "Herald does not know this number. Nothing was changed."
UNKNOWN_CODE = (
    "Herald: that is not a code of a page you have now. Reply with the code in the "
    "message, e.g. 12a to acknowledge. Nothing was changed."
)
UNKNOWN_KEY = "Press 4 to acknowledge, 6 to resolve. Nothing was changed. Goodbye."


def twilio_status_record(*, notification: Notification, status: str) -> str:
    """A status callback: a final status lands on the notification's attempt."""
    delivered = final_status(status)
    if delivered is None:
        return "not final"
    return notification_receipt_record(
        notification_id=notification.id, delivered=delivered, provider_status=status.lower()
    )


def twilio_key_press(*, notification: Notification, digits: str, number: str) -> str:
    """A key pressed on a page's call; the sentence the call says back."""
    action = key_action(digits)
    if action is None:
        return UNKNOWN_KEY
    page = notification.page
    if page is None or page.person_id is None or page.person_id not in number_people(
        number=number
    ):
        return UNKNOWN_NUMBER
    outcome = incident_action_apply(
        tenant=connection.tenant,
        request=ActionRequest(alert_group_id=notification.alert_group_id,
                              incident=notification.incident or page.incident, action=action),
        actor=actor_for_person(person_id=page.person_id),
        channel="voice",
    )
    return outcome.message


def twilio_sms_reply(*, receiver: Receiver, number: str, body: str) -> str:
    """An SMS to the receiver's number; the answer Herald texts back ("" for none)."""
    people = number_people(number=number)
    if not people:
        return UNKNOWN_NUMBER
    reply = sms_reply_read(body)
    if reply is None:
        return UNKNOWN_CODE
    notification = paged_notification(
        receiver_id=receiver.id, number=number, alert_group_id=reply.alert_group_id,
        people=people,
    )
    if notification is None or notification.page is None:
        return UNKNOWN_CODE
    outcome = incident_action_apply(
        tenant=connection.tenant,
        request=ActionRequest(alert_group_id=notification.alert_group_id,
                              incident=notification.incident or notification.page.incident,
                              action=reply.action),
        actor=actor_for_person(person_id=notification.page.person_id),
        channel="sms",
    )
    return outcome.message
