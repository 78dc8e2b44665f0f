"""Alertmanager's webhook payload, version 4: the DRF serializers are the contract.

`validated_webhook` checks the common, well-formed payload with a strict fast
path and falls back to the serializers for anything else, so every error
message comes from DRF. The fast path only ever accepts what the serializers
accept, with the same result (a property test holds it to that).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from rest_framework import serializers

from alerting.models import AlertStatus

# Alertmanager's zero time.Time, sent as endsAt while an alert has no end.
_NO_END = datetime(1, 1, 1, tzinfo=UTC)
# PostgreSQL cannot store NUL in text or jsonb, and lone surrogates are not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FINGERPRINT = r"\A[0-9a-fA-F]{1,64}\Z"
_STATUSES = frozenset(AlertStatus.values)
# Bounds of the columns behind them: a unique btree entry must fit in a third
# of a page, an integer column in 32 bits, the receiver name in varchar(255).
MAX_GROUP_KEY_BYTES = 2000
MAX_RECEIVER_CHARS = 255
MAX_TRUNCATED_ALERTS = 2**31 - 1


class StrictCharField(serializers.CharField):
    """A string, and only a string: Alertmanager never sends numbers as labels."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LabelSetField(serializers.DictField):
    """A map of strings to strings; names are checked too (DRF leaves keys alone)."""

    child = StrictCharField(allow_blank=True, trim_whitespace=False)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for name in value:
            if not name or _UNSTORABLE.search(name):
                raise serializers.ValidationError(f"{name!r} is not a valid label name.")
        return value


class WebhookAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    labels = LabelSetField(allow_empty=False)
    annotations = LabelSetField(required=False, default=dict)
    startsAt = serializers.DateTimeField()
    endsAt = serializers.DateTimeField(required=False, allow_null=True, default=None)
    generatorURL = StrictCharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    fingerprint = serializers.RegexField(_FINGERPRINT)

    def validate_endsAt(self, value: datetime | None) -> datetime | None:
        return None if value is None or value <= _NO_END else value


class WebhookSerializer(serializers.Serializer):
    version = StrictCharField()
    groupKey = StrictCharField(trim_whitespace=False)
    truncatedAlerts = serializers.IntegerField(
        min_value=0, max_value=MAX_TRUNCATED_ALERTS, required=False, default=0
    )
    status = serializers.ChoiceField(choices=AlertStatus.choices)
    receiver = StrictCharField(
        allow_blank=True, trim_whitespace=False, max_length=MAX_RECEIVER_CHARS
    )
    groupLabels = LabelSetField(required=False, default=dict)
    commonLabels = LabelSetField(required=False, default=dict)
    commonAnnotations = LabelSetField(required=False, default=dict)
    externalURL = StrictCharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    alerts = WebhookAlertSerializer(many=True, allow_empty=False)

    def validate_groupKey(self, value: str) -> str:
        if len(value.encode()) > MAX_GROUP_KEY_BYTES:
            raise serializers.ValidationError(
                f"Longer than {MAX_GROUP_KEY_BYTES} bytes; Herald cannot index it."
            )
        return value

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


class _NotFast(Exception):
    """The fast path declines; the serializers decide."""


_datetime = serializers.DateTimeField()
_fingerprint = re.compile(_FINGERPRINT)


def _text(value: Any, *, blank: bool = True) -> str:
    if type(value) is not str or (not blank and not value) or _UNSTORABLE.search(value):
        raise _NotFast
    return value


def _labels(value: Any, *, allow_empty: bool = True) -> dict[str, str]:
    if type(value) is not dict or (not value and not allow_empty):
        raise _NotFast
    for name, text in value.items():
        if type(name) is not str or type(text) is not str or not name:
            raise _NotFast
    # One search over all names and values: a call per string costs more
    # than the check itself on a hundred-alert batch.
    if _UNSTORABLE.search("\n".join(value)) or _UNSTORABLE.search("\n".join(value.values())):
        raise _NotFast
    return value


# The form Alertmanager writes (Go's RFC 3339 with nanoseconds, in UTC); other
# forms go through DRF's own parser.
_RFC3339_UTC = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")


def _time(value: Any) -> datetime:
    if type(value) is not str:
        raise _NotFast
    parsed = _rfc3339_utc(value)
    if parsed is not None:
        return parsed
    try:
        return _datetime.to_internal_value(value)
    except serializers.ValidationError:
        raise _NotFast from None


@lru_cache(maxsize=4096)  # alerts of a batch share their times; datetimes are immutable
def _rfc3339_utc(value: str) -> datetime | None:
    found = _RFC3339_UTC.fullmatch(value)
    if not found:
        return None
    year, month, day, hour, minute, second, fraction = found.groups()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((fraction or "0")[:6].ljust(6, "0")), tzinfo=UTC,
        )
    except ValueError:
        raise _NotFast from None


def _status(value: Any) -> str:
    if type(value) is not str or value not in _STATUSES:
        raise _NotFast
    return value


def _fast_alert(alert: Any, seen: set[str]) -> dict[str, Any]:
    if type(alert) is not dict:
        raise _NotFast
    fingerprint = alert.get("fingerprint")
    if type(fingerprint) is not str or not _fingerprint.match(fingerprint):
        raise _NotFast
    fingerprint = fingerprint.lower()
    if fingerprint in seen:
        raise _NotFast
    seen.add(fingerprint)
    ends_at = alert.get("endsAt")
    ends_at = None if ends_at is None else _time(ends_at)
    return {
        "status": _status(alert.get("status")),
        "labels": _labels(alert.get("labels"), allow_empty=False),
        "annotations": _labels(alert.get("annotations", {})),
        "startsAt": _time(alert.get("startsAt")),
        "endsAt": None if ends_at is None or ends_at <= _NO_END else ends_at,
        "generatorURL": _text(alert.get("generatorURL", "")),
        "fingerprint": fingerprint,
    }


def _fast(data: Any) -> dict[str, Any]:
    if type(data) is not dict or data.get("version") != "4":
        raise _NotFast
    truncated = data.get("truncatedAlerts", 0)
    if type(truncated) is not int or not 0 <= truncated <= MAX_TRUNCATED_ALERTS:
        raise _NotFast
    group_key = _text(data.get("groupKey"), blank=False)
    receiver = _text(data.get("receiver"))
    if len(group_key.encode()) > MAX_GROUP_KEY_BYTES or len(receiver) > MAX_RECEIVER_CHARS:
        raise _NotFast
    alerts = data.get("alerts")
    if type(alerts) is not list or not alerts:
        raise _NotFast
    seen: set[str] = set()
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": truncated,
        "status": _status(data.get("status")),
        "receiver": receiver,
        "groupLabels": _labels(data.get("groupLabels", {})),
        "commonLabels": _labels(data.get("commonLabels", {})),
        "commonAnnotations": _labels(data.get("commonAnnotations", {})),
        "externalURL": _text(data.get("externalURL", "")),
        "alerts": [_fast_alert(alert, seen) for alert in alerts],
    }


def validated_webhook_fast(data: Any) -> dict[str, Any] | None:
    """The validated payload, or None when only the serializers can judge it."""
    try:
        return _fast(data)
    except _NotFast:
        return None


def validated_webhook(data: Any) -> dict[str, Any]:
    """Validate a webhook body; raises DRF's ValidationError naming each bad field."""
    fast = validated_webhook_fast(data)
    if fast is not None:
        return fast
    serializer = WebhookSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
