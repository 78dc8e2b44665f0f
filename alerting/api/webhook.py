"""Alertmanager's webhook payload, version 4: the DRF serializers are the contract.

`validated_webhook_fast` checks the common, well-formed payload with msgspec
(types, choices and lengths in one pass, in C); anything it declines goes to
the serializers, so every error message comes from DRF. The fast path only
ever accepts what the serializers accept, with the same result (a property
test holds it to that).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, get_args

import msgspec
from rest_framework import serializers

from alerting.models import AlertStatus
from alerting.storable import UNSTORABLE_CHAR, json_text_is_storable

# Alertmanager's zero time.Time, sent as endsAt while an alert has no end.
_NO_END = datetime(1, 1, 1, tzinfo=UTC)
_FINGERPRINT = r"\A[0-9a-fA-F]{1,64}\Z"
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
            if not name or UNSTORABLE_CHAR.search(name):
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


# The fast path's shape of the contract above, checked by msgspec in one pass
# (in C): types, choices, required fields, lengths. Unknown fields are ignored.
_LabelName = Annotated[str, msgspec.Meta(min_length=1)]
_LabelSet = dict[_LabelName, str]
_Status = Literal["firing", "resolved"]
assert set(get_args(_Status)) == set(AlertStatus.values), "the fast path's statuses drifted"


class _FastAlert(msgspec.Struct):
    status: _Status
    labels: Annotated[_LabelSet, msgspec.Meta(min_length=1)]
    startsAt: str
    fingerprint: Annotated[str, msgspec.Meta(pattern=_FINGERPRINT)]
    annotations: _LabelSet = msgspec.field(default_factory=dict)
    endsAt: str | None = None
    generatorURL: str = ""


class _FastWebhook(msgspec.Struct):
    version: Literal["4"]
    groupKey: Annotated[str, msgspec.Meta(min_length=1)]
    status: _Status
    receiver: Annotated[str, msgspec.Meta(max_length=MAX_RECEIVER_CHARS)]
    alerts: Annotated[list[_FastAlert], msgspec.Meta(min_length=1)]
    truncatedAlerts: Annotated[int, msgspec.Meta(ge=0, le=MAX_TRUNCATED_ALERTS)] = 0
    groupLabels: _LabelSet = msgspec.field(default_factory=dict)
    commonLabels: _LabelSet = msgspec.field(default_factory=dict)
    commonAnnotations: _LabelSet = msgspec.field(default_factory=dict)
    externalURL: str = ""


_datetime = serializers.DateTimeField()


def _storable(webhook: _FastWebhook) -> bool:
    """No NUL or lone surrogate in any string the payload's fields hold."""
    texts = [webhook.groupKey, webhook.receiver, webhook.externalURL]
    label_sets = [webhook.groupLabels, webhook.commonLabels, webhook.commonAnnotations]
    for alert in webhook.alerts:
        texts.append(alert.generatorURL)
        label_sets += [alert.labels, alert.annotations]
    for labels in label_sets:
        texts += labels
        texts += labels.values()
    # One search over all strings: a call per string costs more than the check.
    return not UNSTORABLE_CHAR.search("\n".join(texts))


# The form Alertmanager writes (Go's RFC 3339 with nanoseconds, in UTC); other
# forms go through DRF's own parser.
_RFC3339_UTC = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")


def _time(value: str) -> datetime:
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


def _alert(alert: _FastAlert, seen: set[str]) -> dict[str, Any]:
    fingerprint = alert.fingerprint.lower()
    if fingerprint in seen:
        raise _NotFast
    seen.add(fingerprint)
    ends_at = None if alert.endsAt is None else _time(alert.endsAt)
    return {
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": _time(alert.startsAt),
        "endsAt": None if ends_at is None or ends_at <= _NO_END else ends_at,
        "generatorURL": alert.generatorURL,
        "fingerprint": fingerprint,
    }


def _validated(webhook: _FastWebhook) -> dict[str, Any]:
    if len(webhook.groupKey.encode()) > MAX_GROUP_KEY_BYTES:
        raise _NotFast
    seen: set[str] = set()
    return {
        "version": webhook.version,
        "groupKey": webhook.groupKey,
        "truncatedAlerts": webhook.truncatedAlerts,
        "status": webhook.status,
        "receiver": webhook.receiver,
        "groupLabels": webhook.groupLabels,
        "commonLabels": webhook.commonLabels,
        "commonAnnotations": webhook.commonAnnotations,
        "externalURL": webhook.externalURL,
        "alerts": [_alert(alert, seen) for alert in webhook.alerts],
    }


def validated_webhook_fast(data: Any, *, text: str | None = None) -> dict[str, Any] | None:
    """The validated payload, or None when only the serializers can judge it.

    `text`, the JSON `data` was decoded from, if known, spares checking each
    string for what PostgreSQL cannot store.
    """
    try:
        webhook = msgspec.convert(data, _FastWebhook)
        clean = text is not None and json_text_is_storable(text)
        return _validated(webhook) if clean or _storable(webhook) else None
    # msgspec cannot encode a lone surrogate to check it against a pattern
    except (msgspec.ValidationError, UnicodeEncodeError, _NotFast):
        return None


def validated_webhook(data: Any, *, text: str | None = None) -> dict[str, Any]:
    """Validate a webhook body; raises DRF's ValidationError naming each bad field."""
    fast = validated_webhook_fast(data, text=text)
    if fast is not None:
        return fast
    serializer = WebhookSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
