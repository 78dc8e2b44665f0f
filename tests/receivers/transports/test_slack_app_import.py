"""Alertmanager's slack_configs posting to chat.postMessage with a bot token: a slack_app."""

from __future__ import annotations

from alerting.config.alertmanager import alertmanager_import
from alerting.config.export import document_data

TOKEN = "xoxb-1111111111-2222222222-abcdefABCDEF0123456789ab"


def imported(slack_config: str):
    text = f"""
route:
  receiver: team
receivers:
  - name: team
    slack_configs:
{slack_config}
"""
    result = alertmanager_import(text=text, herald_url="https://herald.example.com")
    return document_data(result.document)["receivers"], "\n".join(result.notes)


def test_an_app_token_on_chat_postmessage_imports_as_a_slack_app():
    receivers, notes = imported(f"""
      - api_url: https://slack.com/api/chat.postMessage
        channel: "#oncall"
        http_config:
          authorization:
            credentials: {TOKEN}
""")
    assert receivers == [{
        "name": "team", "kind": "slack_app", "config": {"channel": "#oncall"},
        "secrets": {"bot_token": TOKEN},
    }]
    assert "signing_secret: set the Slack app's signing secret by hand" in notes
    assert "channel is not imported" not in notes
    assert "http_config is not imported" not in notes


def test_app_token_is_read_too_and_a_stand_in_api_is_kept():
    receivers, _ = imported(f"""
      - api_url: http://slack-proxy.internal:8080/api/chat.postMessage
        app_token: {TOKEN}
        channel: C0123ABCD
""")
    assert receivers[0]["kind"] == "slack_app"
    assert receivers[0]["config"] == {"channel": "C0123ABCD",
                                      "api_url": "http://slack-proxy.internal:8080/api"}


def test_chat_postmessage_without_a_token_is_not_imported_and_says_why():
    receivers, notes = imported("""
      - api_url: https://slack.com/api/chat.postMessage
        channel: "#oncall"
""")
    assert receivers == []
    assert "not imported: chat.postMessage needs a bot token" in notes


def test_an_incoming_webhook_still_imports_as_the_webhook_channel():
    receivers, notes = imported("""
      - api_url: https://hooks.slack.com/services/T0/B0/secret
        channel: "#oncall"
""")
    assert receivers[0]["kind"] == "slack"
    assert "channel is not imported: a Slack incoming webhook posts to the channel" in notes


def test_alertmanagers_own_app_token_field_imports_as_a_slack_app():
    receivers, _ = imported(f"""
      - app_token: {TOKEN}
        channel: "#oncall"
""")
    assert receivers == [{"name": "team", "kind": "slack_app", "config": {"channel": "#oncall"},
                          "secrets": {"bot_token": TOKEN}}]
