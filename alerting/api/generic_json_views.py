"""The generic JSON ingest endpoint: any JSON body, mapped by the named source's mapping."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from alerting.api.authentication import IngestKeyAuthentication, ingest_key_check
from alerting.api.ingest import AlertmanagerWebhookView
from alerting.sources.generic_json_config import MappingError
from alerting.sources.generic_json_ingest import generic_json_ingest
from alerting.sources.generic_json_selectors import generic_json_source_for_key


class GenericJsonResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    alerts = serializers.IntegerField(help_text="Alerts stored from this body.")
    notifications = serializers.IntegerField(help_text="Notifications this body queued.")
    groups = serializers.IntegerField(help_text="Alert groups the body's alerts went to.")


_RESPONSES = {
    200: GenericJsonResultSerializer,
    400: OpenApiResponse(
        description="The body is not JSON, or the mapping cannot make alerts of it; "
        "`errors` names the mapping's field."
    ),
    401: OpenApiResponse(description="Missing or unknown ingest key."),
    404: OpenApiResponse(description="No such generic JSON source for this ingest key."),
    413: OpenApiResponse(description="Body over the size limit."),
    429: OpenApiResponse(description="Ingest rate exceeded; see Retry-After."),
}


class GenericJsonIngestView(AlertmanagerWebhookView):
    """Receives any JSON body for a generic JSON source (IngestSource of kind generic_json).

    The ingest key authenticates as for Alertmanager (Bearer header, or in
    the path) and selects the tenant; the source must be bound to that key.
    The body is bounded, parsed and rate-limited as Alertmanager's is.
    """

    @extend_schema(
        operation_id="generic_json_ingest",
        request={"application/json": {"type": "object", "description": "Any JSON body."}},
        responses=_RESPONSES,
    )
    def post(self, request, name: str, key: str | None = None) -> Response:
        return self.ingest_mapped(request, name)

    def ingest_mapped(self, request, name: str) -> Response:
        source = generic_json_source_for_key(
            name=name, key=IngestKeyAuthentication().key_from(request)
        )
        if source is None:
            raise exceptions.NotFound(
                "No enabled generic JSON source of that name is bound to this ingest key."
            )
        payload = request.data
        try:
            result = generic_json_ingest(
                source=source,
                payload=payload,
                raw_text=getattr(request, "json_text", None),  # set by the parser
                credentials_check=ingest_key_check(request),
            )
        except MappingError as error:
            return Response(
                {"detail": str(error), "errors": {error.field: [error.message]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {
                "status": "ok",
                "alerts": result.alerts_stored,
                "notifications": result.notifications,
                "groups": result.groups,
            }
        )


class GenericJsonIngestKeyedView(GenericJsonIngestView):
    """The same endpoint with the ingest key in the path, for senders without headers."""

    @extend_schema(
        operation_id="generic_json_ingest_keyed",
        request={"application/json": {"type": "object", "description": "Any JSON body."}},
        responses=_RESPONSES,
    )
    def post(self, request, name: str, key: str | None = None) -> Response:
        return self.ingest_mapped(request, name)
