"""What the read API shows of alerts, groups and their notifications."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerting.matchers import MatcherError, parse_matcher
from alerting.models import Alert, AlertGroup, AlertStatus
from receivers.selectors import notification_list_for_group


class ListFilterSerializer(serializers.Serializer):
    """Query parameters of the list endpoints, validated (bad ones get a 400)."""

    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    matcher = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text='Alertmanager matchers, repeatable: matcher=severity="critical"',
    )
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate_matcher(self, values: list[str]):
        try:
            return [parse_matcher(value) for value in values]
        except MatcherError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_internal_value(self, data):
        # QueryDict: keep every repeated `matcher`.
        if hasattr(data, "getlist"):
            data = {**data.dict(), "matcher": data.getlist("matcher")}
        return super().to_internal_value(data)

    @property
    def selector_kwargs(self) -> dict:
        data = dict(self.validated_data)
        data["matchers"] = data.pop("matcher")
        return data


class AlertSerializer(serializers.ModelSerializer):
    startsAt = serializers.DateTimeField(source="starts_at")
    endsAt = serializers.DateTimeField(source="ends_at", allow_null=True)
    generatorURL = serializers.CharField(source="generator_url")
    firstSeenAt = serializers.DateTimeField(source="first_seen_at")
    lastSeenAt = serializers.DateTimeField(source="last_seen_at")
    alertGroup = serializers.IntegerField(source="group_id")

    class Meta:
        model = Alert
        fields = [
            "id", "fingerprint", "status", "labels", "annotations", "startsAt", "endsAt",
            "generatorURL", "firstSeenAt", "lastSeenAt", "alertGroup",
        ]
        read_only_fields = fields


class AlertGroupSerializer(serializers.ModelSerializer):
    groupKey = serializers.CharField(source="group_key")
    groupLabels = serializers.JSONField(source="group_labels")
    commonLabels = serializers.JSONField(source="common_labels")
    commonAnnotations = serializers.JSONField(source="common_annotations")
    externalURL = serializers.CharField(source="external_url")
    firingCount = serializers.IntegerField(source="firing_count")
    resolvedCount = serializers.IntegerField(source="resolved_count")
    firstSeenAt = serializers.DateTimeField(source="first_seen_at")
    lastSeenAt = serializers.DateTimeField(source="last_seen_at")
    acknowledgedAt = serializers.DateTimeField(source="acknowledged_at")
    acknowledgedBy = serializers.CharField(source="acknowledged_by")
    resolvedAt = serializers.DateTimeField(source="resolved_at")
    resolvedBy = serializers.CharField(source="resolved_by")

    class Meta:
        model = AlertGroup
        fields = [
            "id", "groupKey", "receiver", "status", "groupLabels", "commonLabels",
            "commonAnnotations", "externalURL", "firingCount", "resolvedCount", "firstSeenAt",
            "lastSeenAt", "acknowledgedAt", "acknowledgedBy", "resolvedAt", "resolvedBy",
        ]
        read_only_fields = fields


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    startedAt = serializers.DateTimeField(source="started_at")
    outcome = serializers.CharField()
    httpStatus = serializers.IntegerField(source="http_status", allow_null=True)
    latencyMs = serializers.IntegerField(source="latency_ms")
    error = serializers.CharField()


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receiver = serializers.CharField(source="receiver_name")
    channel = serializers.CharField()
    status = serializers.CharField()
    state = serializers.CharField()
    attempts = serializers.IntegerField()
    createdAt = serializers.DateTimeField(source="created_at")
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    lastError = serializers.CharField(source="last_error")
    deliveryAttempts = DeliveryAttemptSerializer(
        source="delivery_attempts.all", many=True
    )


class AlertGroupDetailSerializer(AlertGroupSerializer):
    alerts = AlertSerializer(many=True, source="alerts.all")
    notifications = serializers.SerializerMethodField()

    class Meta(AlertGroupSerializer.Meta):
        fields = [*AlertGroupSerializer.Meta.fields, "alerts", "notifications"]
        read_only_fields = fields

    @extend_schema_field(NotificationSerializer(many=True))
    def get_notifications(self, group: AlertGroup) -> list[dict]:
        notifications = notification_list_for_group(alert_group_id=group.id)
        return NotificationSerializer(notifications, many=True).data


class AlertDetailSerializer(AlertSerializer):
    notifications = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "notifications"]
        read_only_fields = fields

    @extend_schema_field(NotificationSerializer(many=True))
    def get_notifications(self, alert: Alert) -> list[dict]:
        """The group's notifications that carried this alert."""
        notifications = [
            notification
            for notification in notification_list_for_group(alert_group_id=alert.group_id)
            if any(item.get("fingerprint") == alert.fingerprint for item in notification.alerts)
        ]
        return NotificationSerializer(notifications, many=True).data
