"""Silences over the API: list, create, look at, expire."""

from __future__ import annotations

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from alerting.api.alert_views import NewestFirst
from alerting.api.authentication import ApiTokenAuthentication, TenantFromCredentialsMixin
from alerting.audit.services import audit_record
from alerting.models import Silence
from alerting.services import SilenceError, silence_create


class SilenceSerializer(serializers.ModelSerializer):
    startsAt = serializers.DateTimeField(source="starts_at", required=False, allow_null=True)
    endsAt = serializers.DateTimeField(source="ends_at", required=False, allow_null=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False)
    windowStart = serializers.TimeField(source="window_start", required=False, allow_null=True)
    windowEnd = serializers.TimeField(source="window_end", required=False, allow_null=True)
    timeZone = serializers.CharField(source="time_zone", required=False, default="UTC")
    createdBy = serializers.CharField(source="created_by", read_only=True)

    class Meta:
        model = Silence
        fields = ["id", "matchers", "kind", "startsAt", "endsAt", "weekdays", "windowStart",
                  "windowEnd", "timeZone", "comment", "createdBy"]
        read_only_fields = ["id", "kind", "createdBy"]


class SilenceViewSet(
    TenantFromCredentialsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts matching an active silence are stored but notify nobody."""

    authentication_classes = [ApiTokenAuthentication]
    serializer_class = SilenceSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        return Silence.objects.all()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            silence = silence_create(
                created_by=f"api:{request.auth.slug}", **serializer.validated_data
            )
        except SilenceError as exc:
            raise serializers.ValidationError({"silence": [str(exc)]}) from None
        data = self.get_serializer(silence).data
        self._audit("create", silence, after=data)
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Silence) -> None:
        before = self.get_serializer(instance).data
        super().perform_destroy(instance)
        self._audit("delete", instance, before=before)

    def _audit(self, action: str, silence: Silence, **change) -> None:
        audit_record(
            actor=f"api:{self.request.auth.slug}",
            source="api",
            action=action,
            obj_type="alerting.silence",
            obj_id=silence.id or "",
            obj_repr=silence.matchers[:300],
            ip=self.request.META.get("REMOTE_ADDR", ""),
            **change,
        )
