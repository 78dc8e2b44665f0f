"""Secrets at rest: Fernet keys from HERALD_ENCRYPTION_KEYS, and the old scheme's reader.

The keys are keys, not salts: nothing here depends on DJANGO_SECRET_KEY, so
changing it leaves every secret readable. MultiFernet: the first key
encrypts, every key decrypts, so a rotation is "prepend a key, re-encrypt,
drop the old one" (README, key rotation).

Until issue 16 the field library derived its keys with PBKDF2 from
DJANGO_SECRET_KEY, using HERALD_ENCRYPTION_KEYS as salts. `legacy_decrypt`
reads values written that way (settings.HERALD_LEGACY_ENCRYPTION_SALTS are
those old salts); only the upgrade (a data migration, `rotate_secrets`)
uses it, never a normal read.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """No key in HERALD_ENCRYPTION_KEYS decrypts a stored secret.

    Raised where the secret is used, instead of handing its ciphertext back
    as if it were the value. The message names what, never the value.
    """


def encryption_key_generate() -> str:
    """A new random Fernet key, for HERALD_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode("ascii")


def encryption_key_problem(key: str) -> str:
    """Why `key` is no Fernet key (empty when it is one); never repeats the key."""
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        return (
            "is not a Fernet key (32 bytes in url-safe base64, 44 characters); "
            "before issue 16 HERALD_ENCRYPTION_KEYS held salts: see the README's "
            "key rotation section to upgrade"
        )
    return ""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("HERALD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    for position, key in enumerate(keys, start=1):
        problem = encryption_key_problem(key)
        if problem:
            raise ImproperlyConfigured(f"HERALD_ENCRYPTION_KEYS, key {position}: {problem}.")
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def _fernet() -> MultiFernet:
    # Cached per key list, so a changed setting (tests, a reload) takes effect.
    return _fernet_for(tuple(settings.HERALD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    """The Fernet token of `text` under the first key."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, legacy: bool = False) -> str:
    """The text of a token; SecretUnreadable when no configured key decrypts it.

    With `legacy` (the upgrade only), a token of the old scheme is read too.
    """
    try:
        return _fernet().decrypt(token.encode("utf-8")).decode("utf-8")
    except (InvalidToken, UnicodeError, TypeError, AttributeError):
        text = legacy_decrypt(token) if legacy else None
    if text is None:
        raise SecretUnreadable("no key in HERALD_ENCRYPTION_KEYS decrypts this secret")
    return text


def readable(token: str) -> bool:
    """Does a configured key decrypt this token?"""
    try:
        decrypt(token)
    except SecretUnreadable:
        return False
    return True


@lru_cache(maxsize=4)
def _legacy_fernet_for(
    secret_keys: tuple[str, ...], salts: tuple[str, ...]
) -> MultiFernet | None:
    # The field library's derivation, exactly: every secret key with every salt.
    keys = []
    for secret_key in secret_keys:
        for salt in salts:
            kdf = PBKDF2HMAC(
                algorithm=hashes.SHA256(), length=32, salt=salt.encode("utf-8"),
                iterations=100_000,
            )
            keys.append(Fernet(base64.urlsafe_b64encode(kdf.derive(secret_key.encode("utf-8")))))
    return MultiFernet(keys) if keys else None


def legacy_decrypt(token: str) -> str | None:
    """The text of a token written under the old scheme, or None when it is not one."""
    legacy = _legacy_fernet_for(
        tuple([settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]),
        tuple(getattr(settings, "HERALD_LEGACY_ENCRYPTION_SALTS", [])),
    )
    if legacy is None:
        return None
    try:
        return legacy.decrypt(token.encode("utf-8")).decode("utf-8")
    except (InvalidToken, UnicodeError, TypeError, AttributeError):
        return None
