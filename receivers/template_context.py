"""The context every notification template renders with (pure).

Documented in the README's "Templates" section:

    status              "firing" or "resolved"
    alerts              every alert of the notification, each with: status, labels,
                        annotations, starts_at, ends_at (None while firing),
                        duration (timedelta), generator_url, fingerprint, silence_url
    firing_alerts, resolved_alerts
    alertname           the group's alertname (common label, else the first alert's)
    severity            critical | error | warning | info | none (worst firing alert)
    group               key, labels, common_labels, common_annotations,
                        external_url, truncated_alerts
    group_labels, common_labels, common_annotations   (shortcuts)
    tenant              slug, name
    receiver            name, kind
    links               alertmanager, silence, acknowledge, generator ("" when absent);
                        unacknowledge, resolve, silence_1h, silence_4h, silence_24h:
                        Herald's signed action pages, "" when the action does not
                        apply (none once resolved, unacknowledge once acknowledged);
                        actions: those that apply, each with action, label, url
    language, now

Filters: duration, datetime, severity_emoji, severity_color, label,
truncate_safe, format_labels, slack_escape, plus Jinja's built-ins
(receivers.template_filters).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.utils import translation
from django.utils.translation import pgettext

from receivers.messages import AlertMessage
from receivers.severity import group_severity
from receivers.template_filters import parse_time

# The languages every channel ships default templates in (checked when it registers).
LANGUAGES = ("en", "fr", "de")
DEFAULT_LANGUAGE = "en"


# Herald's actions (escalation.actions.Action), in the order messages offer them.
ACTION_NAMES = (
    "acknowledge", "unacknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h",
)


def action_label_text(action: str) -> str:
    """How a link or a button names an action, in the active language ("" if unknown)."""
    labels = {
        "acknowledge": pgettext("message action", "Acknowledge"),
        "unacknowledge": pgettext("message action", "Unacknowledge"),
        "resolve": pgettext("message action", "Resolve"),
        "silence_1h": pgettext("message action", "Silence 1 h"),
        "silence_4h": pgettext("message action", "Silence 4 h"),
        "silence_24h": pgettext("message action", "Silence 24 h"),
    }
    return labels.get(action, "")


def action_links(message: AlertMessage, language: str) -> list[dict[str, str]]:
    """The message's actions as links: action, label (in the language), url."""
    with translation.override(language):
        return [
            {"action": offered.action,
             "label": action_label_text(offered.action) or offered.label,
             "url": offered.url}
            for offered in message.actions
            if offered.url
        ]


def silence_url(external_url: str, labels: Mapping[str, str]) -> str:
    """Alertmanager's 'new silence' page, pre-filled with matchers for `labels`."""
    if not external_url or not labels:
        return ""
    matchers = ",".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in sorted(labels.items())
    )
    return f"{external_url.rstrip('/')}/#/silences/new?filter={quote('{' + matchers + '}')}"


def _alert_view(alert: Mapping[str, Any], external_url: str, now: datetime) -> dict[str, Any]:
    starts_at = parse_time(alert.get("startsAt"))
    resolved = alert.get("status") == "resolved"
    ends_at = parse_time(alert.get("endsAt")) if resolved else None
    duration = ((ends_at or now) - starts_at) if starts_at else timedelta(0)
    labels = dict(alert.get("labels") or {})
    return {
        "status": alert.get("status", ""),
        "labels": labels,
        "annotations": dict(alert.get("annotations") or {}),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "duration": max(duration, timedelta(0)),
        "generator_url": alert.get("generatorURL") or "",
        "fingerprint": alert.get("fingerprint", ""),
        "silence_url": silence_url(external_url, labels),
    }


def template_context(
    *, message: AlertMessage, language: str = DEFAULT_LANGUAGE, now: datetime | None = None
) -> dict[str, Any]:
    """The documented context every template renders with."""
    now = now or datetime.now(UTC)
    alerts = [_alert_view(alert, message.external_url, now) for alert in message.alerts]
    firing = [alert for alert in alerts if alert["status"] == "firing"]
    matchers = message.common_labels or message.group_labels
    alertname = (
        message.common_labels.get("alertname")
        or message.group_labels.get("alertname")
        or next((a["labels"]["alertname"] for a in alerts if "alertname" in a["labels"]), "")
    )
    actions = action_links(message, language)
    by_action = {link["action"]: link["url"] for link in actions}
    return {
        "status": message.status,
        "alerts": alerts,
        "firing_alerts": firing,
        "resolved_alerts": [alert for alert in alerts if alert["status"] == "resolved"],
        "alertname": alertname,
        "severity": group_severity(common_labels=message.common_labels, alerts=message.alerts),
        "group": {
            "key": message.group_key,
            "labels": message.group_labels,
            "common_labels": message.common_labels,
            "common_annotations": message.common_annotations,
            "external_url": message.external_url,
            "truncated_alerts": message.truncated_alerts,
        },
        "group_labels": message.group_labels,
        "common_labels": message.common_labels,
        "common_annotations": message.common_annotations,
        "tenant": {"slug": message.tenant_slug, "name": message.tenant_name or message.tenant_slug},
        "receiver": {"name": message.receiver_name, "kind": message.receiver_kind},
        "links": {
            "alertmanager": message.external_url,
            "silence": silence_url(message.external_url, matchers),
            "acknowledge": message.acknowledge_url,
            "generator": next((a["generator_url"] for a in alerts if a["generator_url"]), ""),
            **{name: by_action.get(name, "") for name in ACTION_NAMES if name != "acknowledge"},
            "actions": actions,
        },
        "language": language,
        "now": now,
    }
