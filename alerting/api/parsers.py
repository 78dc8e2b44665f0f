"""A JSON parser that stops reading at the configured body limit."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import exceptions, parsers, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class BoundedJSONParser(parsers.JSONParser):
    """Reads at most HERALD_INGEST_MAX_BODY_BYTES, whether or not a length was sent."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.HERALD_INGEST_MAX_BODY_BYTES
        too_large = PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.")
        request = parser_context["request"]
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise too_large
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise too_large
        try:
            return json.loads(body)
        except UnicodeDecodeError:
            raise exceptions.ParseError("The body is not valid UTF-8.") from None
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
