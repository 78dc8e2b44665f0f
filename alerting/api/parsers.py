"""A JSON parser that stops reading at the configured body limit."""

from __future__ import annotations

import json
import math

import msgspec
from django.conf import settings
from rest_framework import exceptions, parsers, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: PostgreSQL's jsonb has no infinity
        raise ValueError(f"number out of range: {text}")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


class BoundedJSONParser(parsers.JSONParser):
    """Reads at most HERALD_INGEST_MAX_BODY_BYTES, whether or not a length was sent.

    DRF hands JSON parsers `request.body`, which Django has already bounded
    (DATA_UPLOAD_MAX_MEMORY_SIZE is this limit; a chunked body is bounded the
    same way, see alerting.api.request_body): the checks here hold if not.

    Strict JSON only (no NaN or Infinity, and no number beyond a double,
    which PostgreSQL could not store). msgspec decodes what it can, twice as
    fast as `json`; the rest (a BOM, a lone surrogate, deep nesting, an
    error to explain) goes to `json`. A UTF-8 body is kept as
    `request.json_text`, so ingest can store the payload as received instead
    of serialising it again.
    """

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
            data = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            pass  # json decides, and explains
        else:
            request.json_text = body.decode("utf-8")
            return data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and text.startswith("\ufeff"):
            text = None  # json.loads takes a BOM only in bytes
        request.json_text = text
        try:
            return json.loads(
                body if text is None else text, parse_constant=_no_constant, parse_float=_finite
            )
        except UnicodeDecodeError:
            raise exceptions.ParseError("The body is not valid UTF-8.") from None
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
