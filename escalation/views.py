"""The page behind an acknowledge link: GET confirms, POST acknowledges."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_tenants.utils import tenant_context

from alerting.audit.services import audit_record
from alerting.models import AlertGroup
from alerting.services import AlertGroupActionError, alert_group_acknowledge
from escalation.links import LinkError, acknowledge_token_read


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "escalation/ack_problem.html", {"message": message}, status=status)


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tenant, group_id = acknowledge_token_read(token)
    except LinkError as exc:
        return _problem(request, str(exc), 410 if exc.expired else 400)
    with tenant_context(tenant):
        group = AlertGroup.objects.filter(id=group_id).first()
        if group is None:
            return _problem(request, "This alert group no longer exists.", 404)
        done = False
        if request.method == "POST":
            try:
                group = alert_group_acknowledge(alert_group_id=group.id, by="link")
                done = True
                audit_record(
                    actor="link", source="system", action="acknowledge",
                    obj_type="alerting.alertgroup", obj_id=group.id, obj_repr=str(group)[:300],
                    ip=request.META.get("REMOTE_ADDR", ""),
                )
            except AlertGroupActionError as exc:
                return _problem(request, str(exc), 409)
        context = {
            "group": group,
            "tenant": tenant,
            "alertname": group.common_labels.get("alertname") or group.group_key,
            "done": done,
        }
        return render(request, "escalation/ack.html", context)
