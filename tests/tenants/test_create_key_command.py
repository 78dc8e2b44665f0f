"""Operators mint keys from the shell; each works only for what it is for."""

import re

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from tenants.selectors import tenant_for_api_token, tenant_for_ingest_key


@pytest.mark.parametrize(
    ("kind", "works_for", "not_for"),
    [("ingest", tenant_for_ingest_key, tenant_for_api_token),
     ("api", tenant_for_api_token, tenant_for_ingest_key)],
)
def test_a_key_is_printed_once_and_selects_its_tenant(tenants, capsys, kind, works_for, not_for):
    call_command("create_key", kind, tenant="alpha", name="grafana")

    key = re.search(r"\(shown once\): (\S+)", capsys.readouterr().out).group(1)
    assert works_for(key=key) == tenants["alpha"]
    assert not_for(key=key) is None
    with tenant_context(tenants["alpha"]):
        entry = AuditEntry.objects.get()
    assert (entry.source, entry.action) == ("command", f"create {kind} key")
    assert key not in str(entry.after) and key not in entry.object_repr


def test_an_unknown_tenant_is_refused(tenants):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("create_key", "api", tenant="nobody", name="x")
