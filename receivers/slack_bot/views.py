"""The Slack app's endpoints: its buttons' clicks and its slash command (Slack calls them),
and the account link page (a member opens it).

Every request Slack makes is checked before anything is read from its body:
the receiver named by the URL (its tenant, its signing secret), the v0
signature over the raw body, a timestamp within 5 minutes, a signature not
seen before. Whatever was wrong, the answer is the same 401 and nothing
changes. A click is answered at once (Slack waits 3 seconds) and done by a
task enqueued on commit.
"""

from __future__ import annotations

import logging
import time

import redis
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_tenants.utils import tenant_context

from alerting.encryption import SecretUnreadable
from escalation.people.chat_link_views import chat_link_page
from receivers.models import Receiver
from receivers.slack_bot.commands import slack_command_answer
from receivers.slack_bot.interactions import click_as_task_args
from receivers.slack_bot.linking import SLACK_ACCOUNTS
from receivers.slack_bot.payloads import (
    Click,
    Command,
    PayloadError,
    click_read,
    command_read,
    ephemeral,
)
from receivers.slack_bot.replay import body_first_seen, signature_first_seen
from receivers.slack_bot.signature import SignatureRefused, slack_signature_check
from receivers.slack_bot.tasks import slack_click
from receivers.transports.slack_app import SlackAppTransport
from receivers.vendor_webhooks import body_too_big, webhook_tenant
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# A click's payload repeats the whole message (its blocks): well under this.
BODY_LIMIT = 256 * 1024


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _unauthorised() -> HttpResponse:
    # The same answer whatever was wrong: a caller learns nothing of which
    # tenants or receivers exist, nor which check failed.
    return JsonResponse({"ok": False, "error": "unauthorised"}, status=401)


def _signed_body(request: HttpRequest, receiver_id: int) -> tuple[Receiver, bytes, str]:
    """The receiver, raw body and signature of a request its Slack app signed; or _Refused."""
    receiver = Receiver.objects.filter(
        id=receiver_id, kind=SlackAppTransport.kind, enabled=True
    ).first()
    try:
        secret = str(receiver.secrets.get("signing_secret") or "") if receiver else ""
    except SecretUnreadable:
        logger.warning("slack: receiver %s's secrets cannot be decrypted", receiver_id)
        secret = ""
    body = request.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        raise _Refused(JsonResponse({"ok": False, "error": "body too large"}, status=413))
    if not secret:
        raise _Refused(_unauthorised())
    signature = request.headers.get("X-Slack-Signature", "")
    try:
        slack_signature_check(
            signing_secret=secret, timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=signature, body=body, now=time.time(),
        )
    except SignatureRefused as exc:
        logger.info("slack: a request to receiver %r was refused: %s", receiver.name, exc)
        raise _Refused(_unauthorised()) from None
    return receiver, body, signature


def _first_time(request: HttpRequest, *, tenant: Tenant, receiver: Receiver, body: bytes,
                signature: str) -> None:
    """Raise _Refused for a replay (401) or a request already taken (200, not done again)."""
    try:
        fresh_body = body_first_seen(schema=tenant.schema_name, receiver_id=receiver.id, body=body)
        if not fresh_body and request.headers.get("X-Slack-Retry-Num"):
            # Slack sending again what it sent already: done once, answered 200
            # so that it stops.
            raise _Refused(HttpResponse(status=200))
        if not signature_first_seen(schema=tenant.schema_name, receiver_id=receiver.id,
                                    signature=signature):
            logger.info("slack: a replayed request to receiver %r was refused", receiver.name)
            raise _Refused(_unauthorised())
        if not fresh_body:
            raise _Refused(HttpResponse(status=200))
    except redis.RedisError:
        # Without the memory of requests seen, a replay cannot be told: refuse.
        logger.warning("slack: the cache is unreachable; a request was refused")
        raise _Refused(JsonResponse({"ok": False, "error": "try again"}, status=503)) from None


def _slack_request(request: HttpRequest, tenant_slug: str, receiver_id: int, *, read, handle):
    """Check the request, `read` its body (PayloadError: 400), then `handle` it once."""
    tenant = webhook_tenant(request, tenant_slug)
    if tenant is None:
        return _unauthorised()
    if body_too_big(request, limit=BODY_LIMIT):
        return JsonResponse({"ok": False, "error": "body too large"}, status=413)
    with tenant_context(tenant):
        try:
            receiver, body, signature = _signed_body(request, receiver_id)
            parsed = read(body)
            _first_time(request, tenant=tenant, receiver=receiver, body=body,
                        signature=signature)
            return handle(receiver, parsed)
        except _Refused as refused:
            return refused.response
        except PayloadError as exc:
            return JsonResponse({"ok": False, "error": str(exc)}, status=400)


@csrf_exempt
@require_POST
def slack_interactive(request: HttpRequest, tenant_slug: str, receiver_id: int) -> HttpResponse:
    """A click on a button of the receiver's messages: 200 at once, the work in a task."""

    def handle(receiver: Receiver, click: Click | None) -> HttpResponse:
        if click is not None:  # None: a link button's click, which Slack reports too
            args = click_as_task_args(click)
            with transaction.atomic():
                transaction.on_commit(lambda: slack_click.delay(receiver.id, args))
        return HttpResponse(status=200)

    return _slack_request(request, tenant_slug, receiver_id, read=click_read, handle=handle)


@csrf_exempt
@require_POST
def slack_command(request: HttpRequest, tenant_slug: str, receiver_id: int) -> HttpResponse:
    """`/herald oncall`: answered in the response, to the person who typed it only."""

    def handle(receiver: Receiver, command: Command) -> HttpResponse:
        return JsonResponse(ephemeral(slack_command_answer(command=command)))

    return _slack_request(request, tenant_slug, receiver_id, read=command_read, handle=handle)


@require_http_methods(["GET", "POST"])
def slack_link(request: HttpRequest, token: str) -> HttpResponse:
    """The "link your account" reply, opened by a signed-in member: binds the Slack user to them."""
    return chat_link_page(request, token, accounts=SLACK_ACCOUNTS)
