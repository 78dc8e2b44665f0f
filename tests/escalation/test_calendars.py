"""An on-call person subscribes to the iCal feed of a schedule, or of their own shifts.

The feed is read back by a real iCalendar parser: the weekly rotation's
shifts, handed off on the schedule's wall clock (across a DST change too),
the override that swaps someone in, UIDs that stay put from one fetch to
the next. The URL is the only credential: renewing it kills the old one at
once, and any wrong part of it is the same 404.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context
from icalendar import Calendar

from alerting.audit.models import AuditEntry
from alerting.infra.log_redaction import redact
from escalation.calendar_feed import MAX_EVENTS, FeedShift, feed_ical
from escalation.calendars import MAX_PERSON_SCHEDULES, calendar_url, calendar_url_renew
from escalation.models import ScheduleOverride, TemporarySchedule
from tenants.models import TenantMembership
from tests.factories import PersonFactory, ScheduleFactory, ScheduleLayerFactory
from tests.ingest import keep_schema

# A Monday; the feed covers 2027-02-22 00:00 UTC (a week back) to 366 days ahead.
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
WINDOW_START = datetime(2027, 2, 22, tzinfo=UTC)
WINDOW_END = WINDOW_START + timedelta(days=7 + 366)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rota(alpha):
    """Alice and Bob alternate weekly in Berlin, handing off Mondays at 09:00."""
    alice = PersonFactory(user__username="alice", display_name="Alice")
    bob = PersonFactory(user__username="bob", display_name="Bob")
    schedule = ScheduleFactory(name="primary", time_zone="Europe/Berlin")
    ScheduleLayerFactory(schedule=schedule, start_date=datetime(2027, 1, 4).date(),
                         members=[alice, bob])
    return schedule, alice, bob


def fetch(url: str, **headers):
    path = url.removeprefix(settings.HERALD_BASE_URL)
    with keep_schema():
        return Client(HTTP_HOST="127.0.0.1").get(path, **headers)


def events(response) -> list:
    assert response.status_code == 200, response.content
    calendar = Calendar.from_ical(response.content)
    return sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("dtstart"))


def span(event) -> tuple[datetime, datetime, str]:
    return event.decoded("dtstart"), event.decoded("dtend"), str(event["summary"])


def at(day: int, hour: int, month: int = 3, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_the_schedule_feed_holds_the_rotation_and_the_override(rota, settings):
    schedule, alice, bob = rota
    ScheduleOverride.objects.create(
        schedule=schedule, kind="replace", person=bob, replaces=alice,
        start=at(3, 12), end=at(3, 18), note="Alice at the dentist",
    )
    url = calendar_url(schedule=schedule)
    assert url.startswith(f"{settings.HERALD_BASE_URL}/calendars/alpha/schedules/{schedule.pk}/")

    response = fetch(url)

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    found = events(response)
    # Edge to edge, a week back to twelve months ahead, nobody missing.
    assert found[0].decoded("dtstart") == WINDOW_START
    assert found[-1].decoded("dtend") == WINDOW_END
    assert all(a.decoded("dtend") == b.decoded("dtstart") for a, b in pairwise(found))
    # Mondays 09:00 in Berlin are 08:00 UTC in winter; the override splits Alice's week.
    assert [span(event) for event in found[:5]] == [
        (WINDOW_START, at(22, 8, month=2), "On call: Alice"),
        (at(22, 8, month=2), at(1, 8), "On call: Bob"),
        (at(1, 8), at(3, 12), "On call: Alice"),
        (at(3, 12), at(3, 18), "On call: Bob (override)"),
        (at(3, 18), at(8, 8), "On call: Alice"),
    ]
    override = found[3]
    assert "Alice at the dentist" in str(override["description"])
    assert "Bob for Alice" in str(override["description"])
    # Summer time from 2027-03-28: the handoff stays at 09:00 in Berlin, 07:00 UTC.
    across_dst = next(event for event in found if event.decoded("dtstart") == at(22, 8))
    assert across_dst.decoded("dtend") == at(29, 7)
    # Written in UTC, with a trailing Z.
    assert b"DTSTART:20270301T080000Z" in response.content


def test_uids_are_unique_and_stay_the_same_from_one_fetch_to_the_next(rota):
    schedule, _, _ = rota
    url = calendar_url(schedule=schedule)

    first = [str(event["uid"]) for event in events(fetch(url))]
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        again = [str(event["uid"]) for event in events(fetch(url))]

    assert first == again
    assert len(set(first)) == len(first) > 50


def test_a_persons_feed_has_their_shifts_over_every_schedule(rota):
    schedule, alice, bob = rota
    database = ScheduleFactory(name="database", time_zone="UTC")
    ScheduleLayerFactory(schedule=database, start_date=datetime(2027, 1, 4).date(),
                         members=[alice])
    ScheduleOverride.objects.create(
        schedule=schedule, kind="replace", person=bob, replaces=alice,
        start=at(3, 12), end=at(3, 18),
    )

    alices = events(fetch(calendar_url(person=alice)))
    bobs = events(fetch(calendar_url(person=bob)))

    # Alice alone on the database schedule: one stretch over the whole window.
    assert (WINDOW_START, WINDOW_END, "On call: database") in [span(e) for e in alices]
    primary = [span(e) for e in alices if "primary" in str(e["summary"])]
    assert (at(1, 8), at(3, 12), "On call: primary") in primary
    assert (at(3, 18), at(8, 8), "On call: primary") in primary
    assert not any(start < at(8, 8) and end > at(1, 8) and start == at(3, 12)
                   for start, end, _ in primary)
    assert [span(e) for e in bobs][:3] == [
        (at(22, 8, month=2), at(1, 8), "On call: primary"),
        (at(3, 12), at(3, 18), "On call: primary (override)"),
        (at(8, 8), at(15, 8), "On call: primary"),
    ]


def test_renewing_the_url_kills_the_old_one_at_once_and_is_audited(rota):
    schedule, alice, _ = rota
    old_schedule_url = calendar_url(schedule=schedule)
    old_person_url = calendar_url(person=alice)

    new_schedule_url = calendar_url_renew(schedule=schedule, by="admin-ann")
    new_person_url = calendar_url_renew(person=alice, by="alice")

    assert fetch(old_schedule_url).status_code == 404
    assert fetch(old_person_url).status_code == 404
    assert fetch(new_schedule_url).status_code == 200
    assert fetch(new_person_url).status_code == 200
    assert new_schedule_url != old_schedule_url
    entries = AuditEntry.objects.filter(action="calendar_url_renew").order_by("id")
    assert [(e.actor, e.object_type, e.object_id) for e in entries] == [
        ("admin-ann", "escalation.schedule", str(schedule.pk)),
        ("alice", "escalation.person", str(alice.pk)),
    ]
    new_token = new_schedule_url.rsplit("/", 1)[1].removesuffix(".ics")
    for entry in entries:
        assert new_token not in f"{entry.before} {entry.after} {entry.object_repr}"


def test_every_wrong_part_of_the_url_is_the_same_404(rota, beta):
    schedule, alice, _ = rota
    good = calendar_url(schedule=schedule)
    base, token = good.rsplit("/", 1)
    with tenant_context(beta):
        theirs = ScheduleFactory(name="beta-primary")
        their_url = calendar_url(schedule=theirs)
    their_token = their_url.rsplit("/", 1)[1]
    wrong = {
        "token": f"{base}/{'x' * 43}.ics",
        "token cut short": f"{base}/{token[:-6]}.ics",
        "tenant": good.replace("/calendars/alpha/", "/calendars/beta/"),
        "unknown tenant": good.replace("/calendars/alpha/", "/calendars/gamma/"),
        "other tenant's id and token under alpha": their_url.replace("/beta/", "/alpha/"),
        "alpha's id with beta's token": f"{base}/{their_token}",
        "id": good.replace(f"/schedules/{schedule.pk}/", f"/schedules/{schedule.pk + 999}/"),
        "kind": good.replace("/schedules/", "/people/"),
        "unknown kind": good.replace("/schedules/", "/teams/"),
        "person's token for the schedule": f"{base}/{alice.calendar_token}.ics",
        "overlong token": f"{base}/{'a' * 5000}.ics",
    }

    answers = {why: fetch(url) for why, url in wrong.items()}

    assert {why: r.status_code for why, r in answers.items()} == dict.fromkeys(wrong, 404)
    assert {r.content for r in answers.values()} == {b"No such calendar.\n"}
    assert fetch(good).status_code == 200
    assert fetch(their_url).status_code == 200


def test_an_hourly_rotation_for_a_year_stays_fast_and_bounded(alpha):
    people = PersonFactory.create_batch(3)
    schedule = ScheduleFactory(name="hourly", time_zone="UTC")
    ScheduleLayerFactory(schedule=schedule, start_date=datetime(2027, 1, 1).date(),
                         shift_length=1, shift_unit="hours", members=people)
    url = calendar_url(schedule=schedule)

    first, took = timed(lambda: fetch(url))
    again, took_again = timed(lambda: fetch(url))
    unchanged = fetch(url, HTTP_IF_NONE_MATCH=first["ETag"])

    found = events(first)
    assert len(found) == (WINDOW_END - WINDOW_START) // timedelta(hours=1) < MAX_EVENTS
    assert len(first.content) < 4_000_000
    assert took < 15, f"{took:.1f} s for {len(found)} events"  # ~1.5 s when idle
    # Polling clients: the finished feed is kept, and a client with it gets a 304.
    assert again.content == first.content and took_again < took / 2
    assert (unchanged.status_code, unchanged.content) == (304, b"")


def test_a_change_to_the_schedule_changes_the_feed_at_once(rota):
    schedule, alice, bob = rota
    url = calendar_url(schedule=schedule)
    before = fetch(url)

    ScheduleOverride.objects.create(schedule=schedule, kind="replace", person=bob,
                                    replaces=alice, start=at(3, 12), end=at(3, 18))
    alice.display_name = "Alice Liddell"
    alice.save()
    after = fetch(url, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    summaries = [str(event["summary"]) for event in events(after)]
    assert "On call: Bob (override)" in summaries
    assert "On call: Alice Liddell" in summaries


def test_a_feed_stops_when_it_reaches_its_bound():
    start = datetime(2027, 3, 1, tzinfo=UTC)
    shifts = [FeedShift(schedule_id=1, schedule_name="hourly", start=start + timedelta(hours=n),
                        end=start + timedelta(hours=n + 1), people=("Alice",), source="layer")
              for n in range(30)]

    body = feed_ical(name="On call: hourly", feed="schedule-1", domain="alpha.example",
                     shifts=iter(shifts), stamp=start, max_events=24)

    calendar = Calendar.from_ical(body)
    assert len(calendar.walk("VEVENT")) == 24
    assert "Only the first 24 shifts" in str(calendar["x-wr-caldesc"])


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_the_urls_secret_never_reaches_the_log(rota):
    """Django logs every 404 with its path; the log handler's filter cuts the token."""
    schedule, alice, _ = rota
    for url in (calendar_url(schedule=schedule), calendar_url(person=alice)):
        path = url.removeprefix(settings.HERALD_BASE_URL)
        token = path.rsplit("/", 1)[1].removesuffix(".ics")

        logged = redact(f"Not Found: {path}")

        assert token not in logged
        assert logged == f"Not Found: {path.rsplit('/', 1)[0]}/[redacted]"


def test_someone_who_left_the_tenant_no_longer_gets_their_feed(rota):
    schedule, alice, _ = rota
    url = calendar_url(person=alice)
    assert fetch(url).status_code == 200

    TenantMembership.objects.filter(user_id=alice.user_id).delete()

    assert fetch(url).status_code == 404
    assert fetch(calendar_url(schedule=schedule)).status_code == 200


def test_a_calendar_client_may_ask_with_head_first(rota):
    schedule, _, _ = rota
    path = calendar_url(schedule=schedule).removeprefix(settings.HERALD_BASE_URL)

    with keep_schema():
        answer = Client(HTTP_HOST="127.0.0.1").head(path)

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/calendar; charset=utf-8"


def test_a_schedule_with_an_unknown_zone_is_a_409_and_left_out_of_a_persons_feed(rota):
    schedule, alice, _ = rota
    database = ScheduleFactory(name="database", time_zone="UTC")
    ScheduleLayerFactory(schedule=database, members=[alice])
    type(schedule).objects.filter(pk=schedule.pk).update(time_zone="Mars/Olympus_Mons")

    broken = fetch(calendar_url(schedule=schedule))
    alices = events(fetch(calendar_url(person=alice)))

    assert broken.status_code == 409
    assert b"time zone" in broken.content
    assert {str(event["summary"]) for event in alices} == {"On call: database"}


def test_a_persons_feed_covers_a_bounded_number_of_schedules_and_says_so(alpha):
    alice = PersonFactory(display_name="Alice")
    for number in range(MAX_PERSON_SCHEDULES + 1):
        ScheduleLayerFactory(schedule=ScheduleFactory(name=f"s{number:02d}"), members=[alice])

    response = fetch(calendar_url(person=alice))

    shown = {str(event["summary"]) for event in events(response)}
    assert shown == {f"On call: s{number:02d}" for number in range(MAX_PERSON_SCHEDULES)}
    description = str(Calendar.from_ical(response.content)["x-wr-caldesc"])
    assert f"Only the first {MAX_PERSON_SCHEDULES} of this person's schedules" in description


def test_a_temporary_schedule_replaces_the_rotation_in_the_feed(rota):
    schedule, alice, _ = rota
    offsite = TemporarySchedule.objects.create(schedule=schedule, start=at(10, 0),
                                               end=at(11, 0), note="Team offsite")
    offsite.shifts.create(person=alice, start=at(10, 0), end=at(11, 0))

    found = [event for event in events(fetch(calendar_url(schedule=schedule)))
             if at(8, 8) <= event.decoded("dtstart") < at(15, 8)]

    assert [span(event) for event in found] == [
        (at(8, 8), at(10, 0), "On call: Bob"),
        (at(10, 0), at(11, 0), "On call: Alice (temporary schedule)"),
        (at(11, 0), at(15, 8), "On call: Bob"),
    ]
    assert "Temporary schedule: Team offsite" in str(found[1]["description"])
