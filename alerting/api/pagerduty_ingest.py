"""PagerDuty Events API v2-compatible ingest: `POST /api/v1/events/v2/enqueue`.

A tool wired for PagerDuty points at Herald unchanged: the `routing_key` is
a Herald ingest key bound to an enabled PagerDuty Events source, and every
answer has PagerDuty's shape (202 with status, message and dedup_key; 400
"invalid event" with `errors`; 429 when throttled).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alerting.api.authentication import TenantFromCredentialsMixin
from alerting.api.parsers import BoundedJSONParser
from alerting.api.request_body import unread_body_discard
from alerting.api.throttling import TenantIngestThrottle
from alerting.ingest import alert_batch_ingest
from alerting.models import AlertStatus, IngestSourceKind
from alerting.sources.metrics import source_alerts_record, source_event_record
from alerting.sources.pagerduty_events import (
    PagerDutyEvent,
    PagerDutyInvalid,
    pagerduty_event,
    pagerduty_events_webhook,
    pagerduty_fingerprint,
    pagerduty_group_key,
)
from alerting.sources.selectors import ingest_source_for_key, source_alert_state
from alerting.sources.services import source_group_acknowledge
from tenants.selectors import ingest_key_confirm, tenant_for_ingest_key

_KIND = IngestSourceKind.PAGERDUTY_EVENTS
_datetime = serializers.DateTimeField()


class _Invalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Event object is invalid")
        self.errors = errors


def _routing_key(request) -> str:
    data = request.data
    key = data.get("routing_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) else ""


class RoutingKeyAuthentication:
    """The tenant of the event's `routing_key` (a Herald ingest key), read from the body."""

    def authenticate(self, request):
        key = _routing_key(request)
        if not key:
            raise _Invalid(["'routing_key' is missing or blank"])
        tenant = tenant_for_ingest_key(key=key)
        if tenant is None:
            raise exceptions.AuthenticationFailed("Invalid routing key")
        return (None, tenant)

    def authenticate_header(self, request) -> str:
        return 'Token realm="herald-events"'


class EnqueueResultSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"success"')
    message = serializers.CharField(help_text='"Event processed"')
    dedup_key = serializers.CharField()


class EnqueueErrorSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"invalid event"')
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())


_TRIGGER = {
    "routing_key": "hk_…",
    "event_action": "trigger",
    "dedup_key": "srv01/HTTP",
    "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "source": "prod-datapipe03.example.com",
        "severity": "critical",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%"},
    },
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.example.com",
}


def _time(value: object, fallback: datetime) -> datetime:
    if not isinstance(value, str):
        return fallback
    try:
        return _datetime.to_internal_value(value)
    except serializers.ValidationError:
        return fallback  # PagerDuty takes the time it received the event


class PagerDutyEnqueueView(TenantFromCredentialsMixin, APIView):
    authentication_classes = [RoutingKeyAuthentication]
    parser_classes = [BoundedJSONParser]
    throttle_classes = [TenantIngestThrottle]

    @extend_schema(
        operation_id="pagerduty_events_enqueue",
        auth=[],
        request={"application/json": {"type": "object"}},
        responses={
            202: EnqueueResultSerializer,
            400: EnqueueErrorSerializer,
            401: OpenApiResponse(description="The routing_key is no Herald ingest key."),
            403: OpenApiResponse(description="The key is bound to no PagerDuty Events source."),
            413: OpenApiResponse(description="Body over the size limit."),
            429: OpenApiResponse(description="Too many events; retry later (Retry-After)."),
        },
        examples=[OpenApiExample("A trigger", value=_TRIGGER, request_only=True)],
    )
    def post(self, request) -> Response:
        key = _routing_key(request)
        source = ingest_source_for_key(key=key, kind=_KIND)
        if source is None:
            raise exceptions.PermissionDenied(
                "This routing key is bound to no enabled PagerDuty Events source."
            )
        try:
            event = pagerduty_event(request.data, generated_key=uuid.uuid4().hex)
        except PagerDutyInvalid as exc:
            source_event_record(tenant=connection.tenant.slug, source=_KIND, outcome="invalid")
            raise _Invalid(exc.errors) from None
        outcome = self._apply(request, event, source, key)
        source_event_record(tenant=connection.tenant.slug, source=_KIND, outcome=outcome)
        return Response(
            {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key},
            status=status.HTTP_202_ACCEPTED,
        )

    def _apply(self, request, event: PagerDutyEvent, source, key: str) -> str:
        if event.action == "acknowledge":
            group_key = pagerduty_group_key(source=source.name, dedup_key=event.dedup_key)
            done = source_group_acknowledge(source=source, group_key=group_key)
            return "acknowledged" if done is not None and done.done else "accepted"
        now = timezone.now()
        fingerprint = pagerduty_fingerprint(source=source.name, dedup_key=event.dedup_key)
        known = source_alert_state(fingerprint=fingerprint)
        if event.action == "resolve":
            if known is None or known[0] != AlertStatus.FIRING:
                return "accepted"  # nothing open under this key: PagerDuty drops it too
            config = {"labels": known[2], "annotations": known[3]}
            starts_at, ends_at = known[1], now
        else:
            config = {}
            # A trigger repeated for an open alert is the same incident, not a new one.
            firing = known is not None and known[0] == AlertStatus.FIRING
            starts_at = known[1] if firing else _time(event.body["payload"].get("timestamp"), now)
            ends_at = None
        try:
            webhook = pagerduty_events_webhook(
                event, config=config, source=source.name, starts_at=starts_at.astimezone(UTC),
                ends_at=ends_at,
            )
        except PagerDutyInvalid as exc:
            raise _Invalid(exc.errors) from None
        tenant = request.auth

        def still_valid(version: int | None) -> None:
            if not ingest_key_confirm(key=key, tenant=tenant, version=version):
                raise exceptions.AuthenticationFailed("Invalid routing key")

        alert_batch_ingest(
            webhook=webhook, raw_payload=request.data, raw_text=getattr(request, "json_text", None),
            credentials_check=still_valid,
        )
        source_alerts_record(tenant=connection.tenant.slug, source=_KIND, alerts=webhook["alerts"])
        return "accepted"

    def handle_exception(self, exc):
        """Every refusal in PagerDuty's shape, so its clients read it."""
        response = super().handle_exception(exc)
        if isinstance(exc, _Invalid):
            response.data = {
                "status": "invalid event", "message": "Event object is invalid",
                "errors": exc.errors,
            }
        elif isinstance(exc, exceptions.Throttled):
            response.data = {
                "status": "throttle event",
                "message": "Requests for this service are arriving too quickly. "
                "Please retry later.",
                "errors": [],
            }
        elif isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            response.status_code = status.HTTP_400_BAD_REQUEST
            response.data = {
                "status": "invalid event", "message": "Event object is invalid",
                "errors": [str(exc.detail)],
            }
        elif isinstance(exc, exceptions.APIException):
            response.data = {
                "status": "unauthorized" if response.status_code == 401 else "refused",
                "message": str(exc.detail), "errors": [str(exc.detail)],
            }
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        unread_body_discard(getattr(request, "_request", request))
        return super().finalize_response(request, response, *args, **kwargs)
