"""Every API action against every kind of credential: a token does what its scopes say.

A dashboard's `read` token reads and cannot act; a chat bot's `acknowledge`
token acts on incidents; weekly silences and schedule overrides
(configuration: who is paged) need `write`; no
token, an expired or revoked one, or an ingest key gets 401. The list of
actions is checked against the URL configuration, so a new route cannot be
left out of this matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern
from django.utils import timezone

from alerting.api.urls import api_urlpatterns
from alerting.models import AlertGroup, Silence
from escalation.models import ScheduleOverride
from tenants.services import api_token_create, hashed_key_revoke, ingest_key_create
from tests.factories import (
    PersonFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
    SilenceFactory,
    TeamFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import keep_schema, post, public_client


@dataclass(frozen=True)
class Action:
    route: str  # the URL pattern, as Django's resolver spells it
    method: str
    needs: str  # a scope, or "ingest" for an ingest key
    ok: int

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


_ID = "(?P<pk>[^/.]+)"
_OVERRIDE = "(?P<override_id>[^/.]+)"
ACTIONS = [
    Action("api/v1/alertmanager/", "post", "ingest", 200),
    Action("api/v1/alertmanager/<str:key>/", "post", "ingest", 200),
    Action("^api/v1/alerts/$", "get", "read", 200),
    Action(f"^api/v1/alerts/{_ID}/$", "get", "read", 200),
    Action("^api/v1/alert-groups/$", "get", "read", 200),
    Action(f"^api/v1/alert-groups/{_ID}/$", "get", "read", 200),
    Action(f"^api/v1/alert-groups/{_ID}/acknowledge/$", "post", "acknowledge", 200),
    Action(f"^api/v1/alert-groups/{_ID}/resolve/$", "post", "acknowledge", 200),
    Action("^api/v1/silences/$", "get", "read", 200),
    Action("^api/v1/silences/$", "post", "acknowledge", 201),
    Action(f"^api/v1/silences/{_ID}/$", "get", "read", 200),
    Action(f"^api/v1/silences/{_ID}/$", "delete", "acknowledge", 204),
    # The same routes with a weekly window: standing configuration.
    Action("^api/v1/silences/$ (weekly)", "post", "write", 201),
    Action(f"^api/v1/silences/{_ID}/$ (weekly)", "delete", "write", 204),
    # On call: reading schedules and teams; overrides change who is paged.
    Action("^api/v1/schedules/$", "get", "read", 200),
    Action(f"^api/v1/schedules/{_ID}/$", "get", "read", 200),
    Action(f"^api/v1/schedules/{_ID}/on-call/$", "get", "read", 200),
    Action(f"^api/v1/schedules/{_ID}/overrides/$", "post", "write", 201),
    Action(f"^api/v1/schedules/{_ID}/overrides/{_OVERRIDE}/$", "delete", "write", 204),
    Action("^api/v1/teams/$", "get", "read", 200),
    Action(f"^api/v1/teams/{_ID}/$", "get", "read", 200),
    Action(f"^api/v1/teams/{_ID}/on-call/$", "get", "read", 200),
]

CREDENTIALS = ["none", "read", "acknowledge", "write", "all scopes", "expired", "revoked",
               "ingest key"]
_SCOPES = {"read": ["read"], "acknowledge": ["acknowledge"], "write": ["write"],
           "all scopes": ["read", "acknowledge", "write"]}


def _routes_and_methods() -> set[tuple[str, str]]:
    found = set()
    for pattern in api_urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback
        actions = getattr(view, "actions", None)  # a viewset's method -> action
        methods = actions.keys() if actions else [
            method for method in view.view_class.http_method_names
            if method != "options" and hasattr(view.view_class, method)
        ]
        # HEAD is GET without the body: the same handler, the same scope.
        found |= {(str(pattern.pattern), method) for method in methods if method != "head"}
    return found


# Ingest sources take an ingest key bound to a source of their kind (tested below
# and, key by key, in tests/alerting/sources/).
SOURCE_ROUTES = {
    ("api/v1/grafana/", "post"),
    ("api/v1/grafana/<str:key>/", "post"),
    ("api/v1/sources/<str:name>/", "post"),
    ("api/v1/sources/<str:name>/<str:key>/", "post"),
    ("api/v1/events/v2/enqueue", "post"),
}


def test_the_matrix_covers_every_api_route_and_method():
    listed = {(action.route.removesuffix(" (weekly)"), action.method) for action in ACTIONS}
    assert listed | SOURCE_ROUTES == _routes_and_methods()


@pytest.mark.parametrize("route", sorted(route for route, _ in SOURCE_ROUTES))
def test_an_ingest_source_takes_no_api_token_and_no_unbound_key(alpha, route):
    token = _credentials("all scopes", alpha)
    unbound = ingest_key_create(tenant=alpha, name="unbound")[1]

    def send(credential: str):
        path = "/" + route.replace("<str:name>", "mine")
        path = path.replace("<str:key>", credential)
        body = ({"routing_key": credential, "event_action": "trigger",
                 "payload": {"summary": "disk full", "source": "db1", "severity": "critical"}}
                if "events" in route else {"receiver": "x", "status": "firing", "alerts": []})
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {credential}")
        with keep_schema():
            return client.post(path, body, content_type="application/json")

    with_token, with_unbound_key = send(token), send(unbound)

    assert with_token.status_code == 401, with_token.content
    assert with_unbound_key.status_code in (403, 404), with_unbound_key.content


def _credentials(kind: str, tenant) -> str | None:
    if kind == "none":
        return None
    if kind == "ingest key":
        return ingest_key_create(tenant=tenant, name="am")[1]
    if kind in _SCOPES:
        return api_token_create(tenant=tenant, name=kind, scopes=_SCOPES[kind])[1]
    row, token = api_token_create(tenant=tenant, name=kind, scopes=list(_SCOPES["all scopes"]),
                                  expires_at=timezone.now() + timedelta(seconds=30))
    if kind == "revoked":
        hashed_key_revoke(key=row)
    else:
        type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(days=1))
    return token


def _request(action: Action, tenant, credentials: str | None, ingest_key: str):
    """Makes what the action acts on, then calls it."""
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    assert post(public_client(), payload, ingest_key).status_code == 200
    group = AlertGroup.objects.get()
    weekly = action.route.endswith("(weekly)")
    silence = (SilenceFactory(kind="weekly", weekdays=[5], window_start="22:00",
                              window_end="02:00", starts_at=None, ends_at=None)
               if weekly else SilenceFactory())
    person = PersonFactory(user__username="scopes-alice")
    team = TeamFactory(members=[person])
    schedule = ScheduleFactory(team=team)
    ScheduleLayerFactory(schedule=schedule, members=[person])
    override = ScheduleOverride.objects.create(
        schedule=schedule, person=person, kind="add",
        start=timezone.now() + timedelta(days=3), end=timezone.now() + timedelta(days=4))
    ids = {"alerts": group.alerts.get().id, "alert-groups": group.id, "silences": silence.id,
           "schedules": schedule.id, "teams": team.id}
    path = "/" + action.route.removesuffix(" (weekly)").strip("^$")
    path = path.replace("<str:key>", credentials or "hk_none")
    for collection, pk in ids.items():
        path = path.replace(f"{collection}/{_ID}", f"{collection}/{pk}")
    path = path.replace(f"overrides/{_OVERRIDE}", f"overrides/{override.id}")
    body = {}
    if action.method == "post" and "silences" in path:
        body = {"matchers": 'team="db"', "startsAt": timezone.now().isoformat(),
                "endsAt": (timezone.now() + timedelta(hours=2)).isoformat()}
        if weekly:
            body = {"matchers": 'team="db"', "weekdays": [6], "windowStart": "01:00",
                    "windowEnd": "03:00"}
    if action.method == "post" and "overrides" in path:
        body = {"kind": "add", "person": "scopes-alice",
                "start": (timezone.now() + timedelta(days=1)).isoformat(),
                "end": (timezone.now() + timedelta(days=1, hours=2)).isoformat()}
    if action.method == "post" and "alertmanager" in path:
        body = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credentials}"} if credentials else {}
    client = Client(HTTP_HOST="127.0.0.1", **headers)
    with keep_schema():
        return getattr(client, action.method)(path, body, content_type="application/json")


@pytest.mark.parametrize("kind", CREDENTIALS)
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_each_action_answers_each_credential_as_its_scopes_say(alpha, action, kind):
    credentials = _credentials(kind, alpha)

    response = _request(action, alpha, credentials, ingest_key_create(tenant=alpha, name="x")[1])

    if action.needs == "ingest":
        allowed = kind == "ingest key"
    elif kind in _SCOPES:
        allowed = action.needs in _SCOPES[kind]
    else:
        allowed = False
    if allowed:
        assert response.status_code == action.ok, response.content
    elif kind in _SCOPES and action.needs != "ingest":
        assert response.status_code == 403, response.content
        detail = response.json()["detail"]
        assert f"lacks the scope '{action.needs}'" in detail, detail
    else:
        assert response.status_code == 401, response.content


@pytest.mark.parametrize("kind", ["read", "acknowledge", "write"])
def test_a_refused_action_changes_nothing(alpha, kind):
    """What a 403 leaves: the group still open, no silence made or expired."""
    token = _credentials(kind, alpha)
    payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
    assert post(public_client(), payload, ingest_key_create(tenant=alpha, name="am")[1]
                ).status_code == 200
    group = AlertGroup.objects.get()
    weekly = SilenceFactory(kind="weekly", weekdays=[5], window_start="22:00",
                            window_end="02:00", starts_at=None, ends_at=None)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    with keep_schema():
        answers = [
            client.post(f"/api/v1/alert-groups/{group.id}/resolve/").status_code,
            client.delete(f"/api/v1/silences/{weekly.id}/").status_code,
        ]

    group.refresh_from_db()
    if kind == "read":
        assert answers == [403, 403]
        assert group.resolved_at is None
    if kind == "acknowledge":
        assert answers == [200, 403]
    if kind == "write":
        assert answers == [403, 204]
    assert Silence.objects.filter(pk=weekly.pk).exists() == (kind != "write")
