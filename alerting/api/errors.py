"""API errors as JSON, with a status code that says what went wrong."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django names its setting; the sender needs the number.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The body is larger than the limit of {limit} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is restarting or unreachable: nothing was stored, and
        # Alertmanager retries a 5xx; 503 says "try again", not "we broke".
        logger.warning("database unavailable: %s", type(exc).__name__)
        return Response(
            {"detail": "The database is unavailable; nothing was stored. Retry."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    return drf_exception_handler(exc, context)
