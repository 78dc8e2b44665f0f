"""The interactive endpoint: only the app's own, fresh, first requests start any work.

Every refusal is a 401 with nothing enqueued; a click Slack signed is
answered 200 at once and its work is one task, enqueued on commit.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

import pytest

from escalation.actions import action_compact_token
from tests.factories import AlertGroupFactory
from tests.receivers.slack_bot.conftest import (
    click_body,
    interactive_path,
    post,
    signed_headers,
    slack_receiver,
)


@pytest.fixture
def token(alpha):
    group = AlertGroupFactory()
    return action_compact_token(tenant=alpha, alert_group_id=group.id, incident=group.incident,
                                action="acknowledge")


def clicked(django_capture_on_commit_callbacks, path, body, **headers):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(path, body, **headers)
    return response, callbacks


def test_a_click_slack_signed_is_answered_at_once_and_handed_to_a_task(
    alpha, receiver, token, django_capture_on_commit_callbacks
):
    body = click_body(token=token)
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), body, **signed_headers(body))
    assert response.status_code == 200
    assert len(callbacks) == 1


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_request_signed_more_than_five_minutes_away_is_refused(
    alpha, receiver, token, django_capture_on_commit_callbacks, age
):
    body = click_body(token=token)
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), body,
                                  **signed_headers(body, age=age))
    assert response.status_code == 401
    assert callbacks == []


def test_a_tampered_body_is_refused(alpha, receiver, token, django_capture_on_commit_callbacks):
    body = click_body(token=token)
    headers = signed_headers(body)
    tampered = body.replace(b"acknowledge", b"resolve")
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), tampered, **headers)
    assert response.status_code == 401
    assert callbacks == []


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64, "HTTP_X_SLACK_REQUEST_TIMESTAMP": "1"},
    {"HTTP_X_SLACK_SIGNATURE": "forged", "HTTP_X_SLACK_REQUEST_TIMESTAMP": "now"},
])
def test_a_forged_request_is_refused(
    alpha, receiver, token, django_capture_on_commit_callbacks, headers
):
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), click_body(token=token),
                                  **headers)
    assert response.status_code == 401
    assert callbacks == []


def test_a_replayed_request_is_refused(alpha, receiver, token, django_capture_on_commit_callbacks):
    body = click_body(token=token)
    headers = signed_headers(body)
    first, _ = clicked(django_capture_on_commit_callbacks, interactive_path(alpha, receiver),
                       body, **headers)
    again, callbacks = clicked(django_capture_on_commit_callbacks,
                               interactive_path(alpha, receiver), body, **headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert callbacks == []


def test_slacks_retry_of_a_click_is_answered_but_done_once(
    alpha, receiver, token, django_capture_on_commit_callbacks
):
    body = click_body(token=token)
    first, done = clicked(django_capture_on_commit_callbacks, interactive_path(alpha, receiver),
                          body, **signed_headers(body))
    # Slack signs its retry anew (a later timestamp) and says which retry it is.
    retry, again = clicked(django_capture_on_commit_callbacks, interactive_path(alpha, receiver),
                           body, HTTP_X_SLACK_RETRY_NUM="1", HTTP_X_SLACK_RETRY_REASON="timeout",
                           **signed_headers(body, age=-2))
    assert (first.status_code, retry.status_code) == (200, 200)
    assert (len(done), len(again)) == (1, 0)


def test_another_tenants_app_cannot_sign_for_this_receiver(
    alpha, beta, receiver, token, django_capture_on_commit_callbacks
):
    from django_tenants.utils import tenant_context

    with tenant_context(beta):
        theirs = slack_receiver(name="their-slack", signing_secret="beta's-own-signing-secret")
    body = click_body(token=token)
    signed_by_beta = signed_headers(body, secret="beta's-own-signing-secret")
    cases = [
        # beta's signature on alpha's receiver
        (interactive_path(alpha, receiver), signed_by_beta, "127.0.0.1"),
        # alpha's signature on beta's receiver (alpha's receiver id under beta's slug)
        (f"/slack/{beta.slug}/{receiver.id}/interactive/", signed_headers(body), "127.0.0.1"),
        # beta's receiver named under alpha's slug
        (f"/slack/{alpha.slug}/{theirs.id}/interactive/", signed_by_beta, "127.0.0.1"),
        # alpha's URL on beta's own host
        (interactive_path(alpha, receiver), signed_headers(body), "beta.localhost"),
        # a tenant that does not exist
        (f"/slack/nobody/{receiver.id}/interactive/", signed_headers(body), "127.0.0.1"),
    ]
    for path, headers, host in cases:
        response, callbacks = clicked(django_capture_on_commit_callbacks, path, body,
                                      host=host, **headers)
        assert response.status_code == 401, path
        assert callbacks == []


def test_a_receiver_without_a_signing_secret_takes_no_clicks(
    alpha, token, django_capture_on_commit_callbacks
):
    bare = slack_receiver(name="imported", signing_secret=None)
    body = click_body(token=token)
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, bare), body, **signed_headers(body))
    assert response.status_code == 401
    assert callbacks == []


@pytest.mark.parametrize("body", [
    b"payload=not-json",
    b"nothing=here",
    b"payload=%7B%22type%22%3A%22block_actions%22%7D",
    b"\xff\xfe",
    b"payload=" + b"%5B" * 60_000,  # nested deeper than Python's recursion limit
])
def test_a_signed_body_herald_cannot_read_is_a_400_naming_the_field(
    alpha, receiver, django_capture_on_commit_callbacks, body
):
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), body, **signed_headers(body))
    assert response.status_code == 400
    assert "payload" in response.json()["error"] or "form" in response.json()["error"]
    assert callbacks == []


def test_a_body_over_the_limit_is_refused_unread(
    alpha, receiver, django_capture_on_commit_callbacks
):
    body = b"payload=" + b"x" * (300 * 1024)
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), body, **signed_headers(body))
    assert response.status_code == 413
    assert callbacks == []


def test_a_click_on_a_link_button_is_acknowledged_and_starts_nothing(
    alpha, receiver, django_capture_on_commit_callbacks
):
    payload = {"type": "block_actions", "user": {"id": "U0ALICE"},
               "trigger_id": secrets.token_hex(12),
               "actions": [{"action_id": "herald-link-generator", "type": "button"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    response, callbacks = clicked(django_capture_on_commit_callbacks,
                                  interactive_path(alpha, receiver), body, **signed_headers(body))
    assert response.status_code == 200
    assert callbacks == []
