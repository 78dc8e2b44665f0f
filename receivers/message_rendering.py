"""A notification's message for one channel: every part the channel declares, rendered (pure).

The channel (receivers.transports) declares its parts, which of them are HTML
and where its default templates live, by default
templates/notifications/<channel>/<language>/<part>.j2. A tenant may override
any part (stored in its schema, passed in here as `overrides`); the override
renders isolated under the tenant limits (receivers.template_render), the
default in the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from django.utils import translation
from django.utils.translation import pgettext

from receivers.messages import AlertMessage
from receivers.template_context import DEFAULT_LANGUAGE, LANGUAGES, template_context
from receivers.template_limits import TemplateError, TemplateLimits
from receivers.template_render import template_limits, templates_render_sources
from receivers.template_samples import SAMPLE_NOW, sample_message
from receivers.template_sandbox import (
    TEMPLATES_DIR,
    sandbox_default,
    sandbox_environment,
    sandbox_render,
)


def _link_label(kind: str) -> str:
    """A link's label in the active language (the texts Herald adds to a message)."""
    labels = {
        "generator": pgettext("message link", "Source"),
        "silence": pgettext("message link", "Silence"),
        "acknowledge": pgettext("message action", "Acknowledge"),
        # A product's name, not translated.
        "alertmanager": "Alertmanager",
    }
    return labels[kind]


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
    # Herald's action pages that apply to the group now (acknowledge, resolve,
    # silence_1h, ...), for channels whose buttons are links.
    action_links: tuple[Link, ...] = ()
    # Overrides that failed at render time; the default was used instead.
    problems: tuple[str, ...] = field(default=())

    def __getitem__(self, part: str) -> str:
        return self.parts[part]


def _default_render(
    channel: str, language: str, part: str, context: Mapping[str, Any], limits: TemplateLimits
) -> str:
    # Imported here: the transports render through this module, so importing
    # the registry (and with it every transport) on import would be a cycle.
    from receivers.transports.registry import part_is_html, transport_class

    name = f"{channel}/{language}/{part}.j2"
    html = part_is_html(channel, part)
    directory = transport_class(channel).templates_dir
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


def _links(context: Mapping[str, Any], language: str) -> tuple[Link, ...]:
    kinds = ["generator", "alertmanager", "acknowledge"]
    if context["status"] == "firing":
        kinds.insert(1, "silence")
    links = context["links"]
    with translation.override(language):
        return tuple(Link(kind, _link_label(kind), links[kind]) for kind in kinds if links[kind])


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
    # Imported here for the same reason as in _default_render.
    from receivers.transports.registry import channel_parts, part_is_html

    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    context = template_context(message=message, language=language, now=now)
    parts: dict[str, str] = {}
    problems: list[str] = []
    overridden = [
        (part, source)
        for part in channel_parts(channel)
        if (source := (overrides or {}).get((language, part)))
    ]
    if overridden:
        results = templates_render_sources(
            [(source, part_is_html(channel, part)) for part, source in overridden], context
        )
        for (part, _), result in zip(overridden, results, strict=True):
            if isinstance(result, TemplateError):
                problems.append(
                    f"the {language} '{part}' template failed ({result}); used the default"
                )
            else:
                parts[part] = result.text
    limits = template_limits()
    for part in channel_parts(channel):
        if part not in parts:
            parts[part] = _default_render(channel, language, part, context, limits)
    return RenderedMessage(
        status=message.status,
        severity=context["severity"],
        parts=parts,
        links=_links(context, language),
        action_links=tuple(
            Link(link["action"], link["label"], link["url"]) for link in context["links"]["actions"]
        ),
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
