"""What a click does, as the task runs it: as the linked person, if they may; else nothing.

The reply goes to the click's response_url on a stand-in for Slack.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.actions import action_compact_token
from escalation.models import ContactMethod
from receivers.slack_bot.interactions import response_url_allowed, slack_click_run
from receivers.slack_bot.payloads import Click
from tests.factories import AlertGroupFactory, ContactMethodFactory, PersonFactory
from tests.receivers.slack_bot.conftest import slack_receiver
from tests.receivers.transports.slack_api import SlackApi


@pytest.fixture
def slack(httpserver):
    return SlackApi(httpserver).install()


@pytest.fixture
def group(alpha):
    return AlertGroupFactory()


def click(slack, token, user_id="U0ALICE"):
    return Click(user_id=user_id, user_name="alice", token=token,
                 response_url=slack.response_url, channel_id="C0HERALD",
                 message_ts="1700000000.000001")


def token_for(tenant, group, action="acknowledge"):
    return action_compact_token(tenant=tenant, alert_group_id=group.id, incident=group.incident,
                                action=action)


def linked(user_id="U0ALICE", role="editor", name="alice"):
    person = PersonFactory(user__username=name, membership=role)
    ContactMethodFactory(person=person, kind="slack_app", address=user_id)
    return person


def test_a_linked_editor_acknowledges_and_is_told_so(alpha, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    linked()
    reply = slack_click_run(receiver_id=receiver.id, click=click(slack, token_for(alpha, group)))

    group.refresh_from_db()
    assert group.acknowledged_at is not None
    assert group.acknowledged_by == "Alice"
    assert [r["text"] for r in slack.replies] == [reply]
    assert slack.replies[0]["response_type"] == "ephemeral"
    assert slack.replies[0]["replace_original"] is False


def test_an_unlinked_user_is_offered_a_link_and_nothing_changes(alpha, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    reply = slack_click_run(receiver_id=receiver.id,
                            click=click(slack, token_for(alpha, group), user_id="U0STRANGER"))

    assert AlertGroup.objects.get(id=group.id).acknowledged_at is None
    assert "nothing was changed" in reply
    assert "Link your Slack account" in reply
    assert "http://alpha.localhost" in reply and "/slack/link/alpha:" in reply
    assert slack.replies[0]["text"] == reply


def test_an_unverified_slack_contact_method_does_not_count_as_linked(alpha, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    person = PersonFactory(user__username="mallory", membership="admin")
    ContactMethod.objects.create(person=person, kind="slack_app", address="U0ALICE")
    reply = slack_click_run(receiver_id=receiver.id, click=click(slack, token_for(alpha, group)))

    assert AlertGroup.objects.get(id=group.id).acknowledged_at is None
    assert "Link your Slack account" in reply


def test_a_linked_member_without_rights_is_refused_and_nothing_changes(alpha, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    linked(role="auditor")
    reply = slack_click_run(receiver_id=receiver.id,
                            click=click(slack, token_for(alpha, group, "resolve")))

    group.refresh_from_db()
    assert group.status == "firing" and group.acknowledged_at is None
    assert "Nothing was changed" in reply


def test_another_tenants_button_does_nothing_here(alpha, beta, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    linked()
    with tenant_context(beta):
        theirs = token_for(beta, group)
    reply = slack_click_run(receiver_id=receiver.id, click=click(slack, theirs))

    assert AlertGroup.objects.get(id=group.id).acknowledged_at is None
    assert "not valid" in reply


def test_a_second_click_says_who_did_it_already(alpha, slack, group):
    receiver = slack_receiver(api_url=slack.api_url)
    linked()
    linked(user_id="U0BOB", name="bob")
    slack_click_run(receiver_id=receiver.id, click=click(slack, token_for(alpha, group)))
    second = slack_click_run(receiver_id=receiver.id,
                             click=click(slack, token_for(alpha, group), user_id="U0BOB"))

    assert "Alice" in second
    assert AlertGroup.objects.get(id=group.id).acknowledged_by == "Alice"


def test_a_reply_goes_only_to_slack_or_the_receivers_own_api_host():
    api = "http://127.0.0.1:5000/api"
    assert response_url_allowed(response_url="https://hooks.slack.com/actions/T/1/x",
                                api_url="https://slack.com/api")
    assert response_url_allowed(response_url="http://127.0.0.1:5000/actions/x", api_url=api)
    assert not response_url_allowed(response_url="http://hooks.slack.com/actions/x",
                                    api_url="https://slack.com/api")
    assert not response_url_allowed(response_url="https://evil.example/actions/x", api_url=api)
    assert not response_url_allowed(response_url="http://127.0.0.1:5001/actions/x", api_url=api)
