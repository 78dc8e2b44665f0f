"""An email about a Grafana alert shows its dashboard, panel, image and silence links and values."""

from __future__ import annotations

import pytest

from alerting.sources.grafana import grafana_webhook
from receivers.message_rendering import message_render
from tests.alerting.sources.payloads import grafana_payload
from tests.receivers.helpers import alert_message


def grafana_message(payload: dict):
    webhook = grafana_webhook(payload, config={}, source="grafana-prod")
    alerts = [{**alert, "startsAt": alert["startsAt"].isoformat(), "endsAt": None}
              for alert in webhook["alerts"]]
    return alert_message(alerts=alerts, truncated_alerts=webhook["truncatedAlerts"],
                         common_annotations=webhook["commonAnnotations"])


@pytest.mark.parametrize(("language", "values", "panel"), [
    ("en", "Values: B=82.1, C=1", "Panel: https://play.grafana.example/d/cpu?viewPanel=3"),
    ("de", "Werte: B=82.1, C=1", "Panel: https://play.grafana.example/d/cpu?viewPanel=3"),
    ("fr", "Valeurs: B=82.1, C=1", "Panneau: https://play.grafana.example"),
])
def test_the_email_shows_grafanas_links_and_values(language, values, panel):
    message = grafana_message(grafana_payload(truncatedAlerts=2))
    rendered = message_render(channel="email", message=message, language=language)

    assert values in rendered["text"] and panel in rendered["text"]
    assert "render/cpu.png" in rendered["text"]
    assert "Grafana left 2 alert(s) out" in rendered["text"]
    assert '<a href="https://play.grafana.example/d/cpu">' in rendered["html"]


def test_a_link_that_is_not_http_is_shown_as_text_not_as_a_link():
    payload = grafana_payload()
    payload["alerts"][1]["dashboardURL"] = "javascript:alert(1)"
    rendered = message_render(channel="email", message=grafana_message(payload))
    assert 'href="javascript' not in rendered["html"]
    assert "javascript:alert(1)" in rendered["html"]


@pytest.mark.parametrize(("language", "values"), [
    ("en", "Values: B=82.1, C=1"), ("de", "Werte: B=82.1, C=1"), ("fr", "Valeurs: B=82.1, C=1"),
])
def test_the_slack_message_links_grafanas_dashboard_and_shows_the_values(language, values):
    payload = grafana_payload(truncatedAlerts=1)
    payload["alerts"][0]["panelURL"] = "javascript:alert(1)"
    rendered = message_render(channel="slack", message=grafana_message(payload),
                              language=language)
    body = "\n".join(rendered.parts.values())
    assert values in body
    assert "<https://play.grafana.example/d/cpu|" in body
    assert "<javascript" not in body
    assert "Grafana left 1 alert(s) out" in body
