"""An action link opens a page: GET shows the group and a button, only the POST acts.

A person's page link acts as that person; a channel's link acknowledges as
the channel, and resolving or silencing from it takes a signed-in member.
"""

from __future__ import annotations

import pytest
from django.test import Client

from alerting.audit.models import AuditEntry
from alerting.models import AlertGroup, Silence
from escalation.actions import Action
from escalation.links import action_token
from receivers.delivery.send import notification_message
from receivers.models import Notification
from tests.factories import ReceiverFactory
from tests.ingest import keep_schema


def link(tenant, group, action, *, recipient, channel=""):
    return action_token(tenant=tenant, alert_group_id=group.id, incident=group.incident,
                        recipient=recipient, action=str(action), channel=channel)


def alices_link(tenant, group, alice, action):
    return link(tenant, group, action, recipient=f"person:{alice.id}", channel="email")


def open_page(token, *, submit=False, user=None, host="127.0.0.1"):
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    with keep_schema():
        page = client.get(f"/act/{token}/")
        if not submit or "csrftoken" not in page.cookies:
            return page
        csrf = page.cookies["csrftoken"].value
        return client.post(f"/act/{token}/", {"csrfmiddlewaretoken": csrf})


def test_opening_alices_silence_link_asks_first_and_the_button_silences_as_alice(alpha, paged):
    group, alice = paged
    token = alices_link(alpha, group, alice, Action.SILENCE_4H)

    page = open_page(token)
    assert page.status_code == 200
    assert b"You act as <strong>Alice</strong>" in page.content
    assert b"Silence 4 h" in page.content and b"Sent to Alice" in page.content
    assert not Silence.objects.exists()

    done = open_page(token, submit=True)
    assert done.status_code == 200 and b"Silenced for 4 h by Alice" in done.content
    silence = Silence.objects.get()
    assert silence.created_by == "Alice"
    entry = AuditEntry.objects.get(action="silence_4h")
    assert (entry.actor, entry.source, entry.after["channel"]) == ("alice", "link", "email")


def test_a_post_without_the_pages_csrf_token_is_refused(alpha, paged):
    group, alice = paged
    with keep_schema():
        answer = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True).post(
            f"/act/{alices_link(alpha, group, alice, Action.RESOLVE)}/")
    assert answer.status_code == 403
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_channels_link_acknowledges_as_the_channel(alpha, paged):
    group, _ = paged
    ReceiverFactory(name="teams-sre", kind="msteams")

    done = open_page(link(alpha, group, Action.ACKNOWLEDGE, recipient="teams-sre"), submit=True)

    assert b"Acknowledged by link:teams-sre" in done.content
    group.refresh_from_db()
    assert group.acknowledged_by == "link:teams-sre"
    entry = AuditEntry.objects.get(action="acknowledge")
    assert (entry.actor, entry.after["channel"]) == ("link:teams-sre", "msteams link")


def test_resolving_from_a_channels_link_asks_to_sign_in_and_changes_nothing(alpha, paged):
    group, _ = paged
    token = link(alpha, group, Action.RESOLVE, recipient="teams-sre")

    page = open_page(token, submit=True)

    assert page.status_code == 200
    assert b"Sign in to Alpha" in page.content and b"/admin/login/?next=/act/" in page.content
    group.refresh_from_db()
    assert group.status == "firing"
    assert not AuditEntry.objects.filter(action="resolve").exists()


def test_a_signed_in_editor_resolves_from_a_channels_link_as_herself(alpha, paged, editor):
    group, _ = paged
    ReceiverFactory(name="teams-sre", kind="msteams")

    done = open_page(link(alpha, group, Action.RESOLVE, recipient="teams-sre"), submit=True,
                     user=editor.user)

    assert b"Resolved by Erin" in done.content
    group.refresh_from_db()
    assert (group.status, group.resolved_by) == ("resolved", "Erin")
    entry = AuditEntry.objects.get(action="resolve")
    assert (entry.actor, entry.source, entry.after["channel"]) == ("erin", "link", "msteams link")


def test_a_signed_in_auditor_cannot_resolve_from_a_channels_link(alpha, paged, auditor):
    group, _ = paged
    page = open_page(link(alpha, group, Action.RESOLVE, recipient="teams-sre"), submit=True,
                     user=auditor.user)
    assert b"Sign in to Alpha" in page.content
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_second_click_says_who_did_it(alpha, paged, editor):
    group, alice = paged
    open_page(alices_link(alpha, group, alice, Action.ACKNOWLEDGE), submit=True)

    again = open_page(link(alpha, group, Action.ACKNOWLEDGE, recipient="x"), submit=True,
                      user=editor.user)

    assert again.status_code == 200 and b"Already acknowledged by Alice." in again.content


def test_a_link_to_a_resolved_incident_says_so(alpha, paged):
    group, alice = paged
    AlertGroup.objects.filter(id=group.id).update(status="resolved", resolved_by="Erin")

    page = open_page(alices_link(alpha, group, alice, Action.SILENCE_1H), submit=True)

    assert page.status_code == 409 and b"This incident is resolved (by Erin)" in page.content
    assert not Silence.objects.exists()


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
    lambda token: "beta" + token[token.index(":"):],
    lambda token: token.replace(":", ":x", 1),
], ids=["signature", "another tenant", "payload"])
def test_a_tampered_link_is_refused(alpha, paged, tamper):
    group, alice = paged
    page = open_page(tamper(alices_link(alpha, group, alice, Action.RESOLVE)), submit=True)
    assert page.status_code == 400 and b"not valid" in page.content
    group.refresh_from_db()
    assert group.status == "firing"


def test_a_link_with_an_unknown_action_is_refused(alpha, paged):
    group, alice = paged
    page = open_page(alices_link(alpha, group, alice, "delete_everything"), submit=True)
    assert page.status_code == 400


def test_on_another_tenants_host_the_link_is_refused(alpha, beta, paged):
    group, alice = paged
    beta_host = beta.domains.values_list("domain", flat=True).first()

    page = open_page(alices_link(alpha, group, alice, Action.RESOLVE), submit=True,
                     host=beta_host)

    assert page.status_code == 400
    group.refresh_from_db()
    assert group.status == "firing"


def test_an_over_long_link_is_refused_before_any_lookup(alpha, paged):
    group, alice = paged
    token = alices_link(alpha, group, alice, Action.RESOLVE)
    page = open_page(token + "A" * 5000, submit=True)
    assert page.status_code == 400 and b"not valid" in page.content
    group.refresh_from_db()
    assert group.status == "firing"


def test_the_action_links_of_alices_page_act_as_alice(alpha, paged, settings):
    settings.HERALD_BASE_URL = "http://127.0.0.1"
    group, alice = paged
    page_mail = Notification.objects.get(page__person=alice)
    message = notification_message(page_mail)
    resolve = message.action("resolve")

    assert message.action("acknowledge") is not None and message.action("unacknowledge") is None
    page = open_page(resolve.url.removeprefix("http://127.0.0.1/act/").rstrip("/"))
    assert b"Sent to Alice" in page.content and b"You act as <strong>Alice</strong>" in page.content
    done = open_page(resolve.url.removeprefix("http://127.0.0.1/act/").rstrip("/"), submit=True)

    assert b"Resolved by Alice" in done.content  # an auditor, but paged for this incident
    entry = AuditEntry.objects.get(action="resolve")
    assert (entry.actor, entry.after["channel"], entry.source) == ("alice", "email", "link")
    group.refresh_from_db()
    assert (group.status, group.resolved_by) == ("resolved", "Alice")
