"""`manage.py create_tenant` gives an operator a working tenant in one step."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from receivers.models import Receiver
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_for_ingest_key


def test_create_tenant_makes_a_migrated_schema_a_domain_and_a_key(db, capsys):
    call_command("create_tenant", slug="gamma-corp", name="Gamma", domain="gamma.localhost")

    out = capsys.readouterr().out
    tenant = Tenant.objects.get(slug="gamma-corp")
    assert tenant.schema_name == "gamma_corp"
    assert schema_exists("gamma_corp")
    assert Domain.objects.get(tenant=tenant).domain == "gamma.localhost"
    key = re.search(r"Ingest key \(shown once\): (\S+)", out).group(1)
    assert tenant_for_ingest_key(key=key) == tenant
    with tenant_context(tenant):
        assert Receiver.objects.count() == 0  # the tenant's tables exist in its schema
    connection.set_schema_to_public()


def test_create_tenant_refuses_a_slug_in_use(tenants):
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_tenant", slug="alpha", name="Again", domain="again.localhost")
