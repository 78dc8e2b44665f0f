"""Phone numbers as Herald stores them: E.164 ("+4915112345678"), checked by phonenumbers.

Pure. A number is written by a person ("0151 1234 5678" is not enough: the
country is needed, so an international "+49 151 …" or "0049 …"); it is kept
in E.164, the form every provider takes and a country prefix is matched on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from django.utils.translation import gettext as _

# Longer than any number phonenumbers accepts (15 digits) with generous spacing.
_INPUT_MAX = 40
_PREFIX = re.compile(r"\+[1-9][0-9]{0,5}")


def phone_number_clean(address: str) -> str:
    """The number in E.164; ValueError saying why not (never repeating a long input)."""
    text = (address or "").strip()
    if not text:
        raise ValueError(_("a phone number is needed"))
    if len(text) > _INPUT_MAX:
        raise ValueError(_("a phone number has at most %(max)d characters") % {"max": _INPUT_MAX})
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        raise ValueError(_("write the number with its country code, e.g. +49 151 12345678"))
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValueError(_("not a phone number (e.g. +49 151 12345678)")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("not a valid phone number for its country code"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_prefix_clean(prefix: str) -> str:
    """An E.164 prefix a carrier takes ("+49", "+1", "+4415"); ValueError when not one."""
    text = str(prefix).strip().replace(" ", "")
    if not _PREFIX.fullmatch(text):
        raise ValueError(_(
            "%(prefix)s is not a country prefix: '+' and 1 to 6 digits, e.g. +49"
        ) % {"prefix": repr(text[:12])})
    return text


def longest_prefix(number: str, prefixes: Iterable[str]) -> str | None:
    """The longest of `prefixes` the E.164 number starts with, if any."""
    matching = [prefix for prefix in prefixes if number.startswith(prefix)]
    return max(matching, key=len) if matching else None
