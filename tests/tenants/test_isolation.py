"""Each tenant's data lives in its own schema; a key only ever reaches its own."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from alerting.models import Alert
from receivers.delivery import notifications_deliver
from receivers.models import DeliveryAttempt, Notification, Receiver
from tests.factories import NotificationFactory, ReceiverFactory, WebhookPayloadFactory
from tests.ingest import post, public_client


def test_a_key_stores_into_its_own_tenant_whatever_host_it_is_sent_to(
    alpha, beta, ingest_key
):
    alpha_key = ingest_key(alpha)

    via_public = post(public_client(), WebhookPayloadFactory(), alpha_key)
    via_beta_host = post(Client(HTTP_HOST="beta.localhost"), WebhookPayloadFactory(), alpha_key)

    assert (via_public.status_code, via_beta_host.status_code) == (200, 200)
    with tenant_context(alpha):
        assert Alert.objects.count() == 2
    with tenant_context(beta):
        assert Alert.objects.count() == 0


def test_receivers_and_alerts_of_one_tenant_are_absent_from_the_other(alpha, beta, ingest_key):
    with tenant_context(alpha):
        ReceiverFactory(name="alpha-only")
    post(public_client(), WebhookPayloadFactory(), ingest_key(alpha))

    with tenant_context(beta):
        assert not Receiver.objects.filter(name="alpha-only").exists()
        assert Alert.objects.count() == 0
    with tenant_context(alpha):
        assert Receiver.objects.filter(name="alpha-only").exists()


def test_the_same_fingerprint_in_two_tenants_is_two_alerts(alpha, beta, ingest_key):
    payload = WebhookPayloadFactory()

    post(public_client(), payload, ingest_key(alpha))
    post(public_client(), payload, ingest_key(beta))

    for tenant in (alpha, beta):
        with tenant_context(tenant):
            assert Alert.objects.get().fingerprint == payload["alerts"][0]["fingerprint"]


def test_prepared_ingest_statements_follow_the_tenant_of_each_request(alpha, beta, ingest_key):
    """psycopg prepares the upsert after a few runs on a connection; each run
    must still write into the schema of the request's tenant."""
    keys = {alpha: ingest_key(alpha), beta: ingest_key(beta)}
    sent = {alpha: [], beta: []}
    with tenant_context(alpha):
        ReceiverFactory()
    for _ in range(8):
        for tenant in (alpha, beta):
            payload = WebhookPayloadFactory()
            assert post(public_client(), payload, keys[tenant]).status_code == 200
            sent[tenant].append(payload["alerts"][0]["fingerprint"])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%INSERT INTO alerting_alertgroup%"],
        )
        assert cursor.fetchone()[0] == 1
    for tenant in (alpha, beta):
        with tenant_context(tenant):
            stored = set(Alert.objects.values_list("fingerprint", flat=True))
            assert stored == set(sent[tenant])
    with tenant_context(alpha):
        assert Notification.objects.count() == 8
    with tenant_context(beta):
        assert Notification.objects.count() == 0


def test_prepared_delivery_statements_claim_and_record_in_each_tenants_schema(
    alpha, beta, httpserver
):
    """The claim and the record are prepared after a few runs too; alternating
    tenants, each delivery still reads and writes its own tenant's rows."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivered = {alpha: [], beta: []}
    for _ in range(8):
        for tenant in (alpha, beta):
            with tenant_context(tenant):
                receiver = Receiver.objects.filter(name="hook").first() or ReceiverFactory(
                    name="hook", secrets={"url": httpserver.url_for("/hook")}
                )
                notification = NotificationFactory(receiver=receiver)
                results = notifications_deliver(notification_ids=[notification.id])
                assert results[notification.id].outcome == "delivered"
                delivered[tenant].append(notification.id)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FOR UPDATE OF n SKIP LOCKED%"],
        )
        assert cursor.fetchone()[0] == 1
    for tenant in (alpha, beta):
        with tenant_context(tenant):
            rows = Notification.objects.filter(state="delivered")
            assert sorted(rows.values_list("id", flat=True)) == sorted(delivered[tenant])
            assert DeliveryAttempt.objects.count() == 8
    assert len(httpserver.log) == 16
