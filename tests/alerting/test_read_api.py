"""An SRE's tool reads its tenant's alerts and acts on alert groups, and sees nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import Alert, AlertGroup
from receivers.models import Notification
from tenants.services import api_token_create, hashed_key_revoke
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import keep_schema, post, public_client


class Api:
    """The API as one tenant's token sees it."""

    def __init__(self, token: str, row=None):
        self.row = row
        self.client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, **params):
        with keep_schema():
            return self.client.get(path, params)

    def post(self, path: str):
        with keep_schema():
            return self.client.post(path)


@pytest.fixture
def api(alpha) -> Api:
    """A token that reads and acts (acknowledge, resolve, silence)."""
    row, token = api_token_create(tenant=alpha, name="grafana", scopes=["read", "acknowledge"])
    return Api(token, row)


def in_days(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.fixture
def ingest(ingest_key):
    """Post a webhook for a tenant; returns the payload."""

    def send(tenant, **fields):
        payload = WebhookPayloadFactory(**fields)
        response = post(public_client(), payload, ingest_key(tenant))
        assert response.status_code == 200
        return payload

    return send


def fingerprints(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {alert["fingerprint"] for alert in response.json()["results"]}


def test_alerts_are_listed_newest_first_with_their_fields(api, alpha, ingest):
    first = ingest(alpha)["alerts"][0]
    second = ingest(alpha)["alerts"][0]

    response = api.get("/api/v1/alerts/")

    results = response.json()["results"]
    assert [alert["fingerprint"] for alert in results] == [
        second["fingerprint"], first["fingerprint"],
    ]
    assert results[0]["labels"] == second["labels"]
    assert results[0]["endsAt"] is None
    assert results[0]["startsAt"] == "2026-11-23T10:00:00Z"


def test_alerts_filter_by_status_matchers_and_time(api, alpha, ingest):
    db = WebhookAlertFactory(labels={"alertname": "DiskFull", "team": "db"},
                             startsAt="2026-11-20T08:00:00Z")
    web = WebhookAlertFactory(labels={"alertname": "Latency", "team": "web"},
                              startsAt="2026-11-22T08:00:00Z")
    loner = WebhookAlertFactory(labels={"alertname": "Latency"}, startsAt="2026-11-22T09:00:00Z")
    resolved = WebhookAlertFactory(status="resolved", labels={"alertname": "Old", "team": "db"},
                                   endsAt="2026-11-22T10:00:00Z")
    ingest(alpha, alerts=[db, web, loner, resolved])
    fp = {name: alert["fingerprint"] for name, alert in
          {"db": db, "web": web, "loner": loner, "resolved": resolved}.items()}

    assert fingerprints(api.get("/api/v1/alerts/", status="resolved")) == {fp["resolved"]}
    assert fingerprints(api.get("/api/v1/alerts/", matcher='team="db"')) == {
        fp["db"], fp["resolved"],
    }
    assert fingerprints(api.get("/api/v1/alerts/", matcher='team=""')) == {fp["loner"]}
    assert fingerprints(api.get("/api/v1/alerts/", matcher='team=~"w.*"')) == {fp["web"]}
    assert fingerprints(api.get("/api/v1/alerts/", matcher='team=~"w"')) == set()
    assert fingerprints(api.get("/api/v1/alerts/", matcher=['alertname="Latency"',
                                                            'team!~"web"'])) == {fp["loner"]}
    assert fingerprints(api.get("/api/v1/alerts/", since="2026-11-21T00:00:00Z",
                                until="2026-11-22T08:30:00Z")) == {fp["web"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "burning"}, "status"), ({"matcher": "team"}, "matcher"),
     ({"matcher": 'team=~"("'}, "matcher"), ({"since": "last tuesday"}, "since"),
     ({"matcher": 'team=~"(?P<name>db)"'}, "matcher")],
)
def test_bad_filters_get_400_naming_the_parameter(api, params, field):
    response = api.get("/api/v1/alerts/", **params)
    assert response.status_code == 400
    assert field in response.json()


def test_lists_are_paginated_with_a_cursor(api, alpha, ingest):
    ingest(alpha, alerts=WebhookAlertFactory.build_batch(5))

    page = api.get("/api/v1/alerts/", limit=2).json()
    seen = [alert["id"] for alert in page["results"]]
    while page["next"]:
        with keep_schema():
            page = api.client.get(page["next"]).json()
        seen += [alert["id"] for alert in page["results"]]

    assert seen == sorted(seen, reverse=True) and len(seen) == 5


def test_an_alert_group_shows_its_alerts_and_every_delivery_attempt(api, alpha, ingest):
    ReceiverFactory(name="ops")
    payload = ingest(alpha)
    group = AlertGroup.objects.get()

    detail = api.get(f"/api/v1/alert-groups/{group.id}/").json()

    assert detail["groupKey"] == payload["groupKey"]
    assert [alert["fingerprint"] for alert in detail["alerts"]] == [
        payload["alerts"][0]["fingerprint"]
    ]
    [notification] = detail["notifications"]
    assert (notification["receiver"], notification["state"]) == ("ops", "pending")
    assert notification["deliveryAttempts"] == []


def test_an_alert_shows_the_notifications_that_carried_it(api, alpha, ingest):
    ReceiverFactory()
    ingest(alpha)
    alert = Alert.objects.get()

    detail = api.get(f"/api/v1/alerts/{alert.id}/").json()

    assert detail["fingerprint"] == alert.fingerprint
    assert len(detail["notifications"]) == 1


def test_acknowledging_records_who_and_when_once(api, alpha, ingest):
    ingest(alpha)
    group = AlertGroup.objects.get()

    first = api.post(f"/api/v1/alert-groups/{group.id}/acknowledge/").json()
    again = api.post(f"/api/v1/alert-groups/{group.id}/acknowledge/").json()

    assert first["acknowledgedBy"] == f"token:grafana ({api.row.prefix}…)"
    assert first["acknowledgedAt"] is not None
    assert again["acknowledgedAt"] == first["acknowledgedAt"]


def test_resolving_by_hand_tells_the_receivers_that_were_notified_and_only_those(
    api, alpha, ingest
):
    told = ReceiverFactory(name="told")
    ingest(alpha)
    ReceiverFactory(name="added-later")
    group = AlertGroup.objects.get()

    response = api.post(f"/api/v1/alert-groups/{group.id}/resolve/")

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert Alert.objects.get().status == "resolved"
    resolved = Notification.objects.filter(status="resolved")
    assert [n.receiver_id for n in resolved] == [told.id]
    again = api.post(f"/api/v1/alert-groups/{group.id}/resolve/")
    assert again.status_code == 409


def test_another_tenants_alerts_are_invisible_by_list_and_by_id(api, alpha, beta, ingest):
    ingest(beta)
    with tenant_context(beta):
        beta_alert, beta_group = Alert.objects.get(), AlertGroup.objects.get()

    assert api.get("/api/v1/alerts/").json()["results"] == []
    assert api.get(f"/api/v1/alerts/{beta_alert.id}/").status_code == 404
    assert api.get(f"/api/v1/alert-groups/{beta_group.id}/").status_code == 404
    assert api.post(f"/api/v1/alert-groups/{beta_group.id}/acknowledge/").status_code == 404
    with tenant_context(beta):
        assert AlertGroup.objects.get().acknowledged_at is None


def test_the_token_decides_the_tenant_even_on_another_tenants_host(alpha, beta, ingest):
    ingest(beta)
    token = api_token_create(tenant=alpha, name="t")[1]
    client = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")

    with keep_schema():
        response = client.get("/api/v1/alerts/")

    assert response.json()["results"] == []


@pytest.mark.parametrize("credentials", [None, "Bearer ht_nope", "ingest-key"])
def test_the_read_api_needs_a_valid_api_token(alpha, ingest_key, credentials):
    if credentials == "ingest-key":
        credentials = f"Bearer {ingest_key(alpha)}"  # an ingest key reads nothing
    headers = {"HTTP_AUTHORIZATION": credentials} if credentials else {}
    with keep_schema():
        response = Client(HTTP_HOST="127.0.0.1", **headers).get("/api/v1/alerts/")
    assert response.status_code == 401


def test_a_revoked_token_reads_nothing(alpha):
    row, token = api_token_create(tenant=alpha, name="old")
    hashed_key_revoke(key=row)
    assert Api(token).get("/api/v1/alerts/").status_code == 401


def test_silences_are_created_listed_and_expired_over_the_api(api, alpha, ingest):
    with keep_schema():
        created = api.client.post(
            "/api/v1/silences/",
            {"matchers": 'alertname="HighLatency"', "startsAt": "2026-11-23T00:00:00Z",
             "endsAt": in_days(2), "comment": "db migration"},
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    silence = created.json()
    assert (silence["kind"], silence["createdBy"]) == ("once", api.row.actor)

    ReceiverFactory()
    ingest(alpha)
    assert Notification.objects.count() == 0  # silenced
    assert [s["id"] for s in api.get("/api/v1/silences/").json()["results"]] == [silence["id"]]

    with keep_schema():
        assert api.client.delete(f"/api/v1/silences/{silence['id']}/").status_code == 204
    ingest(alpha)
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"matchers": "alertname", "startsAt": "2026-11-23T00:00:00Z",
          "endsAt": "2026-11-24T00:00:00Z"}, "not a matcher"),
        ({"matchers": 'a="b"', "startsAt": "2026-11-24T00:00:00Z",
          "endsAt": "2026-11-23T00:00:00Z"}, "before ends_at"),
        ({"matchers": 'a="b"', "weekdays": [5, 9], "windowStart": "22:00",
          "windowEnd": "02:00"}, "Weekdays"),
        ({"matchers": 'a="b"', "weekdays": [5], "windowStart": "22:00", "windowEnd": "02:00",
          "timeZone": "Mars/Olympus"}, "Unknown time zone"),
    ],
)
def test_a_bad_silence_gets_400_saying_why(alpha, body, why):
    api = Api(api_token_create(tenant=alpha, name="ops", scopes=["acknowledge", "write"])[1])
    with keep_schema():
        response = api.client.post("/api/v1/silences/", body, content_type="application/json")
    assert response.status_code == 400
    assert why in str(response.json())


def test_api_actions_and_silence_changes_are_audited(api, alpha, ingest):
    from alerting.audit.models import AuditEntry

    ingest(alpha)
    group = AlertGroup.objects.get()
    api.post(f"/api/v1/alert-groups/{group.id}/acknowledge/")
    with keep_schema():
        created = api.client.post(
            "/api/v1/silences/",
            {"matchers": 'team="db"', "startsAt": "2026-11-23T00:00:00Z",
             "endsAt": in_days(1)},
            content_type="application/json",
        ).json()
        api.client.delete(f"/api/v1/silences/{created['id']}/")

    entries = list(AuditEntry.objects.order_by("id").values_list("actor", "source", "action",
                                                                 "object_type"))
    actor = f"token:grafana ({api.row.prefix}…)"  # the token, not only its tenant
    assert entries == [
        (actor, "api", "acknowledge", "alerting.alertgroup"),
        (actor, "api", "create", "alerting.silence"),
        (actor, "api", "delete", "alerting.silence"),
    ]
