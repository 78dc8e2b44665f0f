"""Silences over the API: list, create, look at, expire; bounded for tokens."""

from __future__ import annotations

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from alerting.api.alert_views import NewestFirst
from alerting.api.authentication import (
    SCOPE_DECIDED_BY_HANDLER,
    ScopedTokenMixin,
    scope_require,
)
from alerting.audit.services import audit_record
from alerting.models import Silence, SilenceKind
from alerting.services import SilenceError
from alerting.silence_limits import SilenceLimitError, silence_create_bounded
from tenants.models import ApiScope


class SilenceSerializer(serializers.ModelSerializer):
    startsAt = serializers.DateTimeField(source="starts_at", required=False, allow_null=True)
    endsAt = serializers.DateTimeField(source="ends_at", required=False, allow_null=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False)
    windowStart = serializers.TimeField(source="window_start", required=False, allow_null=True)
    windowEnd = serializers.TimeField(source="window_end", required=False, allow_null=True)
    timeZone = serializers.CharField(source="time_zone", required=False, default="UTC")
    createdBy = serializers.CharField(source="created_by", read_only=True)
    confirmCatchAll = serializers.BooleanField(
        source="confirm_catch_all", write_only=True, required=False, default=False,
        help_text="Required (true) for matchers that would silence every alert.",
    )

    class Meta:
        model = Silence
        fields = ["id", "matchers", "kind", "startsAt", "endsAt", "weekdays", "windowStart",
                  "windowEnd", "timeZone", "comment", "createdBy", "confirmCatchAll"]
        read_only_fields = ["id", "kind", "createdBy"]


class SilenceViewSet(
    ScopedTokenMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts matching an active silence are stored but notify nobody.

    Tokens with `acknowledge` make one-off silences, ending within the
    tenant's `silence_max_duration`; weekly windows need `write`.
    """

    action_scopes = {
        "list": ApiScope.READ,
        "retrieve": ApiScope.READ,
        # acknowledge for a one-off silence, write for a weekly window
        "create": SCOPE_DECIDED_BY_HANDLER,
        "destroy": SCOPE_DECIDED_BY_HANDLER,
    }
    serializer_class = SilenceSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return Silence.objects.all()

    def create(self, request, *args, **kwargs):
        # Before validation, so a token without the scope learns nothing more.
        weekly = isinstance(request.data, dict) and bool(request.data.get("weekdays"))
        scope_require(
            token=request.auth,
            scope=ApiScope.WRITE if weekly else ApiScope.ACKNOWLEDGE,
            doing="creating a weekly silence" if weekly else "creating a silence",
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        try:
            silence = silence_create_bounded(
                created_by=request.auth.actor,
                max_duration=request.auth.tenant.silence_max_duration,
                **fields,
            )
        except SilenceLimitError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        except SilenceError as exc:
            raise serializers.ValidationError({"silence": [str(exc)]}) from None
        data = self.get_serializer(silence).data
        self._audit("create", silence, after=data)
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Silence) -> None:
        weekly = instance.kind == SilenceKind.WEEKLY
        scope_require(
            token=self.request.auth,
            scope=ApiScope.WRITE if weekly else ApiScope.ACKNOWLEDGE,
            doing="expiring a weekly silence" if weekly else "expiring a silence",
        )
        before = self.get_serializer(instance).data
        super().perform_destroy(instance)
        self._audit("delete", instance, before=before)

    def _audit(self, action: str, silence: Silence, **change) -> None:
        audit_record(
            actor=self.request.auth.actor,
            source="api",
            action=action,
            obj_type="alerting.silence",
            obj_id=silence.id or "",
            obj_repr=silence.matchers[:300],
            ip=self.request.META.get("REMOTE_ADDR", ""),
            **change,
        )
