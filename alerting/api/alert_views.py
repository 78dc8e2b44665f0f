"""The tenant API: alerts and alert groups (scope `read`), and actions on groups
(scope `acknowledge`)."""

from __future__ import annotations

from django.db import DataError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerting.api.alert_serializers import (
    AlertDetailSerializer,
    AlertGroupDetailSerializer,
    AlertGroupSerializer,
    AlertSerializer,
    ListFilterSerializer,
)
from alerting.api.authentication import ScopedTokenMixin
from alerting.audit.models import AuditSource
from alerting.audit.services import AuditActor
from alerting.models import Alert, AlertGroup
from alerting.selectors import alert_group_list, alert_list
from alerting.services import AlertGroupActionError, alert_group_acknowledge, alert_group_resolve
from tenants.models import ApiScope

_LIST_PARAMETERS = [
    OpenApiParameter("status", enum=["firing", "resolved"]),
    OpenApiParameter(
        "matcher", many=True, description='Alertmanager matcher, repeatable: severity="critical"'
    ),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
]


class NewestFirst(pagination.CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000

    def decode_cursor(self, request):
        # DRF answers 404 for a cursor it cannot read; it is bad input.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from None


class InvalidFilter(exceptions.ValidationError):
    pass


class _TenantReadViewSet(
    ScopedTokenMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    action_scopes = {"list": ApiScope.READ, "retrieve": ApiScope.READ}
    pagination_class = NewestFirst
    selector = None

    def filtered(self):
        filters = ListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return type(self).selector(**filters.selector_kwargs)

    def list(self, request, *args, **kwargs):
        try:
            with transaction.atomic():  # a savepoint, so the failed query can be left
                return super().list(request, *args, **kwargs)
        except DataError:
            # A regex Python accepts but PostgreSQL does not.
            raise InvalidFilter({"matcher": ["PostgreSQL cannot use this regex."]}) from None


@extend_schema_view(list=extend_schema(parameters=_LIST_PARAMETERS))
class AlertViewSet(_TenantReadViewSet):
    """Alerts of the token's tenant, newest first."""

    selector = staticmethod(alert_list)

    def get_queryset(self):
        if self.action == "list":
            return self.filtered()
        return Alert.objects.all()

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer


@extend_schema_view(list=extend_schema(parameters=_LIST_PARAMETERS))
class AlertGroupViewSet(_TenantReadViewSet):
    """Alert groups of the token's tenant; acknowledge and resolve them."""

    selector = staticmethod(alert_group_list)
    action_scopes = {
        **_TenantReadViewSet.action_scopes,
        "acknowledge": ApiScope.ACKNOWLEDGE,
        "resolve": ApiScope.ACKNOWLEDGE,
    }

    def get_queryset(self):
        if self.action == "list":
            return self.filtered()
        return AlertGroup.objects.all()

    def get_serializer_class(self):
        if self.action == "list":
            return AlertGroupSerializer
        return AlertGroupDetailSerializer

    def _act(self, service, request) -> Response:
        group = self.get_object()
        token_name = request.auth.actor
        audit = AuditActor(
            name=token_name, source=AuditSource.API, ip=request.META.get("REMOTE_ADDR", "")
        )
        try:
            service(alert_group_id=group.id, by=token_name, audit=audit)
        except AlertGroupActionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        group.refresh_from_db()
        return Response(AlertGroupDetailSerializer(group).data)

    @extend_schema(
        request=None,
        responses={200: AlertGroupDetailSerializer, 409: OpenApiResponse(description="Resolved.")},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None) -> Response:
        return self._act(alert_group_acknowledge, request)

    @extend_schema(
        request=None,
        responses={
            200: AlertGroupDetailSerializer,
            409: OpenApiResponse(description="Already resolved."),
        },
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None) -> Response:
        return self._act(alert_group_resolve, request)
