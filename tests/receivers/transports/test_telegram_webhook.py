"""The bot's webhook: only Telegram, with the secret it was given, reaches a tenant's bot.

Requests go through Herald's URLs (the test client) on Herald's shared host
and on tenants' own hosts; an accepted update is handed to a task on
commit, a refused one changes nothing and enqueues nothing.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tests.factories import ReceiverFactory
from tests.ingest import keep_schema
from tests.receivers.transports.telegram_standin import (
    SECRET,
    TOKEN,
    button_update,
    command_update,
)

pytestmark = pytest.mark.django_db
HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"


@pytest.fixture
def bot(alpha):
    return ReceiverFactory(name="tg", kind="telegram", config={"chat_id": -100123},
                           secrets={"bot_token": TOKEN, "webhook_secret": SECRET})


def deliver(path, body, *, host="127.0.0.1", secret=SECRET, **extra):
    headers = {HEADER: secret} if secret is not None else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    with keep_schema():
        return Client(HTTP_HOST=host).post(path, data=data, content_type="application/json",
                                           **headers, **extra)


def url(receiver, slug="alpha"):
    return f"/telegram/{slug}/{receiver.id}/webhook/"


def test_an_update_with_the_secret_is_accepted_and_handed_to_a_task(
    bot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = deliver(url(bot), button_update("h1:abc"))

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert len(enqueued) == 1


def test_the_tenants_own_host_takes_its_own_bots_updates(bot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        response = deliver(url(bot), command_update("/oncall"), host="alpha.localhost")
    assert response.status_code == 200 and len(enqueued) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.lower()])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_enqueued(
    bot, secret, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = deliver(url(bot), button_update("h1:abc"), secret=secret)

    assert response.status_code == 403 and response.json()["ok"] is False
    assert enqueued == []


def test_another_tenants_receiver_or_host_is_refused(
    alpha, beta, bot, django_capture_on_commit_callbacks
):
    with tenant_context(beta):
        theirs = ReceiverFactory(name="tg-beta", kind="telegram", config={"chat_id": -1},
                                 secrets={"bot_token": TOKEN, "webhook_secret": "beta-secret"})
    with django_capture_on_commit_callbacks() as enqueued:
        answers = [
            # beta's secret on alpha's receiver, alpha's on beta's, and alpha's id under beta
            deliver(url(bot), button_update("h1:x"), secret="beta-secret").status_code,
            deliver(url(theirs, "beta"), button_update("h1:x")).status_code,
            deliver(url(bot, "beta"), button_update("h1:x")).status_code,
            # alpha's own URL and secret, but through beta's host
            deliver(url(bot), button_update("h1:x"), host="beta.localhost").status_code,
            deliver(f"/telegram/nobody/{bot.id}/webhook/", button_update("h1:x")).status_code,
        ]
    assert answers == [403] * 5
    assert enqueued == []


def test_a_receiver_whose_webhook_was_never_registered_takes_nothing(
    alpha, django_capture_on_commit_callbacks
):
    plain = ReceiverFactory(name="tg-plain", kind="telegram", config={"chat_id": -1},
                            secrets={"bot_token": TOKEN})
    other = ReceiverFactory(name="hook", kind="webhook")
    with django_capture_on_commit_callbacks() as enqueued:
        assert deliver(url(plain), button_update("h1:x"), secret="").status_code == 403
        assert deliver(url(plain), button_update("h1:x"), secret="anything").status_code == 403
        assert deliver(url(other), button_update("h1:x")).status_code == 403
    assert enqueued == []


def test_a_disabled_receiver_takes_nothing(bot, django_capture_on_commit_callbacks):
    bot.enabled = False
    bot.save(update_fields=["enabled"])
    with django_capture_on_commit_callbacks() as enqueued:
        assert deliver(url(bot), button_update("h1:x")).status_code == 403
    assert enqueued == []


def test_bodies_are_bounded_and_must_be_an_update(bot, django_capture_on_commit_callbacks):
    big = {"update_id": 1, "message": {"text": "x" * 70_000}}
    with django_capture_on_commit_callbacks() as enqueued:
        assert deliver(url(bot), big).status_code == 413
        assert deliver(url(bot), b"{not json").status_code == 400
        assert deliver(url(bot), [1, 2]).status_code == 400
        # Another update type: answered, so that Telegram does not resend it; no task.
        assert deliver(url(bot), {"update_id": 2, "edited_message": {"text": "/x"}}
                       ).status_code == 200
    assert enqueued == []


def test_only_post_is_answered(bot):
    with keep_schema():
        response = Client().get(url(bot), **{HEADER: SECRET})
    assert response.status_code == 405
