"""On-call over the API: schedules and teams (scope `read`), who is on call now or at a
time (`read`), overrides created and deleted (`write`: they change who is paged)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerting.api.alert_views import NewestFirst
from alerting.api.authentication import ScopedTokenMixin
from alerting.api.schedule_serializers import (
    AtQuerySerializer,
    OnCallSerializer,
    OverrideCreateSerializer,
    OverrideSerializer,
    ScheduleDetailSerializer,
    ScheduleSerializer,
    TeamDetailSerializer,
    TeamOnCallSerializer,
    TeamSerializer,
)
from alerting.audit.models import AuditSource
from escalation.oncall_selectors import (
    person_names,
    schedule_detail_list,
    schedule_list,
    schedule_on_call_at,
    schedule_override_find,
    schedule_people,
    team_list,
    team_on_call_at,
)
from escalation.schedules.services import schedule_override_create, schedule_override_delete
from escalation.schedules.zones import UnknownZone
from tenants.models import ApiScope


class ByName(NewestFirst):
    ordering = ("name", "id")


def _at(request):
    query = AtQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("at") or timezone.now()


def _who(request) -> dict:
    """Who acts, for the service's audit entry: the token, over the API, from where."""
    return {"by": request.auth.actor, "source": AuditSource.API,
            "ip": request.META.get("REMOTE_ADDR", "")}


def _bad_input(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400 that names each field."""
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


class ScheduleUnusable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The schedule cannot be computed."


@contextmanager
def _zone_known() -> Iterator[None]:
    """A schedule stored with a zone this server does not know: 409, saying which."""
    try:
        yield
    except UnknownZone as exc:
        raise ScheduleUnusable(
            f"The schedule's time zone {exc.name[:64]!r} is not one this server knows; "
            "fix it in the admin."
        ) from None


_BROKEN = OpenApiResponse(description="A schedule's stored time zone is unknown to the server.")
_AT = OpenApiParameter("at", OpenApiTypes.DATETIME,
                       description="ISO 8601 date-time; now when left out.")
_OVERRIDE_ID = OpenApiParameter("override_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class ScheduleViewSet(
    ScopedTokenMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """On-call schedules of the token's tenant, by name; who is on call; overrides."""

    action_scopes = {
        "list": ApiScope.READ,
        "retrieve": ApiScope.READ,
        "on_call": ApiScope.READ,
        "override_create": ApiScope.WRITE,
        "override_delete": ApiScope.WRITE,
    }
    pagination_class = ByName

    def get_queryset(self):
        return schedule_detail_list() if self.action == "retrieve" else schedule_list()

    def get_serializer_class(self):
        return ScheduleDetailSerializer if self.action == "retrieve" else ScheduleSerializer

    def retrieve(self, request, *args, **kwargs) -> Response:
        schedule = self.get_object()
        names = person_names(person_ids=schedule_people(schedule=schedule))
        return Response(ScheduleDetailSerializer(schedule, context={"names": names}).data)

    @extend_schema(parameters=[_AT], responses={200: OnCallSerializer, 409: _BROKEN})
    @action(detail=True, methods=["get"], url_path="on-call")
    def on_call(self, request, pk=None) -> Response:
        schedule = self.get_object()
        at = _at(request)
        with _zone_known():
            answer = schedule_on_call_at(schedule=schedule, at=at)
        names = person_names(person_ids=answer.on_call.people)
        return Response(OnCallSerializer(answer, context={"names": names}).data)

    @extend_schema(request=OverrideCreateSerializer, responses={201: OverrideSerializer})
    @action(detail=True, methods=["post"], url_path="overrides")
    def override_create(self, request, pk=None) -> Response:
        schedule = self.get_object()
        given = OverrideCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            override = schedule_override_create(
                schedule=schedule, **given.validated_data, **_who(request)
            )
        except DjangoValidationError as exc:
            raise _bad_input(exc) from None
        ids = [override.person_id, override.replaces_id]
        names = person_names(person_ids=[i for i in ids if i is not None])
        data = OverrideSerializer(override, context={"names": names}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_OVERRIDE_ID], request=None,
                   responses={204: OpenApiResponse(description="Deleted.")})
    @action(detail=True, methods=["delete"], url_path=r"overrides/(?P<override_id>[^/.]+)")
    def override_delete(self, request, pk=None, override_id=None) -> Response:
        schedule = self.get_object()
        override = schedule_override_find(schedule=schedule, override_id=override_id)
        if override is None:
            raise exceptions.NotFound("No such override in this schedule.")
        try:
            schedule_override_delete(override=override, **_who(request))
        except DjangoValidationError as exc:
            raise _bad_input(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamViewSet(
    ScopedTokenMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Teams of the token's tenant, by name, with their schedules; who is on call in them."""

    action_scopes = {"list": ApiScope.READ, "retrieve": ApiScope.READ, "on_call": ApiScope.READ}
    pagination_class = ByName

    def get_queryset(self):
        teams = team_list().prefetch_related("schedules")
        return teams.prefetch_related("memberships") if self.action == "retrieve" else teams

    def get_serializer_class(self):
        return TeamDetailSerializer if self.action == "retrieve" else TeamSerializer

    def retrieve(self, request, *args, **kwargs) -> Response:
        team = self.get_object()
        names = person_names(person_ids=[m.person_id for m in team.memberships.all()])
        return Response(TeamDetailSerializer(team, context={"names": names}).data)

    @extend_schema(parameters=[_AT], responses={200: TeamOnCallSerializer, 409: _BROKEN})
    @action(detail=True, methods=["get"], url_path="on-call")
    def on_call(self, request, pk=None) -> Response:
        team = self.get_object()
        at = _at(request)
        with _zone_known():
            answers = team_on_call_at(team=team, at=at)
        names = person_names(person_ids={p for a in answers for p in a.on_call.people})
        data = TeamOnCallSerializer({"team": team, "at": at, "schedules": answers},
                                    context={"names": names}).data
        return Response(data)
