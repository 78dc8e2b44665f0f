"""What the endpoints vendors post to share (slack_bot, telegram_bot, jira_hooks, servicenow_hooks).

The tenant the URL names (on a tenant's own host, only that tenant), the
body's bound, the receiver's secret (given as is, or as "sha256=<hex>" of
the exact body under it; compared in constant time), field errors and JSON
answers.
"""

from __future__ import annotations

import hashlib
import hmac

from django.http import HttpRequest, JsonResponse

from tenants.models import Tenant


class PayloadError(ValueError):
    """The body is not a change Herald reads; `errors` names each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in errors.items()))


def request_authentic(
    *, secret: str, body: bytes, given_secret: str | None, signature: str | None
) -> bool:
    """Whether the request carries the receiver's secret, or the body's HMAC under it."""
    if not secret:
        return False  # a receiver without a webhook secret takes no sync back
    if signature:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.strip().encode(), expected.encode())
    return bool(given_secret) and hmac.compare_digest(given_secret.encode(), secret.encode())


def webhook_tenant(request: HttpRequest, slug: str) -> Tenant | None:
    """The tenant the URL names; on a tenant's own host, only that tenant."""
    host = getattr(request, "tenant", None)
    if host is not None and getattr(host, "schema_name", "public") != "public" \
            and host.slug != slug:
        return None
    return Tenant.objects.filter(slug=slug).first()


def body_too_big(request: HttpRequest, *, limit: int) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return True


def answer(status: int, **body: object) -> JsonResponse:
    return JsonResponse(body, status=status)
