"""A tenant's template source rendered under the hard limits, isolated from the worker.

Every tenant template runs in Jinja2's immutable sandbox under the limits
(receivers.template_sandbox, template_limits), in a child process that is
killed when it overruns (receivers.template_runner), so it can neither reach
Python internals nor hold a worker. HERALD_TEMPLATE_ISOLATION = "thread"
keeps only the in-process meter (tests, benchmarks).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from receivers.template_limits import TemplateError, TemplateLimits
from receivers.template_runner import Rendered, templates_render_isolated
from receivers.template_sandbox import sandbox_compile, sandbox_render


def template_limits() -> TemplateLimits:
    return TemplateLimits.from_settings()


def templates_render_sources(
    jobs: list[tuple[str, bool]], context: Mapping[str, Any]
) -> list[Rendered | TemplateError]:
    """Render tenants' template sources, each (source, html), with one context; results in order."""
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
