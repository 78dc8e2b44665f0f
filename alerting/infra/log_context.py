"""What a log line is about: the tenant, the request and the notification being delivered.

Kept in context variables (per thread and per asyncio task), so any logger
call picks them up without passing them around; `LogContextFilter` copies
them onto each record, where the JSON formatter writes them out.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from celery.signals import task_postrun, task_prerun
from django.db import connection

request_id_var: ContextVar[str] = ContextVar("herald_request_id", default="")
notification_id_var: ContextVar[int | None] = ContextVar("herald_notification_id", default=None)

# A caller's id is kept only if it cannot smuggle anything into the logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DELIVERY_TASK = "receivers.tasks.deliver_notification"


def _current_tenant() -> str:
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return ""
    return getattr(tenant, "slug", "") or tenant.schema_name


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = _current_tenant()
        record.request_id = request_id_var.get()
        record.notification_id = notification_id_var.get()
        return True


class RequestContextMiddleware:
    """A request id for every request: the caller's X-Request-ID if sane, else a new one."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


@contextmanager
def notification_log_context(notification_id: int | None) -> Iterator[None]:
    """Name the notification on every log line within, in whichever thread sends it."""
    token = notification_id_var.set(notification_id)
    try:
        yield
    finally:
        notification_id_var.reset(token)


@task_prerun.connect(weak=False)
def _task_started(task=None, args=None, kwargs=None, **extra) -> None:
    if task is not None and task.name == _DELIVERY_TASK:
        notification_id = (args or [None])[0] if args else (kwargs or {}).get("notification_id")
        notification_id_var.set(notification_id)


@task_postrun.connect(weak=False)
def _task_finished(**extra) -> None:
    notification_id_var.set(None)
