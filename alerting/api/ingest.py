"""The Alertmanager webhook endpoint."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerting.api.authentication import (
    IngestKeyAuthentication,
    TenantFromCredentialsMixin,
    ingest_key_check,
)
from alerting.api.parsers import BoundedJSONParser
from alerting.api.request_body import chunked_body_expose, unread_body_discard
from alerting.api.throttling import TenantIngestThrottle
from alerting.api.webhook import WebhookSerializer, validated_webhook
from alerting.ingest import alert_batch_ingest


class IngestResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    alerts = serializers.IntegerField(help_text="Alerts stored from this payload.")
    notifications = serializers.IntegerField(help_text="Notifications this payload queued.")


_EXAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "herald",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency", "severity": "critical"},
    "commonAnnotations": {"summary": "p99 latency above 2s"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighLatency", "severity": "critical", "job": "api"},
            "annotations": {"summary": "p99 latency above 2s"},
            "startsAt": "2026-11-23T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": "c7b3a1d2e4f56789",
        }
    ],
}


class _IngestRequest(Request):
    """DRF takes a body without Content-Length for no body; a chunked one is a body."""

    def __init__(self, request, **kwargs) -> None:
        self._chunked = chunked_body_expose(request)
        super().__init__(request, **kwargs)

    def _load_stream(self) -> None:
        super()._load_stream()
        if self._stream is None and self._chunked:
            self._stream = self._request  # DRF's JSON parsing then reads `request.body`


class AlertmanagerWebhookView(TenantFromCredentialsMixin, APIView):
    """Receives Alertmanager's webhook (payload version 4) for one tenant.

    Answers 200 only once the alerts and the notifications they owe are
    committed; delivery happens afterwards in the workers.
    """

    authentication_classes = [IngestKeyAuthentication]
    parser_classes = [BoundedJSONParser]
    throttle_classes = [TenantIngestThrottle]

    @extend_schema(
        operation_id="alertmanager_webhook",
        request=WebhookSerializer,
        responses={
            200: IngestResultSerializer,
            400: OpenApiResponse(description="Malformed payload; the body names each bad field."),
            401: OpenApiResponse(description="Missing or unknown ingest key."),
            413: OpenApiResponse(description="Body over the size limit."),
            415: OpenApiResponse(description="Content type is not JSON."),
            429: OpenApiResponse(description="Ingest rate exceeded; see Retry-After."),
        },
        examples=[OpenApiExample("A firing alert", value=_EXAMPLE, request_only=True)],
    )
    def post(self, request, key: str | None = None) -> Response:
        return self.ingest(request)

    def initialize_request(self, request, *args, **kwargs) -> Request:
        return _IngestRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )

    def finalize_response(self, request, response, *args, **kwargs):
        # Whatever the answer (401, 413, 429 before the body was read), the
        # sender must be able to read it: see alerting.api.request_body.
        unread_body_discard(request._request if isinstance(request, Request) else request)
        return super().finalize_response(request, response, *args, **kwargs)

    def ingest(self, request) -> Response:
        data = request.data
        text = getattr(request, "json_text", None)  # set by the parser, so read after it
        result = alert_batch_ingest(
            webhook=validated_webhook(data, text=text), raw_payload=data, raw_text=text,
            credentials_check=ingest_key_check(request),
        )
        return Response(
            {
                "status": "ok",
                "alerts": result.alerts_stored,
                "notifications": len(result.notification_ids),
            },
            status=status.HTTP_200_OK,
        )


class AlertmanagerWebhookKeyedView(AlertmanagerWebhookView):
    """The same endpoint with the ingest key in the path, for senders without headers."""

    @extend_schema(
        operation_id="alertmanager_webhook_keyed",
        request=WebhookSerializer,
        responses={200: IngestResultSerializer},
        examples=[OpenApiExample("A firing alert", value=_EXAMPLE, request_only=True)],
    )
    def post(self, request, key: str | None = None) -> Response:
        return self.ingest(request)
