"""What operators change on the operators' admin is in the trail: the shared chain,
and the chain of the tenant it concerns, which that tenant's auditors read."""

from __future__ import annotations

import logging

from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from alerting.audit.models import AuditEntry
from tenants.models import Domain, Tenant


def _form_data(response) -> dict:
    """What the browser would post back for an unchanged admin change form."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value not in (None, False, ""):
                    data[sub.add_prefix(name)] = "on" if value is True else value
    return data


def _as_operator(users) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(users["operator"])
    return client


def _entries(schema: str, object_type: str) -> list[AuditEntry]:
    with schema_context(schema):
        return list(AuditEntry.objects.filter(object_type=object_type).order_by("id"))


def test_allowing_private_targets_is_recorded_for_the_operators_and_the_tenant(
    users, alpha, caplog
):
    caplog.set_level(logging.INFO, logger="herald.audit")
    tenant = Tenant.objects.get(pk=alpha.pk)
    assert tenant.allow_private_targets
    client = _as_operator(users)
    path = f"/admin/tenants/tenant/{alpha.pk}/change/"

    form = client.get(path)
    data = _form_data(form)
    data.pop("allow_private_targets")
    data["ingest_rate_limit"] = "50/second"
    saved = client.post(path, data)
    connection.set_tenant(alpha)

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    (entry,) = _entries(alpha.schema_name, "tenants.tenant")
    assert (entry.actor, entry.action) == ("operator", "update")
    assert entry.before["allow_private_targets"] is True
    assert entry.after["allow_private_targets"] is False
    assert entry.after["ingest_rate_limit"] == "50/second"
    assert "alpha.localhost" in entry.after["domains"]
    assert entry.after["link_signing_key"] == "[redacted]"
    assert str(Tenant.objects.get(pk=alpha.pk).link_signing_key) not in str(entry.after)
    assert not _entries("beta", "tenants.tenant")
    (line,) = [r.audit for r in caplog.records if r.name == "herald.audit"]
    assert (line["actor"], line["action"], line["obj_type"]) == (
        "operator", "update", "tenants.tenant")


def test_adding_and_removing_a_domain_is_recorded_in_that_tenants_trail(users, alpha):
    client = _as_operator(users)
    added = client.post("/admin/tenants/domain/add/",
                        {"domain": "alerts.alpha.example", "tenant": alpha.pk})
    domain = Domain.objects.get(domain="alerts.alpha.example")
    removed = client.post(f"/admin/tenants/domain/{domain.pk}/delete/", {"post": "yes"})
    connection.set_tenant(alpha)

    assert added.status_code == removed.status_code == 302
    actions = [(e.action, (e.after or e.before)["domain"])
               for e in _entries(alpha.schema_name, "tenants.domain")]
    assert actions == [("create", "alerts.alpha.example"), ("delete", "alerts.alpha.example")]
