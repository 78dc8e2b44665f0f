"""Requests seen within the signature's window, shared by every web process (the cache's Redis).

A signature seen twice is a replay (Slack signs each request anew); a body
seen twice is Slack retrying what it sent (X-Slack-Retry-Num) or the same
click again, which is done once. Entries outlive the window of the
timestamp check, after which that check refuses the request anyway.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from receivers.slack_bot.signature import MAX_AGE_SECONDS

_TTL_SECONDS = 2 * MAX_AGE_SECONDS + 60


def _key(kind: str, schema: str, receiver_id: int, value: bytes) -> str:
    return f"slack:{kind}:{schema}:{receiver_id}:{hashlib.sha256(value).hexdigest()}"


def signature_first_seen(*, schema: str, receiver_id: int, signature: str) -> bool:
    """True the first time this signature reaches this receiver; False for a replay."""
    return cache.add(_key("sig", schema, receiver_id, signature.encode()), 1, _TTL_SECONDS)


def body_first_seen(*, schema: str, receiver_id: int, body: bytes) -> bool:
    """True the first time this exact body reaches this receiver within the window."""
    return cache.add(_key("body", schema, receiver_id, body), 1, _TTL_SECONDS)
