"""Twilio's request signature: HMAC of the exact URL it called and the posted form.

Twilio signs with the account's auth token over the URL it was given (so
Herald's public URL, HERALD_BASE_URL + the path, not the address the request
came in at behind a proxy) and the sorted form fields; the twilio package's
RequestValidator checks it in constant time.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

__all__ = ["SIGNATURE_HEADER", "public_url", "twilio_signature_valid"]


def public_url(full_path: str) -> str:
    """The URL Twilio was given for this path (and query), on Herald's public base URL."""
    return settings.HERALD_BASE_URL.rstrip("/") + full_path


def twilio_signature_valid(
    *, auth_token: str, url: str, form: Mapping[str, list[str]], signature: str | None
) -> bool:
    """Whether Twilio signed this form for this URL with this token; nothing missing passes."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, form, signature)
