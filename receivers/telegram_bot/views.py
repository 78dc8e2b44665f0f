"""The bot's webhook (Telegram calls it) and the account link page (a member opens it)."""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_tenants.utils import tenant_context

from alerting.encryption import SecretUnreadable
from escalation.people.chat_link_views import chat_link_page
from receivers.telegram_bot.linking import TELEGRAM_ACCOUNTS
from receivers.telegram_bot.selectors import telegram_receiver
from receivers.telegram_bot.tasks import telegram_update
from receivers.telegram_bot.updates import BODY_LIMIT, UPDATE_TYPES
from receivers.telegram_bot.webhook import SECRET_HEADER, SECRET_NAME, webhook_secret_matches
from receivers.vendor_webhooks import body_too_big, webhook_tenant

logger = logging.getLogger(__name__)


def _refused() -> HttpResponse:
    # The same answer whatever was wrong: a caller learns nothing of which
    # tenants or receivers exist.
    return JsonResponse({"ok": False, "error": "forbidden"}, status=403)


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest, tenant_slug: str, receiver_id: int) -> HttpResponse:
    """Accept an update for the receiver's bot; the work is a task's, after the answer."""
    tenant = webhook_tenant(request, tenant_slug)
    if tenant is None:
        return _refused()
    if body_too_big(request, limit=BODY_LIMIT):
        return JsonResponse({"ok": False, "error": "body too large"}, status=413)
    with tenant_context(tenant):
        receiver = telegram_receiver(receiver_id=receiver_id)
        try:
            expected = str(receiver.secrets.get(SECRET_NAME) or "") if receiver else ""
        except SecretUnreadable:
            logger.warning("telegram webhook: receiver %s's secrets cannot be decrypted",
                           receiver_id)
            expected = ""
        if not webhook_secret_matches(expected=expected, given=request.headers.get(SECRET_HEADER)):
            return _refused()
        body = request.read(BODY_LIMIT + 1)
        if len(body) > BODY_LIMIT:
            return JsonResponse({"ok": False, "error": "body too large"}, status=413)
        try:
            update = json.loads(body)
        except ValueError:
            return JsonResponse({"ok": False, "error": "the body is not JSON"}, status=400)
        if not isinstance(update, dict):
            return JsonResponse({"ok": False, "error": "the body is not an Update"}, status=400)
        # Only what the bot reads goes to the task; other update types are
        # answered 200, so Telegram does not send them again.
        kept = {key: update[key] for key in UPDATE_TYPES if isinstance(update.get(key), dict)}
        if kept:
            with transaction.atomic():
                transaction.on_commit(lambda: telegram_update.delay(receiver.id, kept))
    return JsonResponse({"ok": True})


@require_http_methods(["GET", "POST"])
def telegram_link(request: HttpRequest, token: str) -> HttpResponse:
    """The bot's /link answer, opened by a signed-in member: binds the account to them."""
    return chat_link_page(request, token, accounts=TELEGRAM_ACCOUNTS)
