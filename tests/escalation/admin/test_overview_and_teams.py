"""The overview says who is on call now in each schedule and until when, and shows gaps;
teams list their members and leads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine

from escalation.models import LayerRestriction, Team
from escalation.schedules.services import schedule_override_create
from tests.admin.test_permissions import get, post
from tests.factories import ScheduleFactory, ScheduleLayerFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def on_call_rows(html: str) -> list[str]:
    table = html.split('id="on-call-now"', 1)[1].split("</table>", 1)[0]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r"<tr class=\"(?:gap|on-call)\">(.*?)</tr>", table, re.S)]


def test_the_overview_shows_who_is_on_call_until_when_and_the_gaps(profiles, client_of):
    primary = ScheduleFactory(name="Primary")
    ScheduleLayerFactory(schedule=primary, members=[profiles["alice"], profiles["bob"]])
    night = ScheduleFactory(name="Nights")
    layer = ScheduleLayerFactory(schedule=night, members=[profiles["erin"]])
    LayerRestriction.objects.create(layer=layer, weekday=None, start_time="20:00",
                                    end_time="08:00")
    ScheduleFactory(name="Secondary")
    covering = ScheduleFactory(name="Covered")
    ScheduleLayerFactory(schedule=covering, members=[profiles["alice"]])
    schedule_override_create(schedule=covering, kind="replace", person=profiles["erin"],
                             start=datetime(2026, 12, 1, 10, tzinfo=UTC),
                             end=datetime(2026, 12, 1, 14, tzinfo=UTC))

    page = get(client_of("alice"), "/admin/overview/").content.decode()

    assert on_call_rows(page) == [
        "Covered Erin (override) Tue 1 Dec 14:00 UTC",
        "Nights Nobody: a gap in coverage Tue 1 Dec 20:00 UTC",
        "Primary Bob Mon 7 Dec 09:00 UTC",
        "Secondary Nobody: a gap in coverage 2 weeks or more",
    ]


def test_a_team_lists_its_members_and_leads(profiles, client_of):
    TeamFactory(name="SRE", members=[profiles["alice"], profiles["bob"]],
                leads=[profiles["bob"]])

    page = get(client_of("alice"), "/admin/escalation/team/").content.decode()

    row = re.search(r"<tr[^>]*>.*?SRE.*?</tr>", page, re.S).group(0)
    assert "Alice, Bob" in row and ">Bob<" in row


def test_only_editors_change_teams(profiles, client_of):
    team = TeamFactory(name="SRE", members=[profiles["alice"]])
    data = {"name": "Renamed", "escalation_policy": "",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}

    assert post(client_of("alice"), f"/admin/escalation/team/{team.pk}/change/",
                data).status_code == 403
    assert post(client_of("erin"), f"/admin/escalation/team/{team.pk}/change/",
                data).status_code == 302
    assert Team.objects.get(pk=team.pk).name == "Renamed"


def test_a_schedule_whose_zone_went_bad_in_the_database_is_named_not_a_500(
    profiles, client_of
):
    from escalation.models import Schedule

    broken = ScheduleFactory(name="Broken")
    ScheduleLayerFactory(schedule=broken, members=[profiles["alice"]])
    Schedule.objects.filter(pk=broken.pk).update(time_zone="Mars/Olympus_Mons")
    client = client_of("erin")

    overview = get(client, "/admin/overview/")
    assert overview.status_code == 200
    assert on_call_rows(overview.content.decode()) == [
        "Broken Cannot tell: unknown time zone 'Mars/Olympus_Mons' 2 weeks or more"]
    page = get(client, f"/admin/escalation/schedule/{broken.pk}/change/")
    assert page.status_code == 200
    assert "Unknown time zone &#x27;Mars/Olympus_Mons&#x27;" in page.content.decode()
