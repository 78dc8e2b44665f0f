"""What a phone call says, in the person's language (en, fr, de), in short sentences (pure).

Text-to-speech reads punctuation and identifiers badly and long sentences
worse: an alert name is split into words (HighErrorRate → "High Error
Rate", disk_full → "disk full"), links and markup are left out, each
sentence has at most MAX_WORDS words, and the whole stays short enough to
hear twice in a call. Codes are read digit by digit, twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

LANGUAGES = ("en", "fr", "de")
MAX_WORDS = 16
MAX_SPEECH = 600  # characters: about 40 seconds of speech
MAX_SUMMARY_SENTENCES = 3



def _phrases() -> dict[str, str]:
    """The fixed sentences a call or an SMS says, in the active language."""
    return {
        "intro": _("This is Herald for {tenant}."),
        "alert": _("Alert: {name}."),
        "alerts": _("{count} alerts are firing."),
        "severity": _("Severity: {severity}."),
        "resolved": _("This incident is resolved."),
        "keys": _("Press 4 to acknowledge. Press 6 to resolve."),
        "code": _("Your Herald code is {digits}. Again: {digits}."),
        "code_sms": _("Your Herald code for {tenant} is {code}. It works for {minutes} minutes."),
        "summary": _(
            "{count} more pages for you in the last 15 minutes. Open Herald to see them."),
        "summary_one": _("1 more page for you in the last 15 minutes. Open Herald to see it."),
    }


# A link is left out, not the punctuation after it.
_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)\S+?(?=[.,;:!?)]*(?:\s|$))", re.IGNORECASE)
_MARKUP = re.compile(r"<[^>]{0,200}>|[*_`#|<>{}\[\]\\^~]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _severity_words() -> dict[str, str]:
    """The usual severities, said in the active language (others as written)."""
    return {
        "critical": pgettext("spoken severity", "critical"),
        "warning": pgettext("spoken severity", "warning"),
        "info": pgettext("spoken severity", "info"),
        "error": pgettext("spoken severity", "error"),
        "page": pgettext("spoken severity", "page"),
    }


def _language(language: str) -> str:
    return language if language in LANGUAGES else "en"


def phrase(which: str, /, *, language: str, **values: object) -> str:
    """One of the fixed sentences, in the language (English for any other)."""
    with translation.override(_language(language)):
        return _phrases()[which].format(**values)


def speakable_name(name: str) -> str:
    """An identifier as words: "HighErrorRate" → "High Error Rate", "disk_full" → "disk full"."""
    text = _CAMEL.sub(" ", name)
    text = re.sub(r"[_\-.:/]+", " ", text)
    return " ".join(text.split())


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return re.sub(r"\s+(?=[.,;:!?])", "", " ".join(text.split()))


def short_sentences(text: str, *, max_words: int = MAX_WORDS) -> list[str]:
    """The text as sentences of at most `max_words` words, each ending with a stop."""
    sentences = []
    for sentence in _SENTENCE_END.split(_clean(text)):
        words = sentence.split()
        while words:
            chunk, words = words[:max_words], words[max_words:]
            # A long sentence is cut after a comma near the limit, if it has one.
            if words:
                comma = max((i for i, word in enumerate(chunk) if word.endswith(",")),
                            default=-1)
                if comma >= max_words // 3:
                    words = chunk[comma + 1:] + words
                    chunk = chunk[:comma + 1]
            out = " ".join(chunk).rstrip(",;:")
            if out and out[-1] not in ".!?":
                out += "."
            if any(c.isalnum() for c in out):
                sentences.append(out)
    return sentences


@dataclass(frozen=True)
class CallFacts:
    """What a call says of an incident (from the message, so this module stays pure)."""

    tenant_name: str
    alertname: str
    summary: str = ""
    severity: str = ""
    alert_count: int = 1
    resolved: bool = False
    keys: bool = True  # say which keys act (4, 6)


def call_speech(facts: CallFacts, *, language: str) -> str:
    """The call's text, in short sentences, within MAX_SPEECH characters."""
    head = [phrase("intro", language=language,
                   tenant=_clean(facts.tenant_name)[:60].strip(" .") or "Herald")]
    name = speakable_name(_clean(facts.alertname))[:80].strip(" .")
    if any(c.isalnum() for c in name):
        head.append(phrase("alert", language=language, name=name))
    tail = []
    if facts.severity:
        severity = _clean(facts.severity)[:20]
        if _language(language) != "en":
            with translation.override(_language(language)):
                severity = _severity_words().get(severity.lower(), severity)
        tail.append(phrase("severity", language=language, severity=severity))
    if facts.alert_count > 1:
        tail.append(phrase("alerts", language=language, count=facts.alert_count))
    if facts.resolved:
        tail.append(phrase("resolved", language=language))
    elif facts.keys:
        tail.append(phrase("keys", language=language))
    budget = MAX_SPEECH - len(" ".join(head + tail)) - 1
    middle = []
    for sentence in short_sentences(facts.summary)[:MAX_SUMMARY_SENTENCES]:
        if len(sentence) + 1 > budget:
            break
        middle.append(sentence)
        budget -= len(sentence) + 1
    return " ".join(head + middle + tail)


def call_facts(message, *, keys: bool = True) -> CallFacts:
    """The facts of a receivers.messages.AlertMessage (duck-typed: pure)."""
    labels, annotations = message.common_labels or {}, message.common_annotations or {}
    group = message.group_labels or {}
    return CallFacts(
        tenant_name=message.tenant_name or message.tenant_slug,
        alertname=labels.get("alertname") or group.get("alertname") or "alert",
        summary=annotations.get("summary") or annotations.get("description") or "",
        severity=labels.get("severity", ""),
        alert_count=len(message.alerts or ()) or 1,
        resolved=message.status == "resolved",
        keys=keys,
    )


def code_speech(code: str, *, language: str) -> str:
    """A verification code read digit by digit, twice: "1, 2, 3, 4, 5, 6"."""
    digits = ", ".join(c for c in code if c.isdigit())
    return phrase("code", language=language, digits=digits)


def code_sms_text(code: str, *, language: str, tenant_name: str, minutes: int) -> str:
    return phrase("code_sms", language=language, tenant=_clean(tenant_name)[:60] or "Herald",
                  code=code, minutes=minutes)


def held_summary_text(count: int, *, language: str) -> str:
    """The one SMS that says how many pages the per-contact limit held back."""
    return phrase("summary_one" if count == 1 else "summary", language=language, count=count)
