"""A chat bot asks Herald who is on call, and an SRE swaps a shift from a script.

Schedules and teams are read with a `read` token; overrides change who is
paged, so they need `write`. Each tenant sees only its own schedules, and
bad input is a 400 that names the field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting.audit.models import AuditEntry
from escalation.models import ScheduleOverride
from tenants.services import api_token_create
from tests.factories import PersonFactory, ScheduleFactory, ScheduleLayerFactory, TeamFactory
from tests.ingest import keep_schema

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)  # a Monday: Alice's week


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=UTC)


class Api:
    def __init__(self, tenant, *scopes: str):
        token = api_token_create(tenant=tenant, name="-".join(scopes) or "none",
                                 scopes=list(scopes))[1]
        self.client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, **params):
        with keep_schema():
            return self.client.get(path, params)

    def post(self, path: str, body: dict):
        with keep_schema():
            return self.client.post(path, body, content_type="application/json")

    def delete(self, path: str):
        with keep_schema():
            return self.client.delete(path)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def oncall(alpha):
    """Team "payments": Alice and Bob alternate weekly in Berlin (Mondays 09:00);
    Carol covers the nights of a secondary schedule."""
    alice = PersonFactory(user__username="alice", display_name="Alice A.")
    bob = PersonFactory(user__username="bob", display_name="Bob B.")
    carol = PersonFactory(user__username="carol", display_name="Carol C.")
    team = TeamFactory(name="payments", members=[alice, bob, carol], leads=[carol])
    primary = ScheduleFactory(name="primary", time_zone="Europe/Berlin", team=team)
    layer = ScheduleLayerFactory(schedule=primary, name="weekly", priority=1,
                                 start_date=datetime(2027, 1, 4).date(), members=[alice, bob])
    layer.restrictions.create(weekday=None, start_time="08:00", end_time="20:00")
    ScheduleLayerFactory(schedule=primary, name="nights", priority=0,
                         start_date=datetime(2027, 1, 4).date(), members=[carol])
    nights = ScheduleFactory(name="secondary", time_zone="UTC", team=team)
    ScheduleLayerFactory(schedule=nights, start_date=datetime(2027, 1, 4).date(),
                         members=[carol])
    return {"team": team, "primary": primary, "secondary": nights,
            "alice": alice, "bob": bob, "carol": carol}


@pytest.fixture
def theirs(beta):
    """Beta's schedule, team and override, with ids alpha has no object under (each
    schema counts its own ids, so they could otherwise coincide)."""
    with tenant_context(beta):
        mallory = PersonFactory(user__username="mallory")
        schedule = ScheduleFactory(name="beta-primary", id=7_000_001)
        ScheduleLayerFactory(schedule=schedule, members=[mallory])
        override = ScheduleOverride.objects.create(
            id=7_000_002, schedule=schedule, person=mallory, kind="add", start=at(2, 0),
            end=at(2, 6))
        team = TeamFactory(name="beta-team", members=[mallory], id=7_000_003)
    return {"schedule": schedule, "override": override, "team": team}


def names(people: list[dict]) -> list[str]:
    return [person["username"] for person in people]


def test_a_read_token_lists_its_tenants_schedules_only(oncall, theirs, alpha):
    listing = Api(alpha, "read").get("/api/v1/schedules/")

    assert listing.status_code == 200, listing.content
    assert [s["name"] for s in listing.json()["results"]] == ["primary", "secondary"]
    assert listing.json()["results"][0]["team"] == {"id": oncall["team"].id, "name": "payments"}


def test_a_schedules_page_shows_layers_members_restrictions_and_upcoming_overrides(
    oncall, alpha
):
    primary, alice, bob = oncall["primary"], oncall["alice"], oncall["bob"]
    ScheduleOverride.objects.create(schedule=primary, person=bob, replaces=alice,
                                    start=at(3, 12), end=at(3, 18), note="dentist")
    ScheduleOverride.objects.create(schedule=primary, person=bob, kind="add",
                                    start=at(20, 0, month=2), end=at(21, 0, month=2))

    page = Api(alpha, "read").get(f"/api/v1/schedules/{primary.id}/")

    assert page.status_code == 200, page.content
    body = page.json()
    assert body["timeZone"] == "Europe/Berlin" and body["version"] >= 1
    weekly, nights = body["layers"]
    assert (weekly["name"], weekly["shiftUnit"], weekly["handoffTime"]) == (
        "weekly", "weeks", "09:00:00")
    assert weekly["members"] == [
        {"position": 0, "username": "alice", "displayName": "Alice A."},
        {"position": 1, "username": "bob", "displayName": "Bob B."},
    ]
    assert weekly["restrictions"] == [
        {"weekday": None, "startTime": "08:00:00", "endTime": "20:00:00"}]
    assert names(nights["members"]) == ["carol"]
    # The past override is history; only the coming one is listed.
    (upcoming,) = body["upcomingOverrides"]
    assert upcoming["kind"] == "replace" and upcoming["note"] == "dentist"
    assert upcoming["person"] == {"username": "bob", "displayName": "Bob B."}
    assert upcoming["replaces"] == {"username": "alice", "displayName": "Alice A."}


def test_who_is_on_call_now_and_at_a_time_per_schedule(oncall, alpha):
    primary = oncall["primary"]
    api = Api(alpha, "read")

    now = api.get(f"/api/v1/schedules/{primary.id}/on-call/")
    tonight = api.get(f"/api/v1/schedules/{primary.id}/on-call/", at="2027-03-01T23:30:00Z")
    next_week = api.get(f"/api/v1/schedules/{primary.id}/on-call/",
                        at="2027-03-09T10:00:00+01:00")

    assert now.status_code == 200, now.content
    assert now.json()["at"] == "2027-03-01T12:00:00Z"
    assert names(now.json()["people"]) == ["alice"]
    assert now.json()["source"] == "layer"
    assert now.json()["people"][0]["displayName"] == "Alice A."
    # Outside the weekly layer's 08:00-20:00 window the nights layer has Carol.
    assert names(tonight.json()["people"]) == ["carol"]
    assert names(next_week.json()["people"]) == ["bob"]


def test_who_is_on_call_in_each_of_a_teams_schedules(oncall, alpha):
    team = oncall["team"]

    answer = Api(alpha, "read").get(f"/api/v1/teams/{team.id}/on-call/")

    assert answer.status_code == 200, answer.content
    assert answer.json()["team"] == {"id": team.id, "name": "payments"}
    assert [(s["schedule"]["name"], names(s["people"])) for s in answer.json()["schedules"]] == [
        ("primary", ["alice"]), ("secondary", ["carol"])]
    detail = Api(alpha, "read").get(f"/api/v1/teams/{team.id}/").json()
    assert [(m["username"], m["role"]) for m in detail["members"]] == [
        ("alice", "member"), ("bob", "member"), ("carol", "lead")]
    assert [s["name"] for s in detail["schedules"]] == ["primary", "secondary"]


def test_a_write_token_swaps_a_shift_and_removes_the_swap(oncall, alpha):
    primary = oncall["primary"]
    api = Api(alpha, "write", "read")

    made = api.post(f"/api/v1/schedules/{primary.id}/overrides/", {
        "kind": "replace", "person": "bob", "replaces": "alice",
        "start": "2027-03-03T12:00:00Z", "end": "2027-03-03T18:00:00Z", "note": "dentist",
    })

    assert made.status_code == 201, made.content
    assert made.json()["person"]["username"] == "bob"
    assert made.json()["replaces"]["username"] == "alice"
    during = api.get(f"/api/v1/schedules/{primary.id}/on-call/", at="2027-03-03T13:00:00Z")
    assert (names(during.json()["people"]), during.json()["source"]) == (["bob"], "override")
    assert during.json()["version"] == primary.version + 1
    override = ScheduleOverride.objects.get(pk=made.json()["id"])
    assert override.created_by.startswith("token:write-read")

    gone = api.delete(f"/api/v1/schedules/{primary.id}/overrides/{override.id}/")

    assert gone.status_code == 204, gone.content
    assert not ScheduleOverride.objects.filter(pk=override.pk).exists()
    after = api.get(f"/api/v1/schedules/{primary.id}/on-call/", at="2027-03-03T13:00:00Z")
    assert names(after.json()["people"]) == ["alice"]
    assert after.json()["version"] == primary.version + 2
    trail = AuditEntry.objects.filter(object_type="escalation.scheduleoverride").order_by("id")
    assert [(e.action, e.source, e.actor.startswith("token:write-read")) for e in trail] == [
        ("override_create", "api", True), ("override_delete", "api", True)]


@pytest.mark.parametrize("scopes", [("read",), ("acknowledge",), ("read", "acknowledge")])
def test_a_token_without_write_cannot_touch_overrides(oncall, alpha, scopes):
    primary = oncall["primary"]
    existing = ScheduleOverride.objects.create(schedule=primary, person=oncall["bob"],
                                               kind="add", start=at(4, 0), end=at(4, 6))
    api = Api(alpha, *scopes)

    made = api.post(f"/api/v1/schedules/{primary.id}/overrides/", {
        "person": "bob", "start": "2027-03-03T12:00:00Z", "end": "2027-03-03T18:00:00Z"})
    gone = api.delete(f"/api/v1/schedules/{primary.id}/overrides/{existing.id}/")

    assert (made.status_code, gone.status_code) == (403, 403)
    assert "lacks the scope 'write'" in made.json()["detail"]
    assert list(ScheduleOverride.objects.values_list("id", flat=True)) == [existing.id]


def test_another_tenants_schedules_teams_and_overrides_are_not_found(
    oncall, theirs, alpha, beta
):
    api = Api(alpha, "read", "write")
    schedule, override, team = theirs["schedule"], theirs["override"], theirs["team"]
    mine = oncall["primary"]

    answers = {
        "detail": api.get(f"/api/v1/schedules/{schedule.id}/"),
        "on call": api.get(f"/api/v1/schedules/{schedule.id}/on-call/"),
        "team": api.get(f"/api/v1/teams/{team.id}/"),
        "team on call": api.get(f"/api/v1/teams/{team.id}/on-call/"),
        "override create": api.post(f"/api/v1/schedules/{schedule.id}/overrides/", {
            "person": "mallory", "start": "2027-03-03T12:00:00Z",
            "end": "2027-03-03T18:00:00Z"}),
        "override delete": api.delete(
            f"/api/v1/schedules/{schedule.id}/overrides/{override.id}/"),
        "their override through my schedule": api.delete(
            f"/api/v1/schedules/{mine.id}/overrides/{override.id}/"),
        "unknown schedule": api.get("/api/v1/schedules/999999/on-call/"),
    }

    assert {why: r.status_code for why, r in answers.items()} == dict.fromkeys(answers, 404)
    assert [t["name"] for t in api.get("/api/v1/teams/").json()["results"]] == ["payments"]
    with tenant_context(beta):
        assert ScheduleOverride.objects.filter(pk=override.pk).exists()


@pytest.mark.parametrize(("at_value", "why"), [
    ("yesterday", "format"),
    ("2027-13-01T00:00:00Z", "format"),
    ("9999-12-31T23:59:59Z", "days of now"),
    ("1900-01-01T00:00:00Z", "days of now"),
])
def test_a_bad_at_is_a_400_naming_it(oncall, alpha, at_value, why):
    answer = Api(alpha, "read").get(f"/api/v1/schedules/{oncall['primary'].id}/on-call/",
                                    at=at_value)

    assert answer.status_code == 400, answer.content
    assert why in " ".join(answer.json()["at"]).lower()


def _override(**changes) -> dict:
    body = {"kind": "replace", "person": "bob", "replaces": "alice",
            "start": "2027-03-03T12:00:00Z", "end": "2027-03-03T18:00:00Z"}
    body.update(changes)
    return {field: value for field, value in body.items() if value is not None}


@pytest.mark.parametrize(("body", "field"), [
    (_override(person="nobody-here"), "person"),
    (_override(replaces="nobody-here"), "replaces"),
    (_override(kind="swap"), "kind"),
    (_override(end=None), "end"),
    (_override(start="soon"), "start"),
    (_override(end="3027-01-01T00:00:00Z"), "end"),
    (_override(note="x" * 201), "note"),
    (_override(person="x" * 151), "person"),
    (_override(end="2027-03-03T11:00:00Z"), "end"),
])
def test_a_bad_override_is_a_400_naming_the_field(oncall, alpha, body, field):
    answer = Api(alpha, "write").post(
        f"/api/v1/schedules/{oncall['primary'].id}/overrides/", body)

    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert not ScheduleOverride.objects.exists()


def test_an_overlapping_override_is_refused_with_the_field(oncall, alpha):
    api = Api(alpha, "write")
    path = f"/api/v1/schedules/{oncall['primary'].id}/overrides/"
    assert api.post(path, _override()).status_code == 201

    again = api.post(path, _override(start="2027-03-03T15:00:00Z", end="2027-03-03T20:00:00Z"))

    assert again.status_code == 400, again.content
    assert set(again.json()) & {"start", "end", "person"}, again.json()
    assert ScheduleOverride.objects.count() == 1


def test_an_override_for_someone_outside_the_schedule_is_refused(oncall, alpha):
    PersonFactory(user__username="dave")

    answer = Api(alpha, "write").post(
        f"/api/v1/schedules/{oncall['primary'].id}/overrides/", _override(person="dave"))

    assert answer.status_code == 400, answer.content
    assert "person" in answer.json(), answer.json()


def test_the_override_list_moves_on_as_time_passes(oncall, alpha):
    primary = oncall["primary"]
    ScheduleOverride.objects.create(schedule=primary, person=oncall["bob"], kind="add",
                                    start=at(3, 12), end=at(3, 18))
    api = Api(alpha, "read")

    with time_machine.travel(at(3, 12) + timedelta(days=1), tick=False):
        later = api.get(f"/api/v1/schedules/{primary.id}/").json()

    assert later["upcomingOverrides"] == []


_TIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.sampled_from([UTC, None])).map(lambda moment: moment.isoformat()),
    st.sampled_from(["2027-03-03T12:00:00Z", "2027-03-03T18:00:00Z", "", "now", "T", "-1"]),
    st.integers(), st.none(),
)
_FIELDS = {"kind", "person", "replaces", "start", "end", "note", "schedule",
           "non_field_errors"}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["replace", "add", "remove", "", "swap"]), st.integers()),
    "person": st.one_of(st.sampled_from(["alice", "bob", "carol", "", "x" * 151]),
                        st.text(max_size=20), st.integers(), st.lists(st.text(), max_size=2)),
    "replaces": st.one_of(st.sampled_from(["alice", "bob", ""]), st.none(), st.integers()),
    "start": _TIMES,
    "end": _TIMES,
    "note": st.one_of(st.text(max_size=250), st.none(), st.integers()),
}))
def test_any_override_body_is_made_or_refused_by_field_never_a_500(oncall, alpha, body):
    answer = Api(alpha, "write").post(
        f"/api/v1/schedules/{oncall['primary'].id}/overrides/", body)

    assert answer.status_code in (201, 400), (body, answer.content)
    if answer.status_code == 400:
        assert set(answer.json()) <= _FIELDS and answer.json(), (body, answer.json())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(moment=st.one_of(_TIMES.filter(lambda value: value is not None).map(str),
                        st.text(max_size=40)))
def test_any_at_is_answered_or_refused_by_name_never_a_500(oncall, alpha, moment):
    answer = Api(alpha, "read").get(f"/api/v1/teams/{oncall['team'].id}/on-call/", at=moment)

    assert answer.status_code in (200, 400), (moment, answer.content)
    if answer.status_code == 400:
        assert set(answer.json()) == {"at"}


def test_a_schedule_stored_with_an_unknown_zone_is_a_409_saying_so(oncall, alpha):
    primary = oncall["primary"]
    type(primary).objects.filter(pk=primary.pk).update(time_zone="Mars/Olympus_Mons")
    api = Api(alpha, "read")

    on_call = api.get(f"/api/v1/schedules/{primary.id}/on-call/")
    team = api.get(f"/api/v1/teams/{oncall['team'].id}/on-call/")
    page = api.get(f"/api/v1/schedules/{primary.id}/")

    assert (on_call.status_code, team.status_code) == (409, 409)
    assert "'Mars/Olympus_Mons' is not one this server knows" in on_call.json()["detail"]
    assert page.status_code == 200 and page.json()["timeZone"] == "Mars/Olympus_Mons"
