"""The admin lists the actions taken from chat and links, for auditors too, read only."""

from __future__ import annotations

from django.test import Client
from django.utils.html import escape

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from escalation.actions import Action, ActionRequest, actor_for_person, incident_action_apply
from tests.ingest import keep_schema

LIST = "/admin/escalation/actiontaken/"


def member_client(person) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(person.user)
    return client


def get(client: Client, path: str):
    with keep_schema():
        return client.get(path)


def test_an_auditor_sees_who_did_what_from_which_channel_and_nothing_else(
    alpha, paged, editor, auditor
):
    group, alice = paged
    for person, action, channel, source in (
        (alice, Action.ACKNOWLEDGE, "slack", AuditSource.CHAT),
        (editor, Action.SILENCE_4H, "email", AuditSource.LINK),
    ):
        incident_action_apply(
            tenant=alpha, actor=actor_for_person(person_id=person.id), channel=channel,
            request=ActionRequest(alert_group_id=group.id, incident=group.incident,
                                  action=action),
            source=source,
        )
    audit_record(actor="erin", source=AuditSource.ADMIN, action="acknowledge",
                 obj_type="alerting.alertgroup", obj_id=group.id, obj_repr="from the admin")

    page = get(member_client(auditor), LIST)

    assert page.status_code == 200
    rows = page.context["cl"].result_list
    assert [(row.actor, row.action, row.after["channel"], row.source) for row in rows] == [
        ("erin", "silence_4h", "email", "link"), ("alice", "acknowledge", "slack", "chat")]
    text = page.content.decode()
    assert "Alice (alice)" in text and escape(str(group)) in text
    assert "from the admin" not in text
    detail = get(member_client(auditor), f"{LIST}{rows[1].id}/change/")
    assert detail.status_code == 200 and "Alice" in detail.content.decode()


def test_nobody_adds_changes_or_deletes_an_action(alpha, paged, editor):
    group, alice = paged
    incident_action_apply(
        tenant=alpha, actor=actor_for_person(person_id=alice.id), channel="slack",
        request=ActionRequest(alert_group_id=group.id, incident=group.incident,
                              action=Action.ACKNOWLEDGE),
    )
    client = member_client(editor)
    entry_id = get(client, LIST).context["cl"].result_list[0].id

    assert get(client, f"{LIST}add/").status_code == 403
    with keep_schema():
        assert client.post(f"{LIST}{entry_id}/delete/", {"post": "yes"}).status_code == 403


def test_the_list_exports_as_csv(alpha, paged, auditor):
    group, alice = paged
    incident_action_apply(
        tenant=alpha, actor=actor_for_person(person_id=alice.id), channel="telegram",
        request=ActionRequest(alert_group_id=group.id, incident=group.incident,
                              action=Action.RESOLVE),
    )

    export = get(member_client(auditor), f"{LIST}export.csv")

    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("at,actor,person,action,channel,source,alert_group_id")
    assert ",alice,Alice,resolve,telegram,chat," in lines[1]
