"""A call speaks short sentences in the person's language: the alert as words, no links,
the keys that act; a code digit by digit, twice."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivers.phone.speech import (
    MAX_SPEECH,
    MAX_WORDS,
    CallFacts,
    call_speech,
    code_speech,
    held_summary_text,
    short_sentences,
    speakable_name,
)

FACTS = CallFacts(
    tenant_name="Acme", alertname="HighErrorRate", severity="critical", alert_count=3,
    summary="Checkout returns 5xx for 12% of requests, see https://grafana.example.com/d/x. "
            "It started at 14:02.",
)


def test_an_english_call_says_what_is_wrong_and_which_keys_act():
    assert call_speech(FACTS, language="en") == (
        "This is Herald for Acme. Alert: High Error Rate. Checkout returns 5xx for 12% of "
        "requests, see. It started at 14:02. Severity: critical. 3 alerts are firing. "
        "Press 4 to acknowledge. Press 6 to resolve."
    )


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", ["Ici Herald pour Acme.", "Gravité : critique.", "3 alertes en cours.",
            "Appuyez sur 4 pour prendre en charge. Appuyez sur 6 pour résoudre."]),
    ("de", ["Hier ist Herald für Acme.", "Schweregrad: kritisch.", "3 Alarme sind aktiv.",
            "Drücken Sie 4 zum Bestätigen. Drücken Sie 6 zum Lösen."]),
    ("xx", ["This is Herald for Acme."]),  # an unknown language: English
])
def test_the_call_is_in_the_persons_language(language, expected):
    speech = call_speech(FACTS, language=language)
    for sentence in expected:
        assert sentence in speech


def test_a_resolved_incident_offers_no_keys():
    speech = call_speech(CallFacts(tenant_name="Acme", alertname="disk_full", resolved=True),
                         language="en")
    assert speech == "This is Herald for Acme. Alert: disk full. This incident is resolved."


def test_identifiers_become_words():
    assert speakable_name("KubePodCrashLooping") == "Kube Pod Crash Looping"
    assert speakable_name("node_filesystem-full:ratio") == "node filesystem full ratio"
    assert speakable_name("HTTPErrors") == "HTTP Errors"


def test_a_long_sentence_is_cut_after_a_comma_near_the_limit():
    text = ("The database primary in eu-west is not answering, replicas are lagging by "
            "minutes and writes are failing for every customer in the region right now")
    sentences = short_sentences(text)
    assert sentences[0] == "The database primary in eu-west is not answering,"[:-1] + "."
    assert all(len(s.split()) <= MAX_WORDS for s in sentences)


def test_a_code_is_read_digit_by_digit_twice():
    assert code_speech("042917", language="en") == (
        "Your Herald code is 0, 4, 2, 9, 1, 7. Again: 0, 4, 2, 9, 1, 7.")
    assert code_speech("042917", language="fr").startswith("Votre code Herald est 0, 4, 2")


def test_the_summary_sms_says_how_many_pages_were_held():
    assert held_summary_text(4, language="en") == (
        "4 more pages for you in the last 15 minutes. Open Herald to see them.")
    assert held_summary_text(4, language="de").startswith("4 weitere Alarme für Sie")
    assert held_summary_text(1, language="en").startswith("1 more page for you")


@settings(max_examples=200, derandomize=True)
@given(alertname=st.text(max_size=300), summary=st.text(max_size=3000),
       severity=st.text(max_size=50), tenant=st.text(max_size=200),
       language=st.sampled_from(["en", "fr", "de"]))
def test_any_alert_is_spoken_in_short_sentences_without_links_or_markup(
    alertname, summary, severity, tenant, language
):
    speech = call_speech(CallFacts(tenant_name=tenant, alertname=alertname, summary=summary,
                                   severity=severity), language=language)
    assert len(speech) <= MAX_SPEECH + 200  # the fixed sentences, at most
    assert not re.search(r"https?://|[<>\x00-\x1f]", speech)
    for sentence in short_sentences(summary):
        assert len(sentence.split()) <= MAX_WORDS
