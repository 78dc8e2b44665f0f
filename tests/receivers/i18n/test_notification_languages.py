"""What Herald adds to a notification speaks the receiver's language (en, fr, de).

The digest's sentence, the Slack context line, the buttons and the ticket
comments come from the receivers catalogue, rendered under the receiver's
language; English stays word for word what it always was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from receivers.delivery.digest import digest_text
from receivers.message_rendering import message_render
from receivers.messages import MessageAction
from receivers.transports.jira_requests import state_sentence
from receivers.transports.servicenow import update_line
from receivers.transports.slack import slack_payload
from receivers.transports.slack_app import state_line
from receivers.transports.telegram_keyboard import telegram_keyboard
from receivers.transports.twilio_voice import reply_line
from tests.receivers.helpers import alert, alert_message

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TWELVE = [alert(n=n) for n in range(12)]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "12 more alerts in the last 5 minutes: HighLatency (web-0:9100), "),
    ("fr", "12 alertes de plus ces 5 dernières minutes : HighLatency (web-0:9100), "),
    ("de", "12 weitere Alarme in den letzten 5 Minuten: HighLatency (web-0:9100), "),
])
def test_the_digest_says_how_many_alerts_over_how_long_in_the_receivers_language(
    language, expected
):
    text = digest_text(alerts=TWELVE, since=NOW - timedelta(minutes=4, seconds=10), now=NOW,
                       language=language)

    assert text.startswith(expected)
    assert text.endswith({"en": " and 2 more", "fr": " et 2 autres", "de": " und 2 weitere"}[
        language])


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "1 more alert in the last minute: HighLatency (web-1:9100)"),
    ("fr", "1 alerte de plus dans la dernière minute : HighLatency (web-1:9100)"),
    ("de", "1 weiterer Alarm in der letzten Minute: HighLatency (web-1:9100)"),
])
def test_one_alert_in_under_a_minute_is_singular_in_every_language(language, expected):
    assert digest_text(alerts=[alert()], since=NOW, now=NOW, language=language) == expected


def test_the_digest_does_not_change_the_language_around_it():
    with translation.override("de"):
        digest_text(alerts=[alert()], since=NOW, now=NOW, language="fr")
        assert translation.get_language() == "de"


@pytest.mark.parametrize(("language", "context"), [
    ("en", "Alpha · ops · 2/2 firing"),
    ("fr", "Alpha · ops · 2/2 en alerte"),
    ("de", "Alpha · ops · 2/2 ausgelöst"),
])
def test_the_slack_context_line_and_link_buttons_are_in_the_receivers_language(
    language, context
):
    message = alert_message(alerts=[alert(n=1), alert(n=2)])
    rendered = message_render(channel="slack", message=message, language=language)

    payload = slack_payload(rendered=rendered, message=message, language=language)

    contexts = [b for b in payload["blocks"] if b["type"] == "context"]
    assert contexts[0]["elements"][0]["text"] == context
    buttons = [e["text"]["text"] for b in payload["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    silence = {"en": "Silence", "fr": "Mettre en silence", "de": "Stummschalten"}[language]
    assert silence in buttons


def test_the_slack_apps_state_line_says_who_acknowledged_in_the_active_language():
    message = alert_message(alerts=[alert(n=1), alert("resolved", n=2)],
                            group_state="acknowledged", acknowledged_by="Alice")

    lines = {}
    for language in ("en", "fr", "de"):
        with translation.override(language):
            lines[language] = state_line(message)

    assert lines["en"] == "*👀 Acknowledged by Alice* · Alpha · ops · 1/2 firing"
    assert lines["fr"] == "*👀 Acquitté par Alice* · Alpha · ops · 1/2 en alerte"
    assert lines["de"] == "*👀 Bestätigt von Alice* · Alpha · ops · 1/2 ausgelöst"


def test_telegrams_buttons_are_labelled_in_the_active_language():
    actions = tuple(MessageAction(action=name, label="", url="", token=f"t{n}")
                    for n, name in enumerate(("acknowledge", "resolve", "silence_1h")))

    with translation.override("fr"):
        keyboard = telegram_keyboard(actions)

    labels = [button["text"] for row in keyboard["inline_keyboard"] for button in row]
    assert labels == ["✅ Acquitter", "☑️ Résoudre", "🔕 Silence 1 h"]


def test_ticket_comments_keep_each_vendors_wording_per_language():
    acknowledged = replace(alert_message(), acknowledged=True, acknowledged_by="Alice",
                           group_update="acknowledged")

    assert state_sentence(acknowledged, "fr") == "Acquitté dans Herald par Alice."
    assert update_line(acknowledged, language="fr") == "Pris en charge dans Herald par Alice."
    assert state_sentence(acknowledged, "de") == "In Herald bestätigt von Alice."
    assert update_line(acknowledged, language="de") == "In Herald übernommen von Alice."
    assert update_line(acknowledged, language="en") == "Acknowledged in Herald by Alice."


def test_the_sms_reply_line_is_in_the_persons_language():
    assert reply_line(code=12, language="de") == (
        "Antworten Sie 12a zum Bestätigen, 12r zum Auflösen, 12s für 1 h Ruhe")
    assert reply_line(code=12, language="xx") == (
        "Reply 12a to acknowledge, 12r to resolve, 12s to silence 1 h")
