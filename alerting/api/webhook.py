"""Alertmanager's webhook payload, version 4, as DRF serializers."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers

from alerting.models import AlertStatus

# Alertmanager's zero time.Time, sent as endsAt while an alert has no end.
_NO_END = datetime(1, 1, 1, tzinfo=UTC)



class StrictCharField(serializers.CharField):
    """A string, and only a string: Alertmanager never sends numbers as labels."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _label_set(**kwargs) -> serializers.DictField:
    return serializers.DictField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False), **kwargs
    )


class WebhookAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    labels = _label_set(allow_empty=False)
    annotations = _label_set(required=False, default=dict)
    startsAt = serializers.DateTimeField()
    endsAt = serializers.DateTimeField(required=False, allow_null=True, default=None)
    generatorURL = StrictCharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    fingerprint = serializers.RegexField(r"^[0-9a-fA-F]{1,64}$")

    def validate_endsAt(self, value: datetime | None) -> datetime | None:
        return None if value is None or value <= _NO_END else value


class WebhookSerializer(serializers.Serializer):
    version = StrictCharField()
    groupKey = StrictCharField(trim_whitespace=False)
    truncatedAlerts = serializers.IntegerField(min_value=0, required=False, default=0)
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    receiver = StrictCharField(allow_blank=True, trim_whitespace=False)
    groupLabels = _label_set(required=False, default=dict)
    commonLabels = _label_set(required=False, default=dict)
    commonAnnotations = _label_set(required=False, default=dict)
    externalURL = StrictCharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    alerts = WebhookAlertSerializer(many=True, allow_empty=False)

    def validate_version(self, value: str) -> str:
        if value != "4":
            raise serializers.ValidationError(
                f'Only Alertmanager webhook payload version "4" is accepted, not {value!r}.'
            )
        return value

    def validate_alerts(self, alerts: list[dict]) -> list[dict]:
        seen: dict[str, int] = {}
        for index, alert in enumerate(alerts):
            fingerprint = alert["fingerprint"].lower()
            if fingerprint in seen:
                raise serializers.ValidationError(
                    f"alerts[{index}] repeats the fingerprint of alerts[{seen[fingerprint]}]."
                )
            seen[fingerprint] = index
            alert["fingerprint"] = fingerprint
        return alerts
