"""How the thread's connection follows the selected tenant's database (tenants/databases.py).

Here the second database is a second name for the test database itself (its
own connection), so the binding's rules are seen without a second server;
tests/tenants/test_databases.py runs a tenant on a real second PostgreSQL.
"""

from __future__ import annotations

import copy

import pytest
from django.db import connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django_tenants.utils import schema_context, tenant_context

from alerting.infra.tenant_databases import SHARED_ALIAS
from receivers.models import Receiver
from tenants.databases import (
    bound_elsewhere,
    database_pinned,
    shared_connection,
)
from tenants.models import Tenant
from tests.factories import ReceiverFactory
from tests.tenants.database_aliases import database_aliases_added


@pytest.fixture
def second_name():
    """`second`: the test database under another alias, and the shared schema's alias."""
    added = {"second": copy.deepcopy(connection.settings_dict),
             SHARED_ALIAS: copy.deepcopy(connection.settings_dict)}
    with database_aliases_added(added):
        yield "second"


def elsewhere(tenant: Tenant, alias: str) -> Tenant:
    moved = Tenant.objects.get(pk=tenant.pk)
    moved.database = alias  # as the map says, not saved
    return moved


def test_selecting_a_tenant_elsewhere_binds_the_connection_and_public_binds_it_back(
    committed_tenants, second_name
):
    alpha = elsewhere(committed_tenants["alpha"], second_name)
    primary = connections["default"]

    with tenant_context(alpha):
        assert connection.alias == "second" and connection.schema_name == "alpha"
        assert bound_elsewhere()
        assert shared_connection() is primary  # the shared schema's, in public
        assert primary.schema_name == "public"
        # The tenant's models on its database, the shared ones on the first.
        ReceiverFactory(name="bound-hook")
        assert Receiver.objects.all().db == "default"
        assert Tenant.objects.all().db == SHARED_ALIAS
        assert Tenant.objects.filter(slug="alpha").exists()
        with transaction.atomic():  # a transaction on the tenant's database
            assert connection.in_atomic_block and not primary.in_atomic_block

    assert connection.alias == "default" and connection.schema_name == "public"
    assert connections["default"] is primary
    assert not bound_elsewhere()
    with tenant_context(committed_tenants["alpha"]):
        assert Receiver.objects.filter(name="bound-hook").exists()  # one database after all


def test_nested_contexts_bind_back_to_the_tenant_they_left(committed_tenants, second_name):
    """tenant_context restores on the wrapper it began with, which is no longer `default`."""
    alpha = elsewhere(committed_tenants["alpha"], second_name)
    beta = committed_tenants["beta"]

    with tenant_context(beta):
        with tenant_context(alpha):
            assert (connection.alias, connection.schema_name) == ("second", "alpha")
        assert (connection.alias, connection.schema_name) == ("default", "beta")
    with tenant_context(alpha):
        with schema_context("beta"):
            assert (connection.alias, connection.schema_name) == ("default", "beta")
        assert (connection.alias, connection.schema_name) == ("second", "alpha")
    assert (connection.alias, connection.schema_name) == ("default", "public")


def test_a_schema_selected_by_name_finds_its_tenants_database(committed_tenants, second_name):
    Tenant.objects.filter(slug="beta").update(database=second_name)

    with schema_context("beta"):
        assert connection.alias == "second"
    with schema_context("alpha"):
        assert connection.alias == "default"


def test_switching_database_inside_a_transaction_is_refused(committed_tenants, second_name):
    alpha = elsewhere(committed_tenants["alpha"], second_name)

    with transaction.atomic():
        with pytest.raises(TransactionManagementError, match="leave the transaction"):
            connection.set_tenant(alpha)
        assert connection.alias == "default"


def test_a_pinned_database_keeps_every_schema_there_and_refuses_a_tenant_of_another(
    committed_tenants, second_name
):
    with database_pinned(second_name):
        assert connection.alias == "second" and connection.schema_name == "public"
        with schema_context("herald_tenant_template"):  # Herald's own: stays pinned
            assert connection.alias == "second"
        with pytest.raises(TransactionManagementError, match="not on the pinned 'second'"):
            connection.set_tenant(committed_tenants["alpha"])  # it lives on default
    assert connection.alias == "default"
