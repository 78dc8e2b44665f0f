"""The checks a tenant's template passes before it is saved.

The samples (receivers.template_samples) include harder alert groups than
the preview's: many alerts, long labels, no annotations, so a template that
is slow or fails only for real alerts is refused when saved, not at 3 am.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from receivers.template_context import template_context
from receivers.template_limits import LimitExceeded, TemplateError
from receivers.template_render import template_render_timed
from receivers.template_samples import SAMPLE_NOW, check_samples
from receivers.template_sandbox import sandbox_compile


@dataclass(frozen=True)
class TemplateCheck:
    """A template that passed its save check, and its slowest render over the samples."""

    slowest_seconds: float
    slowest_sample: str


def template_source_check(*, channel: str, part: str, source: str) -> TemplateCheck:
    """Compile a tenant's override of one part of a channel's message, render it for every sample.

    Raises TemplateError (with the sample and line) for a part the channel
    does not have, syntax errors, sandbox violations, runtime errors and every
    limit hit.
    """
    # Imported here: the webhook transport's settings use the checks below,
    # and importing the registry imports every transport.
    from receivers.transports.registry import channel_parts, part_is_html

    if part not in (parts := channel_parts(channel)):
        known = ", ".join(parts) or "none"
        raise TemplateError(_("'%(part)s' is not a part of %(channel)s messages (parts: %(known)s)")
                            % {"part": part, "channel": channel, "known": known})
    return template_samples_check(source=source, html=part_is_html(channel, part))


def _sample_problem(problem: str, sample: str) -> str:
    """The renderer's own words (Jinja's, English), framed in the active language."""
    return _("%(problem)s (with the sample '%(sample)s')") % {"problem": problem, "sample": sample}


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
                _sample_problem(exc.message, name), limit=exc.limit
            ).at_line(exc.line) from None
        except TemplateError as exc:
            raise TemplateError(_sample_problem(exc.message, name), line=exc.line) from None
        if rendered.cpu_seconds >= slowest.slowest_seconds:
            slowest = TemplateCheck(slowest_seconds=rendered.cpu_seconds, slowest_sample=name)
    return slowest
