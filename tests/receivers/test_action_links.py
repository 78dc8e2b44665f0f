"""Channels whose buttons are links carry Herald's signed action pages.

Teams gets Adaptive Card `Action.OpenUrl` buttons (no bot needed); email,
Discord, PagerDuty and the webhook's JSON carry the same links. Each opens
the action page, which acts only when its button is pressed.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from alerting.models import AlertGroup
from receivers.delivery import notification_deliver
from receivers.delivery.send import notification_message
from receivers.models import Notification
from receivers.transports import transport_class
from receivers.transports.msteams import CARD_CONTENT_TYPE, MESSAGE_LIMIT_BYTES
from receivers.transports.pagerduty import pagerduty_event
from tests.factories import AlertGroupFactory, NotificationFactory, ReceiverFactory
from tests.ingest import keep_schema

BASE = "http://127.0.0.1"


@pytest.fixture
def group(alpha, settings):
    settings.HERALD_BASE_URL = BASE
    return AlertGroupFactory(common_labels={"alertname": "DiskFull"},
                             group_labels={"alertname": "DiskFull"})


def delivered_body(httpserver, receiver, group, path):
    httpserver.expect_request(path).respond_with_data("ok")
    notification = NotificationFactory(receiver=receiver, alert_group=group)
    notification_deliver(notification_id=notification.id)
    assert Notification.objects.get(id=notification.id).state == "delivered"
    [(request, _)] = httpserver.log
    return json.loads(request.get_data())


def press(url: str):
    """Open an action page and press its button, as a browser would."""
    path = url.removeprefix(BASE)
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    with keep_schema():
        page = client.get(path)
        assert page.status_code == 200
        if "csrftoken" not in page.cookies:
            return page
        return client.post(path, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value})


def test_a_teams_card_has_acknowledge_resolve_and_silence_buttons_to_action_pages(
    alpha, group, httpserver
):
    teams = ReceiverFactory(name="teams-sre", kind="msteams",
                            secrets={"url": httpserver.url_for("/workflows/trigger")})

    body = delivered_body(httpserver, teams, group, "/workflows/trigger")

    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    actions = card["actions"]
    assert [action["title"] for action in actions[:3]] == [
        "Acknowledge", "Resolve", "Silence 1 h"]
    assert all(action["type"] == "Action.OpenUrl" for action in actions)
    assert len(actions) <= 6 and len(json.dumps(body)) <= MESSAGE_LIMIT_BYTES
    assert all(re.fullmatch(rf"{BASE}/act/alpha:[^/]+/", a["url"]) for a in actions[:3])
    assert "/ack/" not in json.dumps(card)  # one Acknowledge, the action page's

    # Anyone in the channel may acknowledge; resolving asks them to sign in.
    by_title = {action["title"]: action["url"] for action in actions}
    asked = press(by_title["Resolve"])
    assert b"Sign in to Alpha" in asked.content
    assert AlertGroup.objects.get(id=group.id).status == "firing"
    done = press(by_title["Acknowledge"])
    assert b"Acknowledged by link:teams-sre" in done.content
    assert AlertGroup.objects.get(id=group.id).acknowledged_by == "link:teams-sre"


def test_a_resolved_teams_card_has_no_action_buttons(alpha, group, httpserver):
    AlertGroup.objects.filter(id=group.id).update(status="resolved", resolved_at=timezone.now())
    teams = ReceiverFactory(kind="msteams", secrets={"url": httpserver.url_for("/t")})
    httpserver.expect_request("/t").respond_with_data("ok")
    notification = NotificationFactory(receiver=teams, alert_group=group, status="resolved")

    notification_deliver(notification_id=notification.id)

    [(request, _)] = httpserver.log
    assert "/act/" not in request.get_data(as_text=True)


def test_the_webhook_json_carries_the_actions_as_fields(alpha, group, httpserver):
    hook = ReceiverFactory(name="ops-hook", secrets={"url": httpserver.url_for("/hook")})

    body = delivered_body(httpserver, hook, group, "/hook")

    assert [(a["action"], a["label"]) for a in body["actions"]] == [
        ("acknowledge", "Acknowledge"), ("resolve", "Resolve"), ("silence_1h", "Silence 1 h"),
        ("silence_4h", "Silence 4 h"), ("silence_24h", "Silence 24 h")]
    assert body["groupKey"] == group.group_key  # still Alertmanager's shape besides
    page = press(body["actions"][1]["url"])
    assert b"Sent to ops-hook" in page.content


def test_discord_and_pagerduty_carry_resolve_and_silence_links(alpha, group, httpserver):
    discord = ReceiverFactory(kind="discord", secrets={"url": httpserver.url_for("/discord")})
    embed = delivered_body(httpserver, discord, group, "/discord")["embeds"][0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert {"Acknowledge", "Resolve", "Silence 1 h", "Silence 4 h", "Silence 24 h"} <= set(fields)
    assert re.fullmatch(rf"\[Resolve\]\({BASE}/act/alpha:[^)]+/\)", fields["Resolve"])

    message = notification_message(NotificationFactory(
        receiver=ReceiverFactory(kind="pagerduty", secrets={"routing_key": "k" * 32}),
        alert_group=group))
    event = transport_class("pagerduty")(
        config={}, secrets={"routing_key": "k" * 32}, allow_private=True)
    links = {link["text"]: link["href"] for link in pagerduty_event(
        rendered=event.render(message), message=message, settings=event.settings)["links"]}
    assert {"Resolve", "Silence 4 h"} <= set(links) and "/act/" in links["Resolve"]


@pytest.mark.parametrize("language,resolve", [
    ("en", "Resolve"), ("fr", "Résoudre"), ("de", "Auflösen")])
def test_an_email_lists_the_action_links_in_its_language(alpha, group, language, resolve):
    mail = ReceiverFactory(kind="email", secrets={}, config={
        "host": "127.0.0.1", "port": 9, "security": "none", "language": language,
        "from_address": "herald@example.com", "to": ["sre@example.com"]})
    message = notification_message(NotificationFactory(receiver=mail, alert_group=group))

    parts = transport_class("email")(
        config=mail.config, secrets={}, allow_private=True).rendered_parts(message)

    assert re.search(rf"^{resolve}: {BASE}/act/alpha:\S+/$", parts["text"], re.MULTILINE)
    assert re.search(rf'<a href="{BASE}/act/alpha:[^"]+/">{resolve}</a>', parts["html"])


def test_an_acknowledged_group_offers_unacknowledge_instead(alpha, group):
    AlertGroup.objects.filter(id=group.id).update(
        acknowledged_at=timezone.now(), acknowledged_by="Alice")
    group.refresh_from_db()
    message = notification_message(NotificationFactory(alert_group=group))

    assert [action.action for action in message.actions] == [
        "unacknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h"]
    assert (message.group_state, message.acknowledged_by) == ("acknowledged", "Alice")
    assert all(len(action.token) <= 48 for action in message.actions)


def test_a_slack_webhook_message_gets_link_buttons_to_the_action_pages(alpha, group, httpserver):
    slack = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for("/services/T/B/x")})

    body = delivered_body(httpserver, slack, group, "/services/T/B/x")

    buttons = {button["action_id"]: button["url"] for button in body["blocks"][-1]["elements"]}
    assert {"herald-acknowledge", "herald-resolve", "herald-silence_1h", "herald-silence_4h",
            "herald-silence_24h"} <= set(buttons)
    assert "/ack/" in buttons["herald-acknowledge"] and "/act/" in buttons["herald-resolve"]
    assert len(buttons) <= 25
