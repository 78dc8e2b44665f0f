"""Each tenant's data lives in its own schema; a key only ever reaches its own."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import tenant_context

from alerting.models import Alert
from receivers.models import Receiver
from tests.factories import ReceiverFactory, WebhookPayloadFactory
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
