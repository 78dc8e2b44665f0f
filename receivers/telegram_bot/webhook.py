"""The webhook's address and secret (what setWebhook registers) and the secret's check."""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings

from tenants.models import Tenant

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)
SECRET_NAME = "webhook_secret"  # noqa: S105 (a name, not a value): the receiver's secret it is stored as (encrypted)
# Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -: token_urlsafe's alphabet.
_SECRET_BYTES = 32


def webhook_secret_new() -> str:
    return secrets.token_urlsafe(_SECRET_BYTES)


def webhook_secret_matches(*, expected: str, given: str | None) -> bool:
    """Constant time; no secret stored (never registered) matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def webhook_path(*, tenant_slug: str, receiver_id: int) -> str:
    return f"/telegram/{tenant_slug}/{receiver_id}/webhook/"


def webhook_url(*, tenant: Tenant, receiver_id: int) -> str:
    """On Herald's shared host (HERALD_BASE_URL), which must be reachable by Telegram (HTTPS)."""
    base = settings.HERALD_BASE_URL.rstrip("/")
    return base + webhook_path(tenant_slug=tenant.slug, receiver_id=receiver_id)
