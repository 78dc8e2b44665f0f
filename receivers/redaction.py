"""Keeping receiver secrets out of what people see: the admin, errors, logs."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "••••"
# Secrets shorter than this are not searched for in texts: replacing "abc"
# everywhere would garble errors and protect nothing.
_MIN_SCRUB_LENGTH = 6


def secret_mask(value: str) -> str:
    """'••••3f9a': enough to recognise a saved secret, never enough to use it."""
    return MASK + value[-4:] if len(value) >= 12 else MASK


def _secret_strings(secrets: Mapping[str, Any]) -> Iterable[str]:
    for value in secrets.values():
        if isinstance(value, Mapping):
            yield from _secret_strings(value)
        elif value:
            yield str(value)


def secrets_scrub(text: str, secrets: Mapping[str, Any]) -> str:
    """`text` with every secret value (a URL, a token, a password) masked.

    A belt to the braces of never formatting secrets into errors: a vendor may
    still echo a token back in its error body.
    """
    for value in sorted(_secret_strings(secrets), key=len, reverse=True):
        if len(value) >= _MIN_SCRUB_LENGTH and value in text:
            text = text.replace(value, MASK)
    return text


class UrlPathRedactingFilter(logging.Filter):
    """Drops request paths from urllib3's debug lines.

    urllib3 logs '"POST /bot<token>/sendMessage HTTP/1.1" 200' at DEBUG: the
    path of a Slack, Discord, Teams or Telegram URL is the credential.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "[path redacted]" if isinstance(arg, str) and _is_url_or_path(arg) else arg
                for arg in record.args
            )
        return True


def _is_url_or_path(value: str) -> bool:
    return value.startswith("/") or "://" in value


def install_log_redaction() -> None:
    logging.getLogger("urllib3.connectionpool").addFilter(UrlPathRedactingFilter())
