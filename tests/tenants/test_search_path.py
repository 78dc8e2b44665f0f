"""Queries run in the tenant's schema even after a rollback undid the SET search_path.

Herald sets the search_path once per schema switch (TENANT_LIMIT_SET_CALLS);
the SET runs inside the open transaction, so a rollback undoes it and
django-tenants must set it again.
"""

import pytest
from django.db import connection, transaction

from receivers.models import Receiver
from tests.factories import ReceiverFactory


class Boom(Exception):
    pass


def test_a_rollback_does_not_leave_queries_in_the_wrong_schema(committed_tenants):
    connection.set_tenant(committed_tenants["alpha"])
    with pytest.raises(Boom), transaction.atomic():
        Receiver.objects.count()  # the first query after the switch: SET runs in here
        raise Boom

    ReceiverFactory(name="still-in-alpha")
    connection.set_tenant(committed_tenants["alpha"])
    assert Receiver.objects.filter(name="still-in-alpha").exists()
    connection.set_schema_to_public()


def test_a_savepoint_rollback_does_not_either(committed_tenants):
    connection.set_tenant(committed_tenants["alpha"])
    with transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            Receiver.objects.count()
            raise Boom
        assert Receiver.objects.count() == 0  # would fail: "relation does not exist"
    connection.set_schema_to_public()
