"""An SRE sees in the admin whom a group paged, how and under which schedule version, and
every level that found nobody: on the group's page, on the overview, in the notifications.

Each story fires an alert through ingest and runs the tick, then reads the admin pages as
an auditor of the tenant (auditors read everything, change nothing).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import LayerRestriction, Page
from escalation.paging.selectors import GROUP_ROWS_LIMIT
from escalation.schedules.services import schedule_changed
from receivers.models import Notification
from tenants.models import Tenant
from tests.admin.test_permissions import get
from tests.escalation.paging.conftest import email_config, policy_with, tick, weekly_rotation
from tests.factories import (
    PersonFactory,
    ReceiverFactory,
    RouteFactory,
    TeamFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


@pytest.fixture
def people(alpha, carrier):
    return {
        name: PersonFactory(user__username=name, display_name=name.title(),
                            email=f"{name}@example.com")
        for name in ("alice", "bob", "dave")
    }


@pytest.fixture
def berlin(alpha):
    """alpha's clock is Berlin's: the test's 10:00 UTC reads 11:00 on its pages."""
    Tenant.objects.filter(pk=alpha.pk).update(time_zone="Europe/Berlin")
    connection.tenant.time_zone = "Europe/Berlin"


def as_member(person) -> Client:
    client = Client(HTTP_HOST=f"{connection.tenant.slug}.localhost")
    client.force_login(person.user)
    return client


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def part(html: str, element_id: str, end: str = "</table>") -> str:
    assert f'id="{element_id}"' in html, f"no #{element_id} on the page"
    return html.split(f'id="{element_id}"', 1)[1].split(end, 1)[0]


def rows(html: str, element_id: str) -> list[str]:
    body = part(html, element_id).split("<tbody>", 1)[1]
    return [text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def group_page(client: Client, group: AlertGroup) -> str:
    response = get(client, f"/admin/alerting/alertgroup/{group.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def saturdays_only(schedule) -> None:
    """The rotation covers Saturdays only: nobody is on call on the test's Monday morning."""
    LayerRestriction.objects.create(
        layer=schedule.layers.get(), weekday=5, start_time=time(9), end_time=time(17)
    )


def test_a_level_that_found_nobody_shows_the_gap_on_the_groups_page_and_the_overview(
    people, berlin, fire, clock
):
    primary = weekly_rotation(people["alice"], people["bob"])
    saturdays_only(primary)
    policy = policy_with(
        [(0, [{"kind": "on_call", "schedule": primary},
              {"kind": "person", "person": people["dave"], "fallback": True}])],
        name="oncall",
    )
    group = fire(escalation_policy=policy)
    tick()
    client = as_member(people["alice"])

    html = group_page(client, group)

    gap = (f"nobody on call in Primary (version {primary.version}) at 2026-11-23 10:00 UTC; "
           "next on call at 2026-11-28 09:00 UTC")
    warnings = re.findall(r'<li class="warning">(.*?)</li>', part(html, "paging-gaps", "</ul>"),
                          re.S)
    assert [text(w) for w in warnings] == [
        f"Level 1 found nobody at 11:00 (Europe/Berlin, oncall): {gap}. "
        "The level paged Dave (named by the policy)."
    ]
    assert rows(html, "paging-gap-rows") == [
        f"2026-11-23 11:00:00 oncall 1 {gap} Dave (named by the policy)"
    ]
    assert rows(html, "paging-pages") == [
        "Dave named by the policy — 1 Finished (every notification rule ran) "
        "2026-11-23 11:00:00 2026-11-23 11:00:00 email to dave@example.com : pending (11:00:00)"
    ]
    assert "People paged (1; times in Europe/Berlin)" in text(html)
    assert "Gaps: levels that found nobody (1)" in text(html)
    assert 'class="paging-table"' in html and "herald/paging.css" in html

    overview = get(client, "/admin/overview/").content.decode()
    assert rows(overview, "recent-gaps") == [
        f"Mon 23 Nov 11:00 oncall 1 {gap} Dave (named by the policy) group {group.pk}"
    ]
    assert f'href="/admin/alerting/alertgroup/{group.pk}/change/"' in part(overview, "recent-gaps")
    assert "(1; times in Europe/Berlin)" in text(overview)

    clock.shift(timedelta(hours=25))  # a day later the gap has left the overview, not the group
    overview = get(client, "/admin/overview/").content.decode()
    assert rows(overview, "recent-gaps") == ["None in the last 24 hours."]
    assert len(rows(group_page(client, group), "paging-gap-rows")) == 1


def test_when_the_fallback_finds_nobody_either_the_page_says_nobody_was_paged(
    people, fire, clock
):
    people["dave"].contact_methods.update(verified_at=None)
    primary = weekly_rotation(people["alice"])
    saturdays_only(primary)
    policy = policy_with(
        [(0, [{"kind": "on_call", "schedule": primary},
              {"kind": "person", "person": people["dave"], "fallback": True}])],
        name="oncall",
    )
    group = fire(escalation_policy=policy)
    tick()

    html = group_page(as_member(people["bob"]), group)

    warnings = [text(w) for w in re.findall(r'<li class="warning">(.*?)</li>', html, re.S)]
    assert len(warnings) == 3
    assert warnings[0].startswith("Level 1 found nobody at 10:00 (UTC, oncall): nobody on call")
    assert warnings[1:] == [
        "Level 1's fallback found nobody at 10:00 (UTC, oncall): named by the policy: "
        "Dave has no verified contact method. Nobody was paged by the fallback either.",
        "Level 1's fallback found nobody at 10:00 (UTC, oncall): the fallback found nobody "
        "either: nobody was paged. Nobody was paged by the fallback either.",
    ]
    assert rows(html, "paging-pages") == ["Nobody was paged for this group."]


def test_a_page_shows_its_person_target_and_the_schedule_version_that_chose_them(
    people, fire, clock
):
    primary = weekly_rotation(people["alice"], people["bob"])
    policy = policy_with([(0, [{"kind": "on_call", "schedule": primary}])], name="oncall")
    group = fire(escalation_policy=policy)
    tick()
    chosen_under = primary.version
    schedule_changed(schedule_id=primary.pk)  # an edit after the page: the page keeps its version
    client = as_member(people["bob"])

    html = group_page(client, group)

    assert rows(html, "paging-pages") == [
        f"Alice on call in Primary Primary , version {chosen_under} 1 "
        "Finished (every notification rule ran) 2026-11-23 10:00:00 2026-11-23 10:00:00 "
        "email to alice@example.com : pending (10:00:00)"
    ]
    assert f'href="/admin/escalation/schedule/{primary.pk}/change/"' in part(html, "paging-pages")
    assert 'id="paging-gaps"' not in html and 'id="paging-gap-rows"' not in html
    # The notifications field names the page's person and address beside the carrier.
    assert "firing → mail (email) , page to Alice at alice@example.com: pending" in text(html)

    notification = Notification.objects.get(page__person_name="Alice")
    listing = get(client, "/admin/receivers/notification/").content.decode()
    assert "Alice at alice@example.com" in text(listing)
    detail = get(client, f"/admin/receivers/notification/{notification.pk}/change/")
    assert detail.status_code == 200
    detail_text = text(detail.content.decode())
    assert "Alice at alice@example.com" in detail_text
    assert f"Alice, on call in Primary, schedule version {chosen_under}, level 1: finished" \
        in detail_text
    found = get(client, "/admin/receivers/notification/?q=alice%40example.com").content.decode()
    assert "Alice at alice@example.com" in text(found)


def _fire_in_beta(beta, ingest_key) -> AlertGroup:
    """beta's own story: its on-call Mallory is paged, its Primary finds nobody at level 2."""
    with tenant_context(beta):
        ReceiverFactory(name="beta-mail", kind="email", carries_pages=True,
                        config=email_config(), secrets={})
        mallory = PersonFactory(user__username="mallory-b", display_name="Mallory",
                                email="mallory@beta.example")
        covered = weekly_rotation(mallory, name="BetaDuty")
        empty = weekly_rotation(mallory, name="BetaNights")
        saturdays_only(empty)
        policy = policy_with([(0, [{"kind": "on_call", "schedule": covered}]),
                              (0, [{"kind": "on_call", "schedule": empty}])], name="beta-policy")
        RouteFactory(receivers=[], escalation_policy=policy)
        payload = WebhookPayloadFactory(alerts=[WebhookAlertFactory()])
        assert post(public_client(), payload, ingest_key(beta)).status_code == 200
        tick()
        tick()
        assert Page.objects.count() >= 1
        return AlertGroup.objects.get(group_key=payload["groupKey"])


def test_another_tenants_pages_and_gaps_never_show(people, beta, ingest_key, fire, clock):
    primary = weekly_rotation(people["alice"])
    mine = fire(escalation_policy=policy_with([(0, [{"kind": "on_call", "schedule": primary}])]))
    tick()
    theirs = _fire_in_beta(beta, ingest_key)
    client = as_member(people["alice"])

    html = group_page(client, mine)
    assert [row.split(" ")[0] for row in rows(html, "paging-pages")] == ["Alice"]
    assert "Mallory" not in html and "beta.example" not in html
    assert get(client, f"/admin/alerting/alertgroup/{theirs.pk}/change/").status_code in (302, 404)

    overview = get(client, "/admin/overview/").content.decode()
    assert rows(overview, "recent-gaps") == ["None in the last 24 hours."]
    listing = text(get(client, "/admin/receivers/notification/").content.decode())
    assert "alice@example.com" in listing and "mallory" not in listing.lower()

    # beta's own members do see beta's gap, on beta's host.
    with tenant_context(beta):
        mallory = PersonFactory._meta.model.objects.get(display_name="Mallory")
        beta_overview = get(as_member(mallory), "/admin/overview/").content.decode()
    beta_gaps = rows(beta_overview, "recent-gaps")
    assert len(beta_gaps) == 2 and all(" beta-policy 2 " in row for row in beta_gaps)
    assert any("nobody on call in BetaNights" in row for row in beta_gaps)


def test_a_level_with_hundreds_of_gaps_shows_the_first_ones_and_says_how_many(
    people, fire, clock
):
    unreachable = [PersonFactory(user__username=f"nomail{n}", display_name=f"Nomail {n:03}")
                   for n in range(GROUP_ROWS_LIMIT + 1)]  # no contact method: each one a gap
    team = TeamFactory(name="Crowd", members=unreachable)
    group = fire(escalation_policy=policy_with([(0, [{"kind": "team", "team": team}])]))
    tick()

    html = group_page(as_member(people["alice"]), group)

    warnings = [text(w) for w in re.findall(r'<li class="warning">(.*?)</li>', html, re.S)]
    assert len(warnings) == 11
    assert warnings[0].endswith("member of Crowd: Nomail 000 has no verified contact method. "
                                "Nobody was paged at this level.")
    total = GROUP_ROWS_LIMIT + 2  # every member, and the level that paged nobody
    assert warnings[-1] == (f"{total} gaps in all: see the table of gaps below "
                            f"(its first {GROUP_ROWS_LIMIT}).")
    assert len(rows(html, "paging-gap-rows")) == GROUP_ROWS_LIMIT
    assert f"Gaps: levels that found nobody ({total})" in text(html)
