"""The Slack app with the real worker: fire, click Acknowledge in the channel, escalation stops.

A stand-in Web API on loopback (tests/receivers/transports/slack_api.py)
gets the worker's messages; clicks arrive at Herald's interactive endpoint
on the live server as Slack sends them, signed with the app's signing secret.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import Escalation
from tests.conftest import wait_for
from tests.e2e.test_oncall_worker import fire, tick_and_wait
from tests.escalation.paging.conftest import policy_with
from tests.factories import ContactMethodFactory, PersonFactory, RouteFactory, TeamFactory
from tests.receivers.slack_bot.conftest import click_body, signed_headers, slack_receiver
from tests.receivers.transports.slack_api import SlackApi

pytestmark = pytest.mark.e2e

CHANNEL = "C0HERALD"


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker caches tenants for a minute; committed_tenants made them anew (new keys)."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


def slack_person(name, slack_id):
    person = PersonFactory(user__username=name.lower(), display_name=name, membership="editor")
    method = ContactMethodFactory(person=person, kind="slack_app", address=slack_id)
    person.notification_rules.create(contact_method=method, delay_minutes=0)
    return person


def setup(alpha, slack):
    """The team's alerts go to C0HERALD, its app carries pages by DM; Alice, then Bob at 5 min."""
    with tenant_context(alpha):
        app = slack_receiver(name="oncall-slack", api_url=slack.api_url, carries_pages=True)
        alice, bob = slack_person("Alice", "U0ALICE"), slack_person("Bob", "U0BOB")
        team = TeamFactory(name="SRE", members=[alice, bob])
        team.escalation_policy = policy_with([
            (0, [{"kind": "person", "person": alice}]),
            (5, [{"kind": "person", "person": bob}]),
        ])
        team.save()
        RouteFactory(receivers=[app], team=team)
    return app


def channel_message(slack):
    """The worker's first message to the channel: its ts and its buttons by action id."""
    posted = [call for call in slack.of("chat.postMessage")
              if call.body["channel"] == CHANNEL and "thread_ts" not in call.body]
    if not posted or not posted[0].answer.get("ok"):
        return None
    buttons = {element["action_id"].removeprefix("herald-action-"): element["value"]
               for block in posted[0].body["blocks"] if block["type"] == "actions"
               for element in block["elements"] if "value" in element}
    return posted[0].answer["ts"], buttons


def click(live_server, app, token, user_id, response_url):
    body = click_body(token=token, user_id=user_id, response_url=response_url)
    return requests.post(
        f"{live_server.url}/slack/alpha/{app.id}/interactive/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 **{name.removeprefix("HTTP_").replace("_", "-"): value
                    for name, value in signed_headers(body).items()}},
        timeout=10,
    )


def test_a_linked_member_acknowledges_in_slack_and_the_message_changes_in_place(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key
):
    alpha = committed_tenants["alpha"]
    httpserver.expect_request("/sentinel").respond_with_data("ok")
    slack = SlackApi(httpserver).install()
    app = setup(alpha, slack)

    group_key = fire(live_server, ingest_key, alpha)
    channel_ts, buttons = wait_for(lambda: channel_message(slack))
    assert set(buttons) >= {"acknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h"}
    # Alice's page reached her by DM, its buttons its own.
    wait_for(lambda: any(call.body["channel"] == "U0ALICE"
                         for call in slack.of("chat.postMessage")))

    # A stranger clicks Resolve: told to link an account, nothing changes.
    assert click(live_server, app, buttons["resolve"], "U0MALLORY",
                 slack.response_url).status_code == 200
    refusal = wait_for(lambda: slack.replies[:1])[0]
    assert refusal["response_type"] == "ephemeral"
    assert "nothing was changed" in refusal["text"] and "Link your Slack account" in refusal["text"]
    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        assert (group.status, group.acknowledged_at) == ("firing", None)
    assert slack.of("chat.update") == []

    clicked_at = time.monotonic()
    assert click(live_server, app, buttons["acknowledge"], "U0ALICE",
                 slack.response_url).status_code == 200
    update = wait_for(lambda: next((call.body for call in slack.of("chat.update")
                                    if call.body["channel"] == CHANNEL), None), timeout=2)
    reply = wait_for(lambda: next((call.body for call in slack.of("chat.postMessage")
                                   if call.body.get("thread_ts") == channel_ts), None), timeout=2)
    assert time.monotonic() - clicked_at < 2
    assert update["ts"] == channel_ts
    assert "Acknowledged by Alice" in str(update["blocks"])
    actions = {element.get("action_id") for block in update["blocks"] if block["type"] == "actions"
               for element in block["elements"]}
    assert "herald-action-unacknowledge" in actions and "herald-action-acknowledge" not in actions
    assert reply["text"] == "👀 Acknowledged by Alice"
    assert reply["reply_broadcast"] is False
    told = wait_for(lambda: [r for r in slack.replies[1:] if "Alice" in r["text"]])
    assert told[0]["response_type"] == "ephemeral"
    assert slack.problems == []

    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        tick_and_wait(alpha, httpserver)  # level 2 would page Bob now
    assert not any(call.body["channel"] == "U0BOB" for call in slack.of("chat.postMessage"))
    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        assert (group.status, group.acknowledged_by) == ("firing", "Alice")
        assert Escalation.objects.get().state == "acknowledged"

