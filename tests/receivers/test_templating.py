"""Templates: every default in every language, the sandbox, errors with their line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from receivers.message_rendering import message_preview, message_render
from receivers.models import MessageTemplate
from receivers.selectors import message_template_sources
from receivers.services import message_template_save
from receivers.template_checks import template_source_check
from receivers.template_context import LANGUAGES, silence_url, template_context
from receivers.template_filters import duration_filter, label_filter
from receivers.template_limits import TemplateError
from receivers.template_render import template_render_source
from receivers.transports.registry import channel_parts, templated_kinds
from tests.receivers.helpers import alert_message

DEFAULTS = [
    (channel, language, status)
    for channel in templated_kinds()
    for language in LANGUAGES
    for status in ("firing", "resolved")
]
STATUS_WORD = {
    ("en", "firing"): "FIRING",
    ("en", "resolved"): "RESOLVED",
    ("fr", "firing"): "ALERTE",
    ("fr", "resolved"): "RÉSOLU",
    ("de", "firing"): "AUSGELÖST",
    ("de", "resolved"): "BEHOBEN",
}
DURATION_WORD = {"en": "Duration", "fr": "Durée", "de": "Dauer"}


@pytest.mark.parametrize(("channel", "language", "status"), DEFAULTS)
def test_every_default_renders_in_every_language(channel, language, status):
    rendered = message_preview(channel=channel, language=language, status=status)

    assert set(rendered.parts) == set(channel_parts(channel))
    assert all(text.strip() for text in rendered.parts.values())
    everything = "\n".join(rendered.parts.values())
    assert STATUS_WORD[(language, status)] in everything
    assert "HighLatency" in everything
    if channel not in ("pagerduty", "sns", "twilio"):  # a one-line summary only (an SMS too)
        assert DURATION_WORD[language] in everything
        assert "p99 latency on web-1 is 2.4s" in everything
    assert "None" not in everything and "Undefined" not in everything


@pytest.mark.parametrize("language", LANGUAGES)
def test_resolved_messages_show_when_alerts_ended_and_offer_no_silence(language):
    rendered = message_preview(channel="email", language=language, status="resolved")
    assert "10:05 UTC" in rendered["text"]  # the sample's endsAt
    assert "#/silences/new" not in rendered["text"]
    assert "silence" not in {link.kind for link in rendered.links}


def test_html_parts_escape_alert_values():
    message = alert_message(
        alerts=[
            {
                "status": "firing",
                "labels": {"alertname": "X<script>"},
                "annotations": {"summary": "<img src=x onerror=alert(1)>"},
                "startsAt": "2026-11-23T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "1",
            }
        ]
    )
    for channel, part in (("email", "html"), ("telegram", "body")):
        text = message_render(channel=channel, message=message)[part]
        assert "<img" not in text and "&lt;img src=x" in text


def test_slack_mrkdwn_control_characters_are_escaped():
    message = alert_message(
        alerts=[{**alert_message().alerts[0], "annotations": {"summary": "a <!channel> & b"}}]
    )
    body = message_render(channel="slack", message=message)["body"]
    assert "&lt;!channel&gt; &amp; b" in body


def test_the_context_is_documented_and_complete():
    now = datetime(2026, 11, 23, 10, 45, tzinfo=UTC)
    message = alert_message(acknowledge_url="https://herald.example/ack/1")
    context = template_context(message=message, language="fr", now=now)

    assert context["status"] == "firing"
    assert context["alertname"] == "HighLatency"
    assert context["severity"] == "critical"
    assert context["tenant"] == {"slug": "alpha", "name": "Alpha"}
    assert context["receiver"]["name"] == "ops"
    assert context["group"]["key"] == message.group_key
    assert context["common_labels"] == message.common_labels
    first = context["alerts"][0]
    assert first["starts_at"] == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert first["ends_at"] is None
    assert first["duration"] == timedelta(minutes=45)
    assert first["silence_url"].startswith(
        "http://alertmanager.example:9093/#/silences/new?filter="
    )
    assert context["links"] == {
        "alertmanager": "http://alertmanager.example:9093",
        "silence": silence_url(message.external_url, message.common_labels),
        "acknowledge": "https://herald.example/ack/1",
        "generator": "http://prometheus.example:9090/graph?g0.expr=latency",
        # Herald's action pages: none on a message that offers no actions.
        "unacknowledge": "", "resolve": "", "silence_1h": "", "silence_4h": "",
        "silence_24h": "", "actions": [],
    }
    assert len(context["firing_alerts"]) == 2 and context["resolved_alerts"] == []


def test_the_silence_url_is_alertmanagers_filter_syntax():
    url = silence_url("http://am:9093/", {"job": 'a"b', "alertname": "X"})
    assert url == (
        "http://am:9093/#/silences/new?filter=%7Balertname%3D%22X%22%2Cjob%3D%22a%5C%22b%22%7D"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=4, seconds=10), "4m 10s"),
        (timedelta(hours=2, minutes=5, seconds=9), "2h 5m"),
        (timedelta(days=3, hours=4, minutes=1), "3d 4h"),
        (0, "0s"),
        (90, "1m 30s"),
    ],
)
def test_durations_are_humanised(value, text):
    assert duration_filter(value) == text


def test_filters_are_available_in_templates():
    context = template_context(message=alert_message())
    source = (
        "{{ severity|severity_emoji }} {{ severity|severity_color }} "
        "{{ alerts[0]|label('instance') }} {{ alerts[0]|label('team', 'n/a') }} "
        "{{ 'abcdefghij'|truncate_safe(5) }} {{ alerts[0].duration|duration }} "
        "{{ alerts[0].starts_at|datetime('%H:%M') }} {{ common_labels|format_labels }}"
    )
    text = template_render_source(source, context)
    assert text.startswith("🔴 #D32F2F web-1:9100 n/a abcd… ")
    assert "10:00 alertname=HighLatency, severity=critical" in text


def test_label_lookup_works_on_labels_too():
    assert label_filter({"team": "db"}, "team") == "db"
    assert label_filter({"labels": {}}, "team", "none") == "none"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ alerts.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for a in alerts %}{{ a.labels.update({'x': 1}) }}{% endfor %}",
        "{{ now.__reduce_ex__(2) }}",
    ],
)
def test_sandbox_escapes_are_refused_with_a_clear_error(source):
    with pytest.raises(TemplateError) as failure:
        template_source_check(channel="slack", part="body", source=source)
    text = str(failure.value)
    assert "line 1" in text
    assert "not allowed in templates" in text or "unsafe" in text


def test_syntax_errors_name_their_line():
    source = "line one\n{% for alert in alerts %}\n{{ alert.labels }\n{% endfor %}"
    with pytest.raises(TemplateError) as failure:
        template_source_check(channel="slack", part="body", source=source)
    assert failure.value.line == 3
    assert str(failure.value).startswith("line 3: ")


def test_runtime_errors_name_their_line():
    with pytest.raises(TemplateError) as failure:
        template_source_check(channel="slack", part="title", source="ok\nok\n{{ 1 / 0 }}")
    assert failure.value.line == 3
    assert "ZeroDivisionError" in str(failure.value)


def test_runaway_templates_are_stopped():
    with pytest.raises(TemplateError, match="range"):
        template_source_check(
            channel="slack", part="body", source="{% for i in range(10**9) %}x{% endfor %}"
        )
    # Cheap steps, so the loops hit their count well before the CPU limit.
    nested = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateError, match="loops ran more than 100,000 times"):
        template_source_check(channel="slack", part="body", source=nested)


def test_unknown_parts_are_refused():
    with pytest.raises(TemplateError, match="not a part of slack"):
        template_source_check(channel="slack", part="subject", source="x")


def test_an_override_replaces_the_default_for_its_language_only():
    overrides = {("fr", "title"): "Alerte {{ alertname }} pour {{ tenant.name }}"}
    french = message_render(
        channel="slack", message=alert_message(), language="fr", overrides=overrides
    )
    english = message_render(
        channel="slack", message=alert_message(), language="en", overrides=overrides
    )
    assert french["title"] == "Alerte HighLatency pour Alpha"
    assert english["title"].startswith("🔴 [FIRING:2]")


def test_an_override_that_fails_at_send_time_falls_back_to_the_default():
    overrides = {("en", "title"): "{{ alerts[5].labels.x / 2 }}"}
    rendered = message_render(channel="slack", message=alert_message(), overrides=overrides)
    assert rendered["title"].startswith("🔴 [FIRING:2]")
    assert rendered.problems and "line 1" in rendered.problems[0]


def test_an_unknown_language_falls_back_to_english():
    rendered = message_render(channel="slack", message=alert_message(), language="xx")
    assert "FIRING" in rendered["title"]


def test_saving_a_tenant_template_checks_it_and_shows_the_line(alpha):
    with pytest.raises(ValidationError) as failure:
        message_template_save(
            channel="slack", language="en", part="body", source="ok\n{{ ''.__class__ }}"
        )
    assert "line 2" in failure.value.message_dict["source"][0]
    assert MessageTemplate.objects.count() == 0

    message_template_save(channel="slack", language="en", part="body", source="v1 {{ status }}")
    message_template_save(channel="slack", language="en", part="body", source="v2 {{ status }}")

    assert message_template_sources(channel="slack") == {("en", "body"): "v2 {{ status }}"}
    assert message_template_sources(channel="email") == {}


def test_the_preview_uses_a_sample_alert_and_the_override():
    rendered = message_preview(
        channel="telegram", overrides={("en", "body"): "<b>{{ alerts|length }}</b> alerts"}
    )
    assert rendered["body"] == "<b>2</b> alerts"
