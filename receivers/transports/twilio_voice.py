"""What Twilio sends and says for Herald (pure): the SMS text, the call's TwiML, the answers.

A call carries its TwiML in the request (`Twiml`), so a one-way call needs no
public URL; a page's call also asks for one key (<Gather numDigits="1">)
whose answer Twilio posts to Herald. A page's SMS ends with the reply codes:
the alert group's number and a letter (`12a` acknowledges group 12).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from django.utils import translation
from django.utils.translation import gettext as _

from receivers.phone.segments import MAX_SEGMENTS, sms_fit, sms_segments
from receivers.phone.speech import phrase
from receivers.truncation import truncate_text

# Twilio refuses a Twiml parameter over 4,000 characters; the spoken text is
# cut well before, leaving room for the markup, the prompts and the URL.
TWIML_LIMIT = 4_000
SPOKEN_LIMIT = 2_500
# Two concatenated GSM-7 segments hold 306 characters (UCS-2: 134); the
# reply line takes about 70 of them. Longer texts cost more and arrive in pieces.
SMS_LIMIT = 306
_ELLIPSIS = "..."

VOICES = {"en": "en-US", "fr": "fr-FR", "de": "de-DE"}
KEYS = {"4": "acknowledge", "6": "resolve"}
REPLY_LETTERS = {"a": "acknowledge", "r": "resolve", "s": "silence_1h"}

def voice_of(language: str) -> str:
    return VOICES.get(language, VOICES["en"])


def reply_line(*, code: int, language: str) -> str:
    """The SMS's last line: the group's number and a letter per action."""
    with translation.override(language):
        return _(
            "Reply %(code)sa to acknowledge, %(code)sr to resolve, %(code)ss to silence 1 h"
        ) % {"code": code}


def _no_key(language: str) -> str:
    with translation.override(language):
        return _("No key was pressed. Goodbye.")


def sms_text(body: str, *, reply: str = "") -> str:
    """The SMS within two segments (receivers.phone.segments): the rendered text, cut at a
    word if it must be, then the reply line whole."""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    text = "\n".join(line for line in lines if line)
    if not reply:
        return sms_fit(text)
    whole = sms_fit(f"{text}\n{reply}")
    if whole.endswith(reply) and not whole.endswith(_ELLIPSIS + reply):
        return whole

    def cut(length: int) -> str:
        return f"{sms_fit(text[:length].rstrip() + _ELLIPSIS)}\n{reply}"

    low, high = 0, len(text)
    while low < high:  # the longest prefix of the text that fits with the reply line
        middle = (low + high + 1) // 2
        if sms_segments(cut(middle)) <= MAX_SEGMENTS:
            low = middle
        else:
            high = middle - 1
    space = text.rfind(" ", 0, low)
    return cut(space if space > 0 and low - space <= 20 else low)


def _say(text: str, language: str) -> str:
    return f"<Say language={quoteattr(voice_of(language))}>{escape(text)}</Say>"


def call_twiml(*, spoken: str, language: str, gather_url: str = "") -> str:
    """The call's TwiML: the alert spoken, then (a page) one key asked for at `gather_url`.

    The keys are said once more after the alert (receivers.phone.speech says
    them at its end), so a person woken by the call hears them twice."""
    spoken = truncate_text(" ".join(spoken.split()), SPOKEN_LIMIT)
    if not gather_url:
        return f"<Response>{_say(spoken, language)}</Response>"
    prompt = phrase("keys", language=language)
    return (
        "<Response>"
        f'<Gather numDigits="1" timeout="8" method="POST" action={quoteattr(gather_url)}>'
        f"{_say(spoken, language)}{_say(prompt, language)}"
        "</Gather>"
        f"{_say(_no_key(language), language)}"
        "</Response>"
    )


def spoken_twiml(text: str, *, language: str) -> str:
    """A call that says `text` (a verification code, which receivers.phone.speech repeats)."""
    said = _say(truncate_text(" ".join(text.split()), SPOKEN_LIMIT), language)
    return f"<Response>{said}</Response>"


def answer_twiml(text: str, *, language: str = "en") -> str:
    """What Herald says after a key press, then hangs up."""
    return f"<Response>{_say(text, language)}<Hangup/></Response>"


def message_twiml(text: str) -> str:
    """An SMS answer to an inbound SMS (TwiML <Message>); empty text answers nothing."""
    if not text:
        return "<Response/>"
    return f"<Response><Message>{escape(truncate_text(text, SMS_LIMIT))}</Message></Response>"
