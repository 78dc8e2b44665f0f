"""A schedule's admin page: the next two weeks per layer and in the end, gaps shown,
an override in two clicks; every save bumps the schedule's version."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine

from alerting.audit.models import AuditEntry
from escalation.models import EscalationTarget, LayerRestriction, Schedule, ScheduleOverride
from escalation.schedules.services import schedule_override_create
from tests.admin.test_permissions import get, post
from tests.factories import (
    EscalationPolicyFactory,
    PersonFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday
SCHEDULES = "/admin/escalation/schedule/"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def primary(profiles):
    """Weekly, Mondays 09:00 UTC: Bob this week (from 30 Nov), Alice the next, Bob again."""
    schedule = ScheduleFactory(name="Primary", time_zone="UTC")
    ScheduleLayerFactory(schedule=schedule, name="Weekly",
                         members=[profiles["alice"], profiles["bob"]])
    return schedule


def final_rows(html: str) -> list[str]:
    table = html.split('id="final-shifts"', 1)[1].split("</table>", 1)[0]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r'<tr class="(?:gap|shift)">(.*?)</tr>', table, re.S)]


def test_the_timeline_shows_the_layer_and_the_final_result_with_a_weekend_override(
    profiles, client_of, primary
):
    carol = PersonFactory(display_name="Carol")
    schedule_override_create(
        schedule=primary, kind="replace", person=carol,
        start=datetime(2026, 12, 5, 0, 0, tzinfo=UTC), end=datetime(2026, 12, 7, 0, 0, tzinfo=UTC),
    )

    page = get(client_of("alice"), f"{SCHEDULES}{primary.pk}/change/").content.decode()

    assert "The next two weeks (UTC)" in page
    layer = page.split('data-row="Weekly"', 1)[1].split('data-row="Final result"', 1)[0]
    assert ">Bob</div>" in layer and ">Alice</div>" in layer and "Carol" not in layer
    assert final_rows(page) == [
        "Tue 1 Dec 00:00 Sat 5 Dec 00:00 Bob layer Take this shift",
        "Sat 5 Dec 00:00 Mon 7 Dec 00:00 Carol override Take this shift",
        "Mon 7 Dec 00:00 Mon 7 Dec 09:00 Bob layer Take this shift",
        "Mon 7 Dec 09:00 Mon 14 Dec 09:00 Alice layer Take this shift",
        "Mon 14 Dec 09:00 Tue 15 Dec 00:00 Bob layer Take this shift",
    ]


def test_a_gap_is_highlighted_and_can_be_covered(profiles, client_of, primary):
    layer = primary.layers.get()
    LayerRestriction.objects.create(layer=layer, weekday=None, start_time="08:00",
                                    end_time="20:00")

    page = get(client_of("erin"), f"{SCHEDULES}{primary.pk}/change/").content.decode()

    rows = final_rows(page)  # from the shift under way (the night's gap before it is over)
    assert rows[:2] == ["Tue 1 Dec 08:00 Tue 1 Dec 20:00 Bob layer Take this shift",
                        "Tue 1 Dec 20:00 Wed 2 Dec 08:00 Nobody (gap) nobody Cover this gap"]
    assert 'class="tl-bar src-nobody tl-gap"' in page
    assert "kind=add" in page


def test_an_override_in_two_clicks_takes_the_shift_for_the_member(profiles, client_of, primary):
    client = client_of("alice")
    version = Schedule.objects.get(pk=primary.pk).version
    page = get(client, f"{SCHEDULES}{primary.pk}/change/").content.decode()
    take = unescape(re.findall(r'class="take-shift" href="([^"]+)"', page)[0])

    form = get(client, take).content.decode()  # click one: the form, prefilled
    assert f'<option value="{profiles["alice"].pk}" selected>Alice</option>' in form
    # from now (not the shift's past start) to the shift's end
    assert 'value="2026-12-01 12:00:00"' in form and 'value="2026-12-07 09:00:00"' in form
    # click two: submit it as it is
    fields = dict(re.findall(r'name="(start|end)"[^>]*value="([^"]+)"', form))
    response = post(client, take, {"kind": "replace", "person": profiles["alice"].pk,
                                   "start": fields["start"], "end": fields["end"], "note": ""})

    assert response.status_code == 302, response.content.decode()[:3000]
    override = ScheduleOverride.objects.get()
    assert (override.person, override.start, override.end, override.created_by) == (
        profiles["alice"], datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC), "alice")
    assert Schedule.objects.get(pk=primary.pk).version > version
    after = get(client, f"{SCHEDULES}{primary.pk}/change/").content.decode()
    assert "Override saved: Alice" in after
    assert final_rows(after)[0] == (
        "Tue 1 Dec 12:00 Mon 7 Dec 09:00 Alice override Take this shift")
    assert AuditEntry.objects.filter(action="override_create", actor="alice").exists()


def test_a_member_overrides_only_for_themselves_an_editor_for_anyone(
    profiles, client_of, primary
):
    start, end = "2026-12-02 00:00:00", "2026-12-03 00:00:00"
    url = f"{SCHEDULES}{primary.pk}/override/"

    refused = post(client_of("alice"), url, {"kind": "replace", "person": profiles["bob"].pk,
                                             "start": start, "end": end})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not ScheduleOverride.objects.exists()

    done = post(client_of("erin"), url, {"kind": "replace", "person": profiles["bob"].pk,
                                         "start": start, "end": end})
    assert done.status_code == 302
    assert ScheduleOverride.objects.get().person == profiles["bob"]


def test_a_bad_override_is_explained_on_the_form(profiles, client_of, primary):
    url = f"{SCHEDULES}{primary.pk}/override/"
    client = client_of("erin")
    backwards = post(client, url, {"kind": "replace", "person": profiles["bob"].pk,
                                   "start": "2026-12-03 00:00:00", "end": "2026-12-02 00:00:00"})
    assert backwards.status_code == 200 and "errorlist" in backwards.content.decode()

    post(client, url, {"kind": "replace", "person": profiles["bob"].pk,
                       "start": "2026-12-02 00:00:00", "end": "2026-12-04 00:00:00"})
    overlapping = post(client, url, {"kind": "replace", "person": profiles["bob"].pk,
                                     "start": "2026-12-03 00:00:00",
                                     "end": "2026-12-05 00:00:00"})
    assert overlapping.status_code == 200
    assert "overlaps" in unescape(overlapping.content.decode())
    assert ScheduleOverride.objects.count() == 1


def test_times_on_the_page_are_the_schedules_wall_clock(profiles, client_of):
    schedule = ScheduleFactory(name="Berlin", time_zone="Europe/Berlin")
    ScheduleLayerFactory(schedule=schedule, members=[profiles["alice"]])

    page = get(client_of("alice"), f"{SCHEDULES}{schedule.pk}/change/").content.decode()

    assert "The next two weeks (Europe/Berlin)" in page
    assert final_rows(page)[0].startswith("Tue 1 Dec 00:00 Tue 15 Dec 00:00 Alice")


def test_saving_a_schedule_or_a_layer_bumps_the_version_and_warns_of_problems(
    profiles, client_of, primary
):
    layer = primary.layers.get()
    version = Schedule.objects.get(pk=primary.pk).version
    erin = client_of("erin")
    response = post(erin, f"/admin/escalation/schedulelayer/{layer.pk}/change/", {
        "name": "Weekly", "priority": "0", "start_date": "2026-01-05", "handoff_time": "09:00",
        "shift_length": "1", "shift_unit": "weeks", "start_position": "0",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0",
        "restrictions-TOTAL_FORMS": "0", "restrictions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Schedule.objects.get(pk=primary.pk).version == version + 1

    response = post(erin, f"{SCHEDULES}{primary.pk}/change/", {
        "name": "Primary", "time_zone": "UTC", "team": "",
        "layers-TOTAL_FORMS": "1", "layers-INITIAL_FORMS": "1",
        "layers-0-id": str(layer.pk), "layers-0-schedule": str(primary.pk),
        "layers-0-name": "Weekly", "layers-0-priority": "0",
        "layers-0-start_date": "2026-01-05", "layers-0-handoff_time": "09:00",
        "layers-0-shift_length": "1", "layers-0-shift_unit": "weeks",
        "layers-0-start_position": "5",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Schedule.objects.get(pk=primary.pk).version == version + 2
    warnings = unescape(get(erin, response["Location"]).content.decode())
    assert "This schedule needs attention: Layer 'Weekly': start position 5" in warnings


@pytest.mark.parametrize(("field", "value", "message"), [
    ("time_zone", "Mars/Olympus_Mons", "Unknown time zone"),
    ("layers-0-shift_length", "0", "a shift of zero length"),
])
def test_a_bad_schedule_is_refused_naming_the_field(profiles, client_of, field, value, message):
    data = {
        "name": "New", "time_zone": "UTC", "team": "",
        "layers-TOTAL_FORMS": "1", "layers-INITIAL_FORMS": "0",
        "layers-0-name": "L", "layers-0-priority": "0", "layers-0-start_date": "2026-01-05",
        "layers-0-handoff_time": "09:00", "layers-0-shift_length": "1",
        "layers-0-shift_unit": "weeks", "layers-0-start_position": "0",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
        field: value,
    }

    response = post(client_of("erin"), f"{SCHEDULES}add/", data)

    assert response.status_code == 200
    assert message in unescape(response.content.decode())
    assert not Schedule.objects.filter(name="New").exists()


def test_auditors_read_schedules_but_do_not_change_them_or_see_the_calendar_url(
    profiles, client_of, primary
):
    page = get(client_of("alice"), f"{SCHEDULES}{primary.pk}/change/").content.decode()
    assert 'name="_save"' not in page and "calendar-url" not in page
    assert post(client_of("alice"), f"{SCHEDULES}{primary.pk}/calendar/renew/",
                {}).status_code == 403

    editor_page = get(client_of("erin"), f"{SCHEDULES}{primary.pk}/change/").content.decode()
    token = Schedule.objects.get(pk=primary.pk).calendar_token
    assert f"/schedules/{primary.pk}/{token}.ics" in editor_page
    post(client_of("erin"), f"{SCHEDULES}{primary.pk}/calendar/renew/", {})
    assert Schedule.objects.get(pk=primary.pk).calendar_token != token


def test_a_level_target_must_name_what_its_kind_pages(profiles, client_of, primary):
    policy = EscalationPolicyFactory(levels=[(0, [])])
    level = policy.levels.get()
    url = f"/admin/escalation/escalationlevel/{level.pk}/change/"
    base = {"position": "0", "delay_minutes": "0",
            "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0"}

    missing = post(client_of("erin"), url, {**base, "targets-0-kind": "on_call"})
    assert missing.status_code == 200
    assert "A target of this kind names a schedule" in missing.content.decode()
    saved = post(client_of("erin"), url, {**base, "targets-0-kind": "on_call",
                                          "targets-0-schedule": str(primary.pk)})
    assert saved.status_code == 302
    assert EscalationTarget.objects.get().schedule == primary


def test_a_temporary_schedule_replaces_the_window_and_bumps_the_version(
    profiles, client_of, primary
):
    version = Schedule.objects.get(pk=primary.pk).version
    erin = client_of("erin")

    response = post(erin, "/admin/escalation/temporaryschedule/add/", {
        "schedule": str(primary.pk), "note": "holidays",
        "start_0": "2026-12-02", "start_1": "00:00:00",
        "end_0": "2026-12-03", "end_1": "00:00:00",
        "shifts-TOTAL_FORMS": "1", "shifts-INITIAL_FORMS": "0",
        "shifts-0-person": str(profiles["erin"].pk),
        "shifts-0-start_0": "2026-12-02", "shifts-0-start_1": "00:00:00",
        "shifts-0-end_0": "2026-12-03", "shifts-0-end_1": "00:00:00",
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Schedule.objects.get(pk=primary.pk).version == version + 1
    page = get(erin, f"{SCHEDULES}{primary.pk}/change/").content.decode()
    assert "Wed 2 Dec 00:00 Thu 3 Dec 00:00 Erin temporary Take this shift" in final_rows(page)


def test_deleting_an_override_goes_through_the_service(profiles, client_of, primary):
    override = schedule_override_create(
        schedule=primary, kind="add", person=profiles["alice"],
        start=datetime(2026, 12, 2, tzinfo=UTC), end=datetime(2026, 12, 3, tzinfo=UTC),
    )
    version = Schedule.objects.get(pk=primary.pk).version
    url = f"/admin/escalation/scheduleoverride/{override.pk}/delete/"

    assert post(client_of("bob"), url, {"post": "yes"}).status_code == 403
    assert post(client_of("alice"), url, {"post": "yes"}).status_code == 302  # her own

    assert not ScheduleOverride.objects.exists()
    assert Schedule.objects.get(pk=primary.pk).version == version + 1
    assert AuditEntry.objects.filter(action="override_delete", actor="alice").exists()
