"""What Twilio sends and says for Herald (pure): the SMS text, the call's TwiML, the answers.

A call carries its TwiML in the request (`Twiml`), so a one-way call needs no
public URL; a page's call also asks for one key (<Gather numDigits="1">)
whose answer Twilio posts to Herald. A page's SMS ends with the reply codes:
the alert group's number and a letter (`12a` acknowledges group 12).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from receivers.truncation import truncate_text

# Twilio refuses a Twiml parameter over 4,000 characters; the spoken text is
# cut well before, leaving room for the markup, the prompts and the URL.
TWIML_LIMIT = 4_000
SPOKEN_LIMIT = 2_500
# Two concatenated GSM-7 segments hold 306 characters; the reply line takes
# about 70 of them. Longer texts cost more and arrive in pieces.
SMS_LIMIT = 306

VOICES = {"en": "en-US", "fr": "fr-FR", "de": "de-DE"}
KEYS = {"4": "acknowledge", "6": "resolve"}
REPLY_LETTERS = {"a": "acknowledge", "r": "resolve", "s": "silence_1h"}

_PROMPT = {
    "en": "Press 4 to acknowledge, 6 to resolve.",
    "fr": "Appuyez sur 4 pour prendre en charge, sur 6 pour résoudre.",
    "de": "Drücken Sie 4 zum Bestätigen, 6 zum Auflösen.",
}
_NO_KEY = {
    "en": "No key was pressed. Goodbye.",
    "fr": "Aucune touche n'a été pressée. Au revoir.",
    "de": "Keine Taste gedrückt. Auf Wiederhören.",
}
_REPLY_LINE = {
    "en": "Reply {code}a to acknowledge, {code}r to resolve, {code}s to silence 1 h",
    "fr": "Répondez {code}a pour prendre en charge, {code}r pour résoudre, "
    "{code}s pour suspendre 1 h",
    "de": "Antworten Sie {code}a zum Bestätigen, {code}r zum Auflösen, {code}s für 1 h Ruhe",
}


def voice_of(language: str) -> str:
    return VOICES.get(language, VOICES["en"])


def reply_line(*, code: int, language: str) -> str:
    return _REPLY_LINE.get(language, _REPLY_LINE["en"]).format(code=code)


def sms_text(body: str, *, reply: str = "") -> str:
    """The SMS: the rendered text on one line per line, cut to leave room for the reply line."""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    text = "\n".join(line for line in lines if line)
    if not reply:
        return truncate_text(text, SMS_LIMIT)
    return f"{truncate_text(text, max(SMS_LIMIT - len(reply) - 1, 40))}\n{reply}"


def _say(text: str, language: str) -> str:
    return f"<Say language={quoteattr(voice_of(language))}>{escape(text)}</Say>"


def call_twiml(*, spoken: str, language: str, gather_url: str = "") -> str:
    """The call's TwiML: the alert spoken, then (a page) one key asked for at `gather_url`."""
    spoken = truncate_text(" ".join(spoken.split()), SPOKEN_LIMIT)
    if not gather_url:
        return f"<Response>{_say(spoken, language)}</Response>"
    prompt = _PROMPT.get(language, _PROMPT["en"])
    return (
        "<Response>"
        f'<Gather numDigits="1" timeout="8" method="POST" action={quoteattr(gather_url)}>'
        f"{_say(spoken, language)}{_say(prompt, language)}{_say(prompt, language)}"
        "</Gather>"
        f"{_say(_NO_KEY.get(language, _NO_KEY['en']), language)}"
        "</Response>"
    )


def spoken_twiml(text: str, *, language: str, repeat: int = 1) -> str:
    """A call that says `text` (a verification code: twice, so it can be written down)."""
    said = _say(truncate_text(" ".join(text.split()), SPOKEN_LIMIT), language)
    return "<Response>" + said * max(repeat, 1) + "</Response>"


def answer_twiml(text: str, *, language: str = "en") -> str:
    """What Herald says after a key press, then hangs up."""
    return f"<Response>{_say(text, language)}<Hangup/></Response>"


def message_twiml(text: str) -> str:
    """An SMS answer to an inbound SMS (TwiML <Message>); empty text answers nothing."""
    if not text:
        return "<Response/>"
    return f"<Response><Message>{escape(truncate_text(text, SMS_LIMIT))}</Message></Response>"
