"""The live preview of a template being edited: rendered under the limits, errors with a line."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from receivers.messages import alert_message_for
from receivers.models import Notification
from receivers.template_checks import template_source_check
from receivers.template_context import template_context
from receivers.template_limits import TemplateError
from receivers.template_render import template_render_timed
from receivers.template_samples import sample_message
from receivers.transports.registry import part_is_html


@dataclass(frozen=True)
class Preview:
    rendered: dict[str, str] = field(default_factory=dict)  # status -> text
    error: str = ""
    line: int | None = None
    # The slowest render of the save check's samples, and the slowest shown here.
    check_ms: float | None = None
    check_sample: str = ""
    render_ms: float | None = None


def template_preview(
    *, channel: str, language: str, part: str, source: str, notification_id: int | None = None
) -> Preview:
    """Render the source for a sample (firing and resolved) or one recent real notification.

    It first runs the save check, so what the preview accepts can be saved.
    """
    try:
        check = template_source_check(channel=channel, part=part, source=source)
        html = part_is_html(channel, part)
        if notification_id:
            notification = Notification.objects.select_related("alert_group").get(
                id=notification_id
            )
            tenant = connection.tenant
            messages = {
                notification.status: alert_message_for(
                    notification, tenant_slug=tenant.slug, tenant_name=tenant.name
                )
            }
        else:
            messages = {status: sample_message(status=status) for status in ("firing", "resolved")}
        rendered = {
            status: template_render_timed(
                source, template_context(message=message, language=language), html=html
            )
            for status, message in messages.items()
        }
    except TemplateError as exc:
        return Preview(error=str(exc), line=exc.line)
    except Notification.DoesNotExist:
        return Preview(error="That notification no longer exists.")
    return Preview(
        rendered={status: result.text for status, result in rendered.items()},
        check_ms=round(check.slowest_seconds * 1000, 1),
        check_sample=check.slowest_sample,
        render_ms=round(max(result.cpu_seconds for result in rendered.values()) * 1000, 1),
    )
