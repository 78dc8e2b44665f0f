"""Grafana Alerting's webhook contact point: `POST /api/v1/grafana/`.

Authenticated as Alertmanager's endpoint is (the ingest key as a bearer
token, which Grafana sends from the contact point's "Authorization header"
credentials, or in the path); the key must be bound to an enabled Grafana
source, whose secret, if it has one, must have signed the body.
"""

from __future__ import annotations

import io
import logging
import time

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from alerting.api.authentication import IngestKeyAuthentication, ingest_key_check
from alerting.api.ingest import AlertmanagerWebhookView, IngestResultSerializer
from alerting.api.parsers import BoundedJSONParser, PayloadTooLarge
from alerting.fields import encrypted_value_readable
from alerting.ingest import alert_batch_ingest
from alerting.models import IngestSourceKind
from alerting.sources.grafana import grafana_webhook
from alerting.sources.metrics import (
    source_alerts_record,
    source_event_record,
    source_truncated_record,
)
from alerting.sources.selectors import ingest_source_for_key
from alerting.sources.services import grafana_signature_settings
from alerting.sources.signature import SignatureRefused, signature_check

logger = logging.getLogger(__name__)
_KIND = IngestSourceKind.GRAFANA


class RawKeepingJSONParser(BoundedJSONParser):
    """The bounded JSON parser, keeping the body's bytes as `request.raw_body` (for the HMAC)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.HERALD_INGEST_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.")
        parser_context["request"].raw_body = body
        return super().parse(io.BytesIO(body), media_type, parser_context)


GRAFANA_EXAMPLE = {
    "receiver": "herald",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {"summary": "Memory above 90% in zone us-1"},
            "startsAt": "2026-11-30T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example/alerting/grafana/abc123/view",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://grafana.example/alerting/silence/new?matcher=alertname%3DHigh",
            "dashboardURL": "https://grafana.example/d/node",
            "panelURL": "https://grafana.example/d/node?viewPanel=2",
            "imageURL": "https://grafana.example/render/panel.png",
            "values": {"B": 93.2, "C": 1},
        }
    ],
    "groupLabels": {"alertname": "High memory usage"},
    "commonLabels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
    "commonAnnotations": {},
    "externalURL": "https://grafana.example/",
    "version": "1",
    "groupKey": '{}:{alertname="High memory usage"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] High memory usage",
    "state": "alerting",
    "message": "**Firing** High memory usage",
}


class GrafanaWebhookView(AlertmanagerWebhookView):
    """Receives Grafana Alerting's webhook (payload version 1) for one tenant."""

    parser_classes = [RawKeepingJSONParser]

    @extend_schema(
        operation_id="grafana_webhook",
        request={"application/json": {"type": "object"}},
        responses={
            200: IngestResultSerializer,
            400: OpenApiResponse(description="Malformed payload; the body names each bad field."),
            401: OpenApiResponse(
                description="Missing or unknown ingest key; a missing, wrong or stale signature."
            ),
            403: OpenApiResponse(description="The key is bound to no enabled Grafana source."),
            413: OpenApiResponse(description="Body over the size limit."),
            429: OpenApiResponse(description="Ingest rate exceeded; see Retry-After."),
        },
        examples=[OpenApiExample("Grafana's webhook", value=GRAFANA_EXAMPLE, request_only=True)],
    )
    def post(self, request, key: str | None = None) -> Response:
        return self.ingest(request)

    def ingest(self, request) -> Response:
        tenant = connection.tenant.slug
        source = ingest_source_for_key(
            key=IngestKeyAuthentication().key_from(request), kind=_KIND
        )
        if source is None:
            raise exceptions.PermissionDenied(
                "This ingest key is bound to no enabled Grafana source: add one (kind grafana, "
                "this key's prefix) in the admin or the configuration's sources."
            )
        data = request.data
        if not encrypted_value_readable(source, "secrets"):
            # Refusing is safer than skipping the check; the operator must fix the keys.
            logger.error("grafana source %s of tenant %s: its secret cannot be decrypted",
                         source.name, tenant)
            raise exceptions.AuthenticationFailed(
                "This source's signature secret cannot be read by Herald; nothing was stored."
            )
        secret = (source.secrets or {}).get("hmac_secret")
        if secret:
            try:
                signature_check(
                    body=request.raw_body, headers=request.headers, secret=secret,
                    now=time.time(), **grafana_signature_settings(source),
                )
            except SignatureRefused as exc:
                source_event_record(tenant=tenant, source=_KIND, outcome="signature_refused")
                raise exceptions.AuthenticationFailed(str(exc)) from None
        try:
            webhook = grafana_webhook(data, config=source.config, source=source.name)
        except exceptions.ValidationError:
            source_event_record(tenant=tenant, source=_KIND, outcome="invalid")
            raise
        if webhook["truncatedAlerts"] > 0:
            logger.warning(
                "grafana source %s of tenant %s: Grafana left %d alert(s) out (truncatedAlerts)",
                source.name, tenant, webhook["truncatedAlerts"],
            )
            source_truncated_record(tenant=tenant, source=_KIND, count=webhook["truncatedAlerts"])
        result = alert_batch_ingest(
            webhook=webhook, raw_payload=data, raw_text=getattr(request, "json_text", None),
            credentials_check=ingest_key_check(request),
        )
        source_event_record(tenant=tenant, source=_KIND, outcome="accepted")
        source_alerts_record(tenant=tenant, source=_KIND, alerts=webhook["alerts"])
        return Response(
            {
                "status": "ok",
                "alerts": result.alerts_stored,
                "notifications": len(result.notification_ids),
            },
            status=status.HTTP_200_OK,
        )


class GrafanaWebhookKeyedView(GrafanaWebhookView):
    """The same endpoint with the ingest key in the path."""

    @extend_schema(
        operation_id="grafana_webhook_keyed",
        request={"application/json": {"type": "object"}},
        responses={200: IngestResultSerializer},
        examples=[OpenApiExample("Grafana's webhook", value=GRAFANA_EXAMPLE, request_only=True)],
    )
    def post(self, request, key: str | None = None) -> Response:
        return self.ingest(request)
