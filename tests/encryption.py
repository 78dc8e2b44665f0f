"""Encryption keys for tests: named Fernet keys, set newest first for the rest of a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from alerting.encryption import encryption_key_generate
from alerting.encryption_services import encrypted_rows_reencrypt
from tenants.models import Tenant

_KEYS: dict[str, str] = {}


def fernet_key(name: str) -> str:
    """The same random Fernet key for the same name, for the whole session."""
    return _KEYS.setdefault(name, encryption_key_generate())


@pytest.fixture
def encryption_keys(settings) -> Iterator[Callable[[list[str]], None]]:
    """Set HERALD_ENCRYPTION_KEYS by name (e.g. ["key-b", "key-a"]); restored afterwards.

    The test tenants' link signing keys follow along (re-encrypted under the
    new first key, inside the test's transaction): they are not what these
    tests are about, and Herald keeps them readable by `rotate_secrets`.
    """
    known = list(settings.HERALD_ENCRYPTION_KEYS)

    def use(names: list[str]) -> None:
        keys = [fernet_key(name) for name in names]
        settings.HERALD_ENCRYPTION_KEYS = keys + [key for key in known if key not in keys]
        encrypted_rows_reencrypt(model=Tenant, name_field="slug", legacy=False)
        known.extend(key for key in keys if key not in known)
        settings.HERALD_ENCRYPTION_KEYS = keys

    yield use
