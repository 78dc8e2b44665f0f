"""Notification text from Jinja2 templates, always rendered in the sandbox (pure).

A channel's parts, which of them are HTML and where its defaults live are
declared by the channel (receivers.transports); defaults live on disk under
templates/notifications/<channel>/<language>/<part>.j2 unless it says otherwise;
a tenant may override any part (stored in its schema, passed in here as
`overrides`). Every template, default or not, runs in Jinja2's immutable
sandbox under hard limits (receivers.template_sandbox, template_limits), and
a tenant's template in a child process that is killed when it overruns
(receivers.template_runner), so it can neither reach Python internals nor
hold a worker.

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

import time
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import jinja2
from django.conf import settings

from receivers.messages import AlertMessage
from receivers.severity import group_severity
from receivers.template_filters import parse_time
from receivers.template_limits import LimitExceeded, TemplateError, TemplateLimits
from receivers.template_runner import Rendered, templates_render_isolated
from receivers.template_samples import SAMPLE_NOW, check_samples, sample_message
from receivers.template_sandbox import (
    TEMPLATES_DIR,
    sandbox_compile,
    sandbox_default,
    sandbox_environment,
    sandbox_render,
)

__all__ = ["LimitExceeded", "Rendered", "TemplateError", "sample_message"]

LANGUAGES = ("en", "fr", "de")
DEFAULT_LANGUAGE = "en"



def _registry() -> ModuleType:
    # The channels declare their parts, and the transports' base imports this
    # module to render: so the registry is looked up when used, not on import.
    from receivers.transports import registry

    return registry


class _ChannelParts(Mapping[str, tuple[str, ...]]):
    """Each templated channel's parts, read from the registry at every use."""

    def __getitem__(self, channel: str) -> tuple[str, ...]:
        if parts := _registry().channel_parts(channel):
            return parts
        raise KeyError(channel)

    def __iter__(self) -> Iterator[str]:
        return iter(_registry().templated_kinds())

    def __len__(self) -> int:
        return len(_registry().templated_kinds())


class _HtmlParts(Set[tuple[str, str]]):
    """The (channel, part) pairs whose output is HTML, read from the registry at every use."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, tuple) and len(item) == 2 and _registry().part_is_html(*item)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        registry = _registry()
        return iter([
            (kind, part)
            for kind in registry.templated_kinds()
            for part in registry.channel_parts(kind)
            if registry.part_is_html(kind, part)
        ])

    def __len__(self) -> int:
        return sum(1 for _ in self)


# Views on the channels' declarations, for the callers that read them as tables.
CHANNEL_PARTS: Mapping[str, tuple[str, ...]] = _ChannelParts()
HTML_PARTS: Set[tuple[str, str]] = _HtmlParts()

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


# --- rendering one template -----------------------------------------------


def template_limits() -> TemplateLimits:
    return TemplateLimits.from_settings()


def templates_render_sources(
    jobs: list[tuple[str, bool]], context: Mapping[str, Any]
) -> list[Rendered | TemplateError]:
    """Render tenants' template sources, each (source, html), with one context; results in order.

    They render in a child process (receivers.template_runner) unless
    HERALD_TEMPLATE_ISOLATION is "thread", which keeps only the meter.
    """
    limits = template_limits()
    if settings.HERALD_TEMPLATE_ISOLATION == "process":
        return templates_render_isolated(
            jobs=jobs, context=context, limits=limits, renderers=settings.HERALD_TEMPLATE_RENDERERS
        )
    results: list[Rendered | TemplateError] = []
    for source, html in jobs:
        started = time.thread_time()
        try:
            text = sandbox_render(sandbox_compile(source, html), context, limits=limits)
        except TemplateError as exc:
            results.append(exc)
            continue
        results.append(Rendered(text=text, cpu_seconds=time.thread_time() - started))
    return results


def template_render_timed(
    source: str, context: Mapping[str, Any], *, html: bool = False
) -> Rendered:
    """Render one tenant's template source under the limits, or raise TemplateError."""
    (result,) = templates_render_sources([(source, html)], context)
    if isinstance(result, TemplateError):
        raise result
    return result


def template_render_source(source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render one tenant's template source under the limits, or raise TemplateError."""
    return template_render_timed(source, context, html=html).text


def _default_render(
    channel: str, language: str, part: str, context: Mapping[str, Any], limits: TemplateLimits
) -> str:
    name = f"{channel}/{language}/{part}.j2"
    html = (channel, part) in HTML_PARTS
    directory = _registry().transport_class(channel).templates_dir
    if directory == TEMPLATES_DIR:
        template = sandbox_default(name, html)
    else:
        template = _outside_defaults(directory, html).get_template(name)
    return sandbox_render(template, context, limits=limits)


@lru_cache(maxsize=32)
def _outside_defaults(directory: Path, html: bool) -> jinja2.Environment:
    # Defaults shipped outside Herald's own tree (a channel added as a plugin)
    # get the tenants' sandbox: Herald has not reviewed them.
    return sandbox_environment(html).overlay(loader=jinja2.FileSystemLoader(directory))


# --- context --------------------------------------------------------------


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
    overridden = [
        (part, source)
        for part in CHANNEL_PARTS[channel]
        if (source := (overrides or {}).get((language, part)))
    ]
    if overridden:
        results = templates_render_sources(
            [(source, (channel, part) in HTML_PARTS) for part, source in overridden], context
        )
        for (part, _), result in zip(overridden, results, strict=True):
            if isinstance(result, TemplateError):
                problems.append(
                    f"the {language} '{part}' template failed ({result}); used the default"
                )
            else:
                parts[part] = result.text
    limits = template_limits()
    for part in CHANNEL_PARTS[channel]:
        if part not in parts:
            parts[part] = _default_render(channel, language, part, context, limits)
    return RenderedMessage(
        status=message.status,
        severity=context["severity"],
        parts=parts,
        links=_links(context, language),
        problems=tuple(problems),
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
        now=SAMPLE_NOW,
    )


@dataclass(frozen=True)
class TemplateCheck:
    """A template that passed its save check, and its slowest render over the samples."""

    slowest_seconds: float
    slowest_sample: str


def template_source_check(*, channel: str, part: str, source: str) -> TemplateCheck:
    """Compile a tenant's template and render it for every check sample.

    The samples (receivers.template_samples) include harder alert groups than
    the preview's: many alerts, long labels, no annotations, so a template
    that is slow or fails only for real alerts is refused here, not at 3 am.
    Raises TemplateError (with the sample and line) for syntax errors, sandbox
    violations, runtime errors and every limit hit.
    """
    if part not in CHANNEL_PARTS.get(channel, ()):
        known = ", ".join(CHANNEL_PARTS.get(channel, ())) or "none"
        raise TemplateError(f"'{part}' is not a part of {channel} messages (parts: {known})")
    return template_samples_check(source=source, html=(channel, part) in HTML_PARTS)


def template_compile_check(*, source: str, html: bool = False) -> None:
    """Raise TemplateError (with the line) if the source does not compile."""
    sandbox_compile(source, html)


def template_samples_check(*, source: str, html: bool = False) -> TemplateCheck:
    """Render a tenant's source for every check sample; the slowest, or TemplateError."""
    sandbox_compile(source, html)  # syntax errors first, with their line
    slowest = TemplateCheck(slowest_seconds=0.0, slowest_sample="")
    for name, message in check_samples():
        try:
            rendered = template_render_timed(
                source, template_context(message=message, now=SAMPLE_NOW), html=html
            )
        except LimitExceeded as exc:
            raise LimitExceeded(
                f"{exc.message} (with the sample '{name}')", limit=exc.limit
            ).at_line(exc.line) from None
        except TemplateError as exc:
            message = f"{exc.message} (with the sample '{name}')"
            raise TemplateError(message, line=exc.line) from None
        if rendered.cpu_seconds >= slowest.slowest_seconds:
            slowest = TemplateCheck(slowest_seconds=rendered.cpu_seconds, slowest_sample=name)
    return slowest
