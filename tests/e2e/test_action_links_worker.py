"""With the real worker: a Teams card's Acknowledge link changes the Slack message in place.

Alertmanager fires to a route with a Slack app channel and a Teams channel.
Someone in Teams presses Acknowledge (an action page: no bot); the worker
edits the Slack message to say so and offers Unacknowledge. Alice then
unacknowledges from her own link, and the Slack message offers Acknowledge
again. Teams, which cannot edit its card without a bot, gets nothing more.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.links import action_page_url
from tests.conftest import wait_for
from tests.e2e.test_oncall_worker import fire
from tests.factories import PersonFactory, ReceiverFactory, RouteFactory
from tests.receivers.slack_bot.conftest import slack_receiver
from tests.receivers.transports.slack_api import SlackApi

pytestmark = pytest.mark.e2e

CHANNEL = "C0HERALD"


@pytest.fixture(autouse=True)
def _worker_loads_tenants_anew(committed_tenants):
    """The worker caches tenants for a minute; committed_tenants made them anew (new keys)."""
    from tenant_schemas_celery.task import _shared_storage

    _shared_storage.clear()


def press(live_server, url: str) -> requests.Response:
    """Open an action page on the live server and press its button, as a browser would."""
    page_url = live_server.url + urlsplit(url).path
    session = requests.Session()
    page = session.get(page_url, timeout=10)
    assert page.status_code == 200, page.text
    return session.post(page_url, data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
                        headers={"Referer": page_url}, timeout=10)


def slack_buttons(blocks) -> set[str]:
    return {element.get("action_id", "") for block in blocks if block["type"] == "actions"
            for element in block["elements"]}


def test_acknowledged_from_teams_the_slack_message_changes_and_alices_undo_too(
    live_server, committed_tenants, celery_worker_thread, httpserver, ingest_key, settings
):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0
    alpha = committed_tenants["alpha"]
    slack = SlackApi(httpserver).install()
    httpserver.expect_request("/teams").respond_with_data("", status=202)
    with tenant_context(alpha):
        app = slack_receiver(name="oncall-slack", api_url=slack.api_url)
        teams = ReceiverFactory(name="teams-sre", kind="msteams",
                                secrets={"url": httpserver.url_for("/teams")})
        RouteFactory(receivers=[app, teams])
        alice = PersonFactory(user__username="alice", display_name="Alice", membership="editor")

    group_key = fire(live_server, ingest_key, alpha)
    card = wait_for(lambda: next((request.get_json() for request, _ in httpserver.log
                                  if request.path == "/teams"), None))
    wait_for(lambda: slack.of("chat.postMessage"))
    actions = {action["title"]: action["url"]
               for action in card["attachments"][0]["content"]["actions"]}

    done = press(live_server, actions["Acknowledge"])
    assert done.status_code == 200 and "Acknowledged by link:teams-sre" in done.text
    update = wait_for(lambda: next((call.body for call in slack.of("chat.update")
                                    if call.body["channel"] == CHANNEL), None))
    assert update["ts"] == slack.of("chat.postMessage")[0].answer["ts"]
    assert "link:teams-sre" in str(update["blocks"])
    assert "herald-action-unacknowledge" in slack_buttons(update["blocks"])

    with tenant_context(alpha):
        group = AlertGroup.objects.get(group_key=group_key)
        undo = action_page_url(tenant=alpha, alert_group_id=group.id, incident=group.incident,
                               recipient=f"person:{alice.id}", action="unacknowledge",
                               channel="email")
    undone = press(live_server, undo)
    assert undone.status_code == 200 and "Unacknowledged by Alice" in undone.text
    again = wait_for(lambda: slack.of("chat.update")[1:2])[0].body
    assert "herald-action-acknowledge" in slack_buttons(again["blocks"])
    assert "herald-action-unacknowledge" not in slack_buttons(again["blocks"])
    with tenant_context(alpha):
        group.refresh_from_db()
        assert (group.acknowledged_at, group.acknowledged_by) == (None, "")
    assert [request.path for request, _ in httpserver.log].count("/teams") == 1
    assert slack.problems == []
