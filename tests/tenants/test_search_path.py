"""Queries run in the tenant's schema even after a rollback undid the SET search_path.

Herald sets the search_path once per schema switch (TENANT_LIMIT_SET_CALLS);
the SET runs inside the open transaction, so a rollback undoes it and
django-tenants must set it again.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

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


def _search_path_sets(work) -> int:
    with CaptureQueriesContext(connection) as queries:
        work()
    return sum(query["sql"].startswith("SET search_path") for query in queries.captured_queries)


def test_requests_of_the_same_tenant_set_the_search_path_once_and_a_switch_sets_it_again(
    committed_tenants,
):
    alpha, beta = committed_tenants["alpha"], committed_tenants["beta"]

    def request_of(tenant):
        def work():
            connection.set_tenant(tenant)  # as the tenant middleware does for each request
            Receiver.objects.count()
        return work

    assert _search_path_sets(request_of(alpha)) == 1
    assert _search_path_sets(request_of(alpha)) == 0
    assert _search_path_sets(request_of(beta)) == 1
    ReceiverFactory(name="in-beta")
    assert _search_path_sets(request_of(alpha)) == 1
    assert not Receiver.objects.filter(name="in-beta").exists()
    connection.set_schema_to_public()
