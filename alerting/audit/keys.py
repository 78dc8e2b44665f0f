"""The audit MAC keys: from the environment, never in the database.

`HERALD_AUDIT_KEYS` lists keys newest first: the first signs new entries,
every one verifies. Each entry stores the short id of the key that signed it
(a hash of the key, which says nothing about the key itself), so an old key
keeps verifying what it signed after a rotation.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def key_id(key: str) -> str:
    return hashlib.sha256(b"herald-audit-key-id:" + key.encode()).hexdigest()[:16]


def audit_keys() -> dict[str, bytes]:
    """Key id -> key, in the order of the setting (the first signs)."""
    return {key_id(key): key.encode() for key in settings.HERALD_AUDIT_KEYS}


def signing_key() -> tuple[str, bytes]:
    key = settings.HERALD_AUDIT_KEYS[0]
    return key_id(key), key.encode()


def mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
