"""Keeping receiver secrets out of what people see: the admin, errors, logs, exports.

The masking rule (`SecretScrubber`): a text loses every run of at least
`FRAGMENT_LENGTH` (8) characters that also occurs in one of the receiver's
secrets, in the secret's own spelling or URL-encoded (`%2F` or `%2f`, `+` for
spaces), JSON-escaped (`\\/`, `\\u00e9`) or HTML-escaped. A vendor that echoes
the token part of a Slack path, the tail of a routing key or half a bot token
cut at 300 characters therefore shows none of it. Secrets of 6 or 7
characters are masked only whole; shorter ones are not searched for (masking
"abc" everywhere would garble errors and protect nothing).

For a secret that is an http(s) URL the credential is what follows the host:
user info, path, query and fragment (each also decoded). The scheme and host
are not secret: "https://hooks.slack.com" stays readable in an error.

The rule errs on the side of masking: an 8-character word of a URL path
("webhooks") is masked wherever it appears in an error.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MASK = "••••"
FRAGMENT_LENGTH = 8
_HALF = FRAGMENT_LENGTH // 2
# Shorter secrets (an SMTP password) are masked only when they appear whole.
_MIN_WHOLE_LENGTH = 6
_PERCENT = re.compile(r"%[0-9A-F]{2}")

# A header whose name says it carries a credential is stored with the
# receiver's encrypted secrets, never in its plain config. Case-insensitive,
# anywhere in the name: Authorization, Proxy-Authorization, X-Api-Key,
# X-Auth-Token, Cookie, X-Hub-Signature, X-Session-Id, ...
_CREDENTIAL_HEADER = re.compile(
    r"auth|token|secret|key|passw|pwd|cookie|signature|session|credential", re.IGNORECASE
)


def header_looks_secret(name: str) -> bool:
    """Does this header name look like it carries a credential?"""
    return bool(_CREDENTIAL_HEADER.search(name))


def secret_mask(value: str) -> str:
    """'••••3f9a': enough to recognise a saved secret, never enough to use it."""
    if value.startswith("{") and value.endswith("}"):
        return MASK  # a mapping's repr: its last characters would be a value's
    return MASK + value[-4:] if len(value) >= 12 else MASK


def _secret_strings(secrets: Mapping[str, Any]) -> Iterable[str]:
    for value in secrets.values():
        if isinstance(value, Mapping):
            yield from _secret_strings(value)
        elif value:
            yield str(value)


def _url_secret_parts(value: str) -> list[str] | None:
    """What is secret in a URL (all after the host), or None if it is not one."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    rest = value.split(parts.netloc, 1)[1]
    found = [rest]
    if "@" in parts.netloc:
        found.append(parts.netloc.rsplit("@", 1)[0])
    found += [unquote(segment) for segment in parts.path.split("/")]
    found += [field for pair in parse_qsl(parts.query, keep_blank_values=True) for field in pair]
    if parts.fragment:
        found.append(parts.fragment)
    return found


def _spellings(text: str) -> Iterator[str]:
    """The ways a vendor's answer may spell `text`."""
    yield text
    yield unquote(text)
    for encoded in (quote(text, safe=""), quote(text, safe="/:"), quote_plus(text)):
        yield encoded
        yield _PERCENT.sub(lambda match: match.group(0).lower(), encoded)
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    yield escaped
    yield escaped.replace("/", "\\/")
    yield json.dumps(text)[1:-1].replace("/", "\\/")
    yield json.dumps(text)[1:-1]
    yield html.escape(text)


@dataclass(frozen=True)
class SecretScrubber:
    """Masks what a text shares with some secrets (see the module's rule)."""

    fragments: frozenset[str]  # every FRAGMENT_LENGTH-long piece of every spelling
    halves: frozenset[str]  # every piece of half that length: the quick check
    wholes: tuple[str, ...]  # secrets too short for fragments, masked when whole
    longest: int  # the longest spelling: how far past a cut a secret may reach

    def scrub(self, text: str) -> str:
        return self._masked(text, len(text))

    def scrub_cut(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, scrubbed.

        Searched past the cut, so a secret split by the cut is masked too, and
        only as much of `text` is read as can reach into the kept part.
        """
        return self._masked(text[: limit + self.longest], limit)

    def _masked(self, text: str, limit: int) -> str:
        """text[:limit] with every span shared with a secret replaced by MASK."""
        size = FRAGMENT_LENGTH
        if len(text) < _MIN_WHOLE_LENGTH or not (self.fragments or self.wholes):
            return text[:limit]
        fragments, half = self.fragments, _HALF
        # Any common run of FRAGMENT_LENGTH characters holds a half-length
        # piece that starts at a multiple of the half length: a text with
        # none (nearly every text) is done after len/4 lookups.
        if not any(text[i : i + half] in self.halves for i in range(0, len(text) - half + 1, half)):
            fragments = frozenset()
        # Each window of the text that is a piece of a secret is masked: the
        # union of the windows is exactly the union of every common run of
        # `size` or more characters.
        spans = (
            [(i, i + size) for i in range(len(text) - size + 1) if text[i : i + size] in fragments]
            if fragments
            else []
        )
        for whole in self.wholes:
            start = text.find(whole)
            while start != -1:
                spans.append((start, start + len(whole)))
                start = text.find(whole, start + 1)
        if not spans:
            return text[:limit]
        spans.sort()
        out, done = [], 0
        for start, end in spans:
            if start >= limit:
                break
            if start > done or not out:
                out += [text[done:start], MASK]
            done = max(done, end)
        out.append(text[done:limit])
        return "".join(out)


@lru_cache(maxsize=512)
def _scrubber(values: tuple[str, ...]) -> SecretScrubber:
    fragments: set[str] = set()
    halves: set[str] = set()
    wholes: set[str] = set()
    longest = 0
    for value in values:
        url_parts = _url_secret_parts(value)
        for part in url_parts if url_parts is not None else [value]:
            for spelling in set(_spellings(part)):
                longest = max(longest, len(spelling))
                if len(spelling) >= FRAGMENT_LENGTH:
                    fragments.update(
                        spelling[i : i + FRAGMENT_LENGTH]
                        for i in range(len(spelling) - FRAGMENT_LENGTH + 1)
                    )
                    halves.update(spelling[i : i + _HALF] for i in range(len(spelling) - _HALF + 1))
                elif len(spelling) >= _MIN_WHOLE_LENGTH and url_parts is None:
                    # A short URL segment is often a word ("alerts"): only
                    # standalone short secrets are masked whole.
                    wholes.add(spelling)
    return SecretScrubber(
        fragments=frozenset(fragments),
        halves=frozenset(halves),
        wholes=tuple(sorted(wholes, key=len, reverse=True)),
        longest=longest,
    )


def secret_scrubber(secrets: Mapping[str, Any]) -> SecretScrubber:
    """The scrubber of these secrets (nested mappings included); built once per set."""
    values = _secret_strings(secrets) if isinstance(secrets, Mapping) else ()
    return _scrubber(tuple(sorted(set(values))))


def tenant_secret_scrubber() -> SecretScrubber:
    """One scrubber over the secrets of every receiver of the current tenant.

    For texts that may hold any receiver's secret (an export of the history,
    rows stored before masking got stricter). Decrypts each receiver once.
    """
    from django.db import connection
    from django_tenants.utils import get_public_schema_name

    from receivers.models import Receiver

    if connection.schema_name == get_public_schema_name():
        return _scrubber(())
    merged: dict[str, Any] = {}
    for receiver_id, secrets in Receiver.objects.values_list("id", "secrets"):
        if isinstance(secrets, Mapping):
            merged[str(receiver_id)] = secrets
    return secret_scrubber(merged)


def secrets_scrub(text: str, secrets: Mapping[str, Any]) -> str:
    """`text` with every secret, and every fragment of one, masked.

    A belt to the braces of never formatting secrets into errors: a vendor may
    still echo a token, or part of one, back in its error body.
    """
    return secret_scrubber(secrets).scrub(text)


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
