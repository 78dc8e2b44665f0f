"""A page's link acknowledges as its person: "Alice, by the link in their email"."""

from __future__ import annotations

import pytest
from django.test import Client

from alerting.audit.models import AuditEntry
from escalation.links import action_token
from escalation.models import Page
from tests.escalation.paging.conftest import policy_with, tick
from tests.factories import PersonFactory, TeamFactory
from tests.ingest import keep_schema


@pytest.fixture
def paged_team(alpha, carrier, fire, clock):
    alice = PersonFactory(user__username="alice", display_name="Alice", email="alice@example.com")
    bob = PersonFactory(user__username="bob", display_name="Bob", email="bob@example.com")
    team = TeamFactory(name="SRE", members=[alice, bob])
    group = fire(escalation_policy=policy_with([(0, [{"kind": "team", "team": team}])]))
    tick()
    return group, alice, bob


def open_link(token: str, *, submit: bool):
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    with keep_schema():
        page = client.get(f"/ack/{token}/")
        if not submit:
            return page
        csrf = page.cookies["csrftoken"].value
        return client.post(f"/ack/{token}/", {"csrfmiddlewaretoken": csrf})


def token_for(tenant, group, person, channel="email") -> str:
    return action_token(tenant=tenant, alert_group_id=group.id, incident=group.incident,
                        recipient=f"person:{person.id}", channel=channel)


def test_the_link_in_alices_mail_acknowledges_as_alice_and_stops_bobs_page(alpha, paged_team):
    group, alice, _ = paged_team

    page = open_link(token_for(alpha, group, alice), submit=False)
    assert b"Sent to Alice" in page.content
    assert open_link(token_for(alpha, group, alice), submit=True).status_code == 200

    group.refresh_from_db()
    assert group.acknowledged_by == "Alice, by the link in their email"
    # Bob's one rule had run already: his page finished, and nothing more is sent.
    assert dict(Page.objects.values_list("person_name", "state")) == {
        "Alice": "acknowledged", "Bob": "finished"}
    entry = AuditEntry.objects.get(action="acknowledge")
    assert entry.actor == "alice"
    assert entry.after["acknowledged_by"] == "Alice, by the link in their email"
    assert (entry.after["person_id"], entry.after["channel"]) == (alice.id, "email")


def test_a_link_for_a_person_since_deleted_still_acknowledges_and_says_so(alpha, paged_team):
    group, alice, _ = paged_team
    token, alice_id = token_for(alpha, group, alice), alice.id
    Page.objects.update(person=None)
    alice.delete()

    assert open_link(token, submit=True).status_code == 200
    group.refresh_from_db()
    assert group.acknowledged_by == f"person #{alice_id} (deleted), by the link in their email"


def test_pages_and_gaps_are_in_the_audit_trail_with_who_and_which_target(alpha, paged_team):
    entry = AuditEntry.objects.get(action="escalation_page")
    pages = entry.after["pages"]
    assert [(page["person"], page["target"]) for page in pages] == [
        ("Alice", "member of SRE"), ("Bob", "member of SRE")]
    assert [rule["address"] for rule in pages[0]["rules"]] == ["alice@example.com"]
