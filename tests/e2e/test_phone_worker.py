"""Phone paging with the real worker: an SMS that never arrives, the call that follows, key 4.

A stand-in Twilio REST API on loopback takes the worker's SMS and call; its
callbacks reach Herald's live server as Twilio sends them, signed with the
account's auth token for the URLs Herald gave: the SMS was undelivered, so
Alice's call follows at once (not after its 5 minutes); she presses 4 on the
call, the incident is acknowledged by her, and level 2 (Bob) is never paged.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import Escalation, Page
from receivers.models import Notification
from tests.conftest import wait_for
from tests.e2e.test_oncall_worker import fire, tick_and_wait
from tests.escalation.paging.conftest import policy_with
from tests.factories import ReceiverFactory, RouteFactory
from tests.receivers.phone.twilio_paging import phone_person
from tests.receivers.phone.twilio_standin import (
    FROM,
    PERSON,
    TOKEN,
    TwilioApi,
    post_signed,
    twilio_config,
    twiml,
)

pytestmark = pytest.mark.e2e

BOB = "+4915198765432"


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker caches tenants for a minute; committed_tenants made them anew (new keys)."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


def delivered_with_sid(kind: str) -> Notification | None:
    return Notification.objects.filter(
        page__isnull=False, contact_kind=kind, state="delivered", vendor_ref__has_key="sid"
    ).first()


def test_an_undelivered_sms_brings_the_call_forward_and_key_4_acknowledges(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, settings
):
    settings.HERALD_BASE_URL = live_server.url  # where Twilio calls Herald back
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/sentinel").respond_with_data("ok")
    api = TwilioApi(httpserver)
    with tenant_context(alpha):
        ReceiverFactory(name="phone", kind="twilio", carries_pages=True,
                        config=twilio_config(httpserver), secrets={"auth_token": TOKEN})
        alice = phone_person("Alice", PERSON, first="sms", then="voice")
        bob = phone_person("Bob", BOB, first="sms", then=None)
        RouteFactory(receivers=[], escalation_policy=policy_with([
            (0, [{"kind": "person", "person": alice}]),
            (5, [{"kind": "person", "person": bob}]),
        ]))

    group_key = fire(live_server, ingest_key, alpha)
    sms = wait_for(lambda: next(iter(api.of("Messages")), None))
    assert (sms["From"], sms["To"]) == (FROM, PERSON)
    with tenant_context(alpha):
        wait_for(lambda: delivered_with_sid("sms"))
    assert api.of("Calls") == []  # her call is due 5 minutes after the page started

    # Twilio reports the SMS undelivered (the phone is off).
    report = {"MessageSid": api.sids("Messages")[0], "MessageStatus": "undelivered",
              "ErrorCode": "30003", "From": FROM, "To": PERSON}
    assert post_signed(sms["StatusCallback"], report).status_code == 200

    call = wait_for(lambda: next(iter(api.of("Calls")), None), timeout=10)
    assert call["To"] == PERSON
    with tenant_context(alpha):
        wait_for(lambda: delivered_with_sid("voice"))
        assert Notification.objects.get(contact_kind="sms").state == "failed"
    gather = twiml(call["Twiml"]).find("Gather")
    assert gather.get("numDigits") == "1"

    # Alice answers and presses 4.
    press = {"CallSid": api.sids("Calls")[0], "Digits": "4", "From": FROM, "To": PERSON,
             "CallStatus": "in-progress"}
    answer = post_signed(gather.get("action"), press)
    assert answer.status_code == 200
    assert twiml(answer.text).find("Say").text == "Acknowledged by Alice."
    # The call ends answered: its report confirms the attempt.
    done = {"CallSid": api.sids("Calls")[0], "CallStatus": "completed", "To": PERSON}
    assert post_signed(call["StatusCallback"], done).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        tick_and_wait(alpha, httpserver)  # level 2 would text Bob now
    assert [form["To"] for form in api.of("Messages")] == [PERSON]
    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        assert (group.status, group.acknowledged_by) == ("firing", "Alice")
        assert Escalation.objects.get().state == "acknowledged"
        assert Page.objects.get().state == "acknowledged"
        call_attempt = Notification.objects.get(contact_kind="voice").delivery_attempts.get()
        assert (call_attempt.outcome, call_attempt.provider_status) == ("delivered", "completed")
    assert requests.post(gather.get("action"), data=press, timeout=10).status_code == 403
