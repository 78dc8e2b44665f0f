"""Notification text from Jinja2 templates, always rendered in the sandbox (pure).

Defaults live on disk under templates/notifications/<channel>/<language>/<part>.j2;
a tenant may override any part (stored in its schema, passed in here as
`overrides`). Every template, default or not, runs in Jinja2's immutable
sandbox with a time and size budget, so a tenant's template can neither reach
Python internals nor hold a worker.

The context a template sees (documented in the README's "Templates" section):

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
    links               alertmanager, silence, acknowledge, generator ("" when absent)
    language, now

Filters: duration, datetime, severity_emoji, severity_color, label,
truncate_safe, format_labels, slack_escape, plus Jinja's built-ins.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from receivers.messages import AlertMessage
from receivers.severity import group_severity, severity_color, severity_emoji
from receivers.truncation import truncate_text

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "notifications"
LANGUAGES = ("en", "fr", "de")
DEFAULT_LANGUAGE = "en"

# The parts each channel renders, in the order its payload uses them.
CHANNEL_PARTS: dict[str, tuple[str, ...]] = {
    "slack": ("title", "body"),
    "email": ("subject", "text", "html"),
    "pagerduty": ("summary",),
    "msteams": ("title", "body"),
    "discord": ("title", "body"),
    "opsgenie": ("message", "description"),
    "telegram": ("body",),
}
# Parts whose output is HTML: values are escaped unless marked safe.
HTML_PARTS = frozenset({("email", "html"), ("telegram", "body")})

LINK_LABELS = {
    "en": {
        "generator": "Source",
        "silence": "Silence",
        "acknowledge": "Acknowledge",
        "alertmanager": "Alertmanager",
    },
    "fr": {
        "generator": "Source",
        "silence": "Mettre en silence",
        "acknowledge": "Acquitter",
        "alertmanager": "Alertmanager",
    },
    "de": {
        "generator": "Quelle",
        "silence": "Stummschalten",
        "acknowledge": "Bestätigen",
        "alertmanager": "Alertmanager",
    },
}

RENDER_SECONDS = 2.0
MAX_OUTPUT_CHARS = 100_000
MAX_RANGE = 1_000
_NO_END = "0001-01-01"


class TemplateError(Exception):
    """A template that cannot be compiled or rendered, with the line at fault."""

    def __init__(self, message: str, *, line: int | None = None, name: str = "") -> None:
        self.message = message
        self.line = line
        self.name = name
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True)
class Link:
    kind: str
    label: str
    url: str


@dataclass(frozen=True)
class RenderedMessage:
    """What a transport needs from templates: the parts, the links, and any fallbacks."""

    status: str
    severity: str
    parts: Mapping[str, str]
    links: tuple[Link, ...] = ()
    # Overrides that failed at render time; the default was used instead.
    problems: tuple[str, ...] = field(default=())

    def __getitem__(self, part: str) -> str:
        return self.parts[part]


# --- the sandbox ----------------------------------------------------------

_budget = threading.local()


class _BudgetExceeded(TemplateError):
    pass


def _check_budget() -> None:
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise _BudgetExceeded(f"the template took longer than {RENDER_SECONDS:g}s")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, checking the time budget on every access and call.

    Loops that only print are bounded by the output budget instead.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Jinja returns an Undefined that fails only when used, and a
        # lenient Undefined is never "used": refuse at the access itself.
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_budget()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_budget()
        return super().getitem(obj, argument)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_budget()
        return super().call(__context, __obj, *args, **kwargs)


def _bounded_range(*args: int) -> range:
    items = range(*args)
    if len(items) > MAX_RANGE:
        raise TemplateError(f"range() is limited to {MAX_RANGE} items in templates")
    return items


# --- filters --------------------------------------------------------------


def duration_filter(value: Any) -> str:
    """'3d 4h', '2h 5m', '4m 10s', '42s' from a timedelta or seconds."""
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else float(value))
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [(amount, unit) for amount, unit in units if amount][:2]
    return " ".join(f"{amount}{unit}" for amount, unit in shown) or "0s"


def datetime_filter(value: Any, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if isinstance(value, str):
        value = _parse_time(value)
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(UTC).strftime(fmt)


def label_filter(obj: Any, name: str, default: str = "") -> str:
    """`alert|label("instance", "n/a")`: a label of an alert (or of a labels mapping)."""
    if isinstance(obj, Mapping) and isinstance(obj.get("labels"), Mapping):
        obj = obj["labels"]
    if not isinstance(obj, Mapping):
        return default
    value = obj.get(name)
    return default if value in (None, "") else str(value)


def truncate_safe_filter(value: Any, length: int = 255, end: str = "…") -> str:
    return truncate_text(str(value), int(length), ellipsis=end)


def format_labels_filter(labels: Any, exclude: Any = ()) -> str:
    """'instance=web-1, job=api', sorted, without the names in `exclude`."""
    if not isinstance(labels, Mapping):
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in exclude)


def slack_escape_filter(value: Any) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _severity_emoji_filter(value: Any, resolved: bool = False) -> str:
    return severity_emoji(value, resolved=bool(resolved))


def _severity_color_filter(value: Any, resolved: bool = False) -> str:
    return severity_color(value, resolved=bool(resolved))


FILTERS = {
    "duration": duration_filter,
    "datetime": datetime_filter,
    "severity_emoji": _severity_emoji_filter,
    "severity_color": _severity_color_filter,
    "label": label_filter,
    "truncate_safe": truncate_safe_filter,
    "format_labels": format_labels_filter,
    "slack_escape": slack_escape_filter,
}


@cache
def _environment(html: bool) -> _Sandbox:
    environment = _Sandbox(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=html,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.filters.update(FILTERS)
    environment.globals["range"] = _bounded_range
    return environment


@lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> jinja2.Template:
    try:
        return _environment(html).from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno) from None


def _error_line(exc: BaseException, filename: str | None) -> int | None:
    """The template line an exception was raised at, from Jinja's rewritten traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == (filename or "<template>"):
            line = frame.lineno
    return line


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    _budget.deadline = time.monotonic() + RENDER_SECONDS
    try:
        size = 0
        chunks = []
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise _BudgetExceeded(f"the output is longer than {MAX_OUTPUT_CHARS} characters")
            chunks.append(chunk)
        return "".join(chunks).strip()
    except TemplateError as exc:
        if exc.line is None:
            exc.line = _error_line(exc, template.filename)
            exc.args = (f"line {exc.line}: {exc.message}" if exc.line else exc.message,)
        raise
    except SecurityError as exc:
        raise TemplateError(
            f"not allowed in templates: {exc}", line=_error_line(exc, template.filename)
        ) from None
    except Exception as exc:  # a template can raise nearly anything; report it, typed
        raise TemplateError(
            f"{type(exc).__name__}: {exc}", line=_error_line(exc, template.filename)
        ) from None
    finally:
        _budget.deadline = None


def template_render_source(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render one template's source in the sandbox, or raise TemplateError."""
    return _render(_compile(source, html), context)


def _default_render(channel: str, language: str, part: str, context: Mapping[str, Any]) -> str:
    name = f"{channel}/{language}/{part}.j2"
    try:
        template = _environment((channel, part) in HTML_PARTS).get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno, name=name) from None
    return _render(template, context)


# --- context --------------------------------------------------------------


def _parse_time(value: str | None) -> datetime | None:
    if not value or value.startswith(_NO_END):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
    starts_at = _parse_time(alert.get("startsAt"))
    resolved = alert.get("status") == "resolved"
    ends_at = _parse_time(alert.get("endsAt")) if resolved else None
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
        },
        "language": language,
        "now": now,
    }


def _links(context: Mapping[str, Any], language: str) -> tuple[Link, ...]:
    labels = LINK_LABELS.get(language, LINK_LABELS[DEFAULT_LANGUAGE])
    kinds = ["generator", "alertmanager", "acknowledge"]
    if context["status"] == "firing":
        kinds.insert(1, "silence")
    links = context["links"]
    return tuple(Link(kind, labels[kind], links[kind]) for kind in kinds if links[kind])


# --- rendering ------------------------------------------------------------


def message_render(
    *,
    channel: str,
    message: AlertMessage,
    language: str = DEFAULT_LANGUAGE,
    overrides: Mapping[tuple[str, str], str] | None = None,
    now: datetime | None = None,
) -> RenderedMessage:
    """Render every part of a channel's message.

    `overrides` maps (language, part) to a tenant's template source. An
    override that fails at render time (it was checked on save, but an alert
    may carry what the check's sample did not) falls back to the default, and
    the failure is reported in `problems`: the alert still goes out.
    """
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    context = template_context(message=message, language=language, now=now)
    parts: dict[str, str] = {}
    problems: list[str] = []
    for part in CHANNEL_PARTS[channel]:
        source = (overrides or {}).get((language, part))
        if source:
            try:
                parts[part] = template_render_source(
                    source, context, html=(channel, part) in HTML_PARTS
                )
                continue
            except TemplateError as exc:
                problems.append(
                    f"the {language} '{part}' template failed ({exc}); used the default"
                )
        parts[part] = _default_render(channel, language, part, context)
    return RenderedMessage(
        status=message.status,
        severity=context["severity"],
        parts=parts,
        links=_links(context, language),
        problems=tuple(problems),
    )


def sample_message(*, status: str = "firing") -> AlertMessage:
    """A realistic alert group, for previews and for checking templates on save."""
    resolved = status == "resolved"
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": "HighLatency",
                "severity": "critical",
                "instance": f"web-{n}:9100",
                "job": "api",
            },
            "annotations": {
                "summary": f"p99 latency on web-{n} is 2.4s",
                "description": "The 99th percentile of request latency is above 2s for 5 minutes.",
                "runbook_url": "https://runbooks.example.com/high-latency",
            },
            "startsAt": "2026-01-15T09:30:00Z",
            "endsAt": "2026-01-15T10:05:00Z" if resolved else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency",
            "fingerprint": f"{n:016x}",
        }
        for n in (1, 2)
    ]
    return AlertMessage(
        notification_id=0,
        tenant_slug="acme",
        tenant_name="Acme",
        receiver_name="preview",
        receiver_kind="",
        status=status,
        group_key='{}:{alertname="HighLatency"}',
        group_labels={"alertname": "HighLatency"},
        common_labels={"alertname": "HighLatency", "severity": "critical", "job": "api"},
        common_annotations={},
        external_url="http://alertmanager.example.com:9093",
        truncated_alerts=0,
        alerts=alerts,
        acknowledge_url="https://herald.example.com/ack/preview",
    )


def message_preview(
    *,
    channel: str,
    language: str = DEFAULT_LANGUAGE,
    status: str = "firing",
    overrides: Mapping[tuple[str, str], str] | None = None,
) -> RenderedMessage:
    """The channel's message for a sample alert group, as the admin previews it."""
    return message_render(
        channel=channel,
        message=sample_message(status=status),
        language=language,
        overrides=overrides,
        now=datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
    )


def template_source_check(*, channel: str, part: str, source: str) -> None:
    """Compile a tenant's template and render it for a firing and a resolved sample.

    Raises TemplateError (with its line) for syntax errors, sandbox
    violations and runtime errors.
    """
    if part not in CHANNEL_PARTS.get(channel, ()):
        known = ", ".join(CHANNEL_PARTS.get(channel, ())) or "none"
        raise TemplateError(f"'{part}' is not a part of {channel} messages (parts: {known})")
    html = (channel, part) in HTML_PARTS
    for status in ("firing", "resolved"):
        context = template_context(message=sample_message(status=status))
        template_render_source(source, context, html=html)
