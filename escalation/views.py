"""The page behind an acknowledge link: GET confirms, POST acknowledges."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_tenants.utils import tenant_context

from escalation.link_actions import (
    LinkActionRefused,
    action_link_group,
    alert_group_acknowledge_by_link,
)
from escalation.links import ACKNOWLEDGE, LinkError, action_token_read


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "escalation/ack_problem.html", {"message": message}, status=status)


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = action_token_read(token)
    except LinkError as exc:
        return _problem(request, str(exc), exc.status)
    if link.action != ACKNOWLEDGE:
        return _problem(request, "This link is not valid.", 400)
    with tenant_context(link.tenant):
        done = False
        try:
            if request.method == "POST":
                group, done = alert_group_acknowledge_by_link(
                    link=link, ip=request.META.get("REMOTE_ADDR", "")
                )
            else:
                group = action_link_group(link=link)
        except LinkActionRefused as exc:
            return _problem(request, str(exc), exc.status)
        context = {
            "group": group,
            "tenant": link.tenant,
            "alertname": group.common_labels.get("alertname") or group.group_key,
            "done": done,
            "recipient": link.recipient,
        }
        return render(request, "escalation/ack.html", context)
