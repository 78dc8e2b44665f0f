"""Pages behind links in messages: acknowledge (GET confirms, POST acknowledges), every
other action (/act/<token>/, the same way) and a contact method's confirmation."""

from __future__ import annotations

from contextlib import nullcontext
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditSource
from escalation.actions import (
    Action,
    ActionRequest,
    action_label,
    group_state,
    incident_action_apply,
)
from escalation.actions.pages import action_page_actor
from escalation.link_actions import (
    LinkActionRefused,
    action_link_group,
    alert_group_acknowledge_by_link,
)
from escalation.links import ACKNOWLEDGE, LinkError, action_token_read
from escalation.page_language import page_language, person_language
from escalation.paging.acks import link_acknowledger
from escalation.people.chat_links import tenant_host_url
from escalation.people.services import contact_method_verify
from escalation.people.verification import VerificationError, verification_token_read


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "escalation/ack_problem.html", {"message": message}, status=status)


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = action_token_read(token)
    except LinkError as exc:
        return _problem(request, str(exc), exc.status)
    if link.action != ACKNOWLEDGE:
        return _problem(request, _("This link is not valid."), 400)
    with tenant_context(link.tenant), page_language(person_id=link.person_id):
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
            # A page's link names its person: their name, not "person:<id>".
            "recipient": link_acknowledger(link=link).name,
        }
        return render(request, "escalation/ack.html", context)


def _host_refuses(request: HttpRequest, tenant) -> bool:
    """On a tenant's own host, only that tenant's links work."""
    host = getattr(request, "tenant", None)
    return getattr(host, "schema_name", "public") != "public" and host.pk != tenant.pk


@require_http_methods(["GET", "POST"])
def act(request: HttpRequest, token: str) -> HttpResponse:
    """An action link's page: GET shows the group and a button, POST (CSRF-checked) acts."""
    try:
        link = action_token_read(token)
        action = Action(link.action)
    except LinkError as exc:
        return _problem(request, str(exc), exc.status)
    except ValueError:
        return _problem(request, _("This link is not valid."), 400)
    if _host_refuses(request, link.tenant):
        return _problem(request, _("This link is not valid."), 400)
    with tenant_context(link.tenant), page_language(person_id=link.person_id):
        try:
            group = action_link_group(link=link)
        except LinkActionRefused as exc:
            return _problem(request, str(exc), exc.status)
        who = action_page_actor(link=link, action=action, user=request.user)
        outcome = None
        if request.method == "POST" and who.actor is not None:
            outcome = incident_action_apply(
                tenant=link.tenant,
                request=ActionRequest(
                    alert_group_id=link.alert_group_id, incident=link.incident, action=action
                ),
                actor=who.actor, channel=who.channel, ip=request.META.get("REMOTE_ADDR", ""),
                source=AuditSource.LINK,
            )
            group.refresh_from_db()
        context = {
            "tenant": link.tenant,
            "group": group,
            "state": group_state(group),
            "alertname": group.common_labels.get("alertname") or group.group_key,
            "labels": sorted(group.group_labels.items())[:20],
            "label": action_label(action),
            "recipient": link_acknowledger(link=link).name,
            "actor": who.actor,
            "outcome": outcome,
            "sign_in_needed": who.sign_in_needed,
            "sign_in_url": (
                f"{tenant_host_url(link.tenant)}/admin/login/?next={quote(request.path)}"
            ),
        }
        return render(request, "escalation/act.html", context,
                      status=outcome.status if outcome else 200)


@require_http_methods(["GET"])
def contact_verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link of a contact method's confirmation mail: opening it verifies the address.

    On a tenant's own host only that tenant's links work; on Herald's shared
    host the token's tenant is used. A bad link changes nothing.
    """
    host_tenant = getattr(request, "tenant", None)
    if getattr(host_tenant, "schema_name", "public") == "public":
        host_tenant = None
    try:
        claim = verification_token_read(token)
        with tenant_context(claim.tenant):
            verified = contact_method_verify(token=token, expected_tenant=host_tenant)
            person = verified.contact_method.person
            context = {
                "tenant": claim.tenant,
                "address": verified.contact_method.address,
                "person": person.display_name,
                "already": verified.already,
            }
            language = person_language(person_id=person.id)
    except VerificationError as exc:
        return render(request, "escalation/contact_verify.html",
                      {"problem": str(exc)}, status=exc.status)
    # The person's page: their profile language, whatever the browser asks for.
    with translation.override(language) if language else nullcontext():
        return render(request, "escalation/contact_verify.html", context)
