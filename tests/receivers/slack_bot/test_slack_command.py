"""`/herald oncall`: who is on call now in each schedule, told to a linked member only."""

from __future__ import annotations

import pytest

from tests.factories import (
    ContactMethodFactory,
    PersonFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
)
from tests.receivers.slack_bot.conftest import command_body, command_path, post, signed_headers


def ask(alpha, receiver, text="oncall", user_id="U0ALICE", **headers):
    body = command_body(text=text, user_id=user_id)
    return post(command_path(alpha, receiver), body, **(headers or signed_headers(body)))


@pytest.fixture
def alice(alpha):
    person = PersonFactory(user__username="alice", display_name="Alice")
    ContactMethodFactory(person=person, kind="slack_app", address="U0ALICE")
    return person


def test_with_no_schedules_it_says_nobody_is_on_call(alpha, receiver, alice):
    response = ask(alpha, receiver)
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "replace_original": False,
                               "text": "There are no on-call schedules yet, so nobody is on call."}


def test_it_names_who_is_on_call_in_each_schedule_mentioning_linked_people(
    alpha, receiver, alice
):
    bob = PersonFactory(user__username="bob", display_name="Bob <the builder>")
    ScheduleLayerFactory(schedule=ScheduleFactory(name="Primary"), members=[alice])
    ScheduleLayerFactory(schedule=ScheduleFactory(name="Secondary"), members=[bob])
    ScheduleFactory(name="Empty")

    text = ask(alpha, receiver).json()["text"]
    assert text.splitlines() == [
        "*On call now*",
        "• *Empty*: nobody (a gap)",
        "• *Primary*: <@U0ALICE>",
        "• *Secondary*: Bob &lt;the builder&gt;",
    ]


def test_an_unlinked_user_is_offered_the_link_instead(alpha, receiver):
    ScheduleLayerFactory(schedule=ScheduleFactory(name="Primary"),
                         members=[PersonFactory(display_name="Alice")])
    text = ask(alpha, receiver, user_id="U0STRANGER").json()["text"]
    assert "Link your Slack account" in text and "Alice" not in text


def test_anything_else_gets_the_help(alpha, receiver, alice):
    assert "/herald oncall" in ask(alpha, receiver, text="dance").json()["text"]


def test_the_command_is_checked_as_the_clicks_are(alpha, receiver, alice):
    body = command_body()
    stale = signed_headers(body, age=301)
    assert post(command_path(alpha, receiver), body, **stale).status_code == 401
    forged = signed_headers(body, secret="not the app's secret")
    assert post(command_path(alpha, receiver), body, **forged).status_code == 401
    fresh = signed_headers(body)
    assert post(command_path(alpha, receiver), body, **fresh).status_code == 200
    assert post(command_path(alpha, receiver), body, **fresh).status_code == 401  # replayed


def test_a_user_id_that_is_not_slacks_is_a_400_naming_the_field(alpha, receiver):
    response = ask(alpha, receiver, user_id="alice; drop table")
    assert response.status_code == 400
    assert response.json()["error"] == "user_id: not a Slack user id"
