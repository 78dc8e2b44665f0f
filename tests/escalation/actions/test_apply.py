"""One service acts for every channel: rights first, once only, on the incident it was for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerting.audit.models import AuditEntry
from alerting.matchers import matches_all, parse_matchers
from alerting.models import Alert, AlertGroup, Silence
from alerting.services import AlertGroupActionError
from escalation.actions import (
    Action,
    ActionRequest,
    Actor,
    actor_for_person,
    actor_for_receiver_link,
    incident_action_apply,
)
from escalation.actions.group_changes import group_silence_matchers
from escalation.models import Escalation, Page
from tenants.models import Tenant
from tests.factories import UserFactory


def act(tenant, group, action, actor, *, incident=None, channel="slack"):
    request = ActionRequest(
        alert_group_id=group.id, incident=incident or group.incident, action=action
    )
    return incident_action_apply(tenant=tenant, request=request, actor=actor, channel=channel)


def unchanged(group: AlertGroup) -> bool:
    group.refresh_from_db()
    return (
        group.acknowledged_at is None and group.status == "firing"
        and not Silence.objects.exists() and not AuditEntry.objects.filter(
            action__in=[str(action) for action in Action]).exists()
        and Escalation.objects.get(alert_group=group).state == "active"
    )


def test_alice_paged_for_the_incident_acknowledges_it_from_chat(alpha, paged):
    group, alice = paged

    outcome = act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=alice.id))

    assert (outcome.done, outcome.message, outcome.group_state) == (
        True, "Acknowledged by Alice.", "acknowledged")
    group.refresh_from_db()
    assert group.acknowledged_by == "Alice" and group.acknowledged_at is not None
    assert Escalation.objects.get(alert_group=group).state == "acknowledged"
    assert Page.objects.get(person=alice).state == "acknowledged"
    entry = AuditEntry.objects.get(action="acknowledge")
    assert (entry.actor, entry.source, entry.object_id) == ("alice", "chat", str(group.id))
    assert (entry.after["person_id"], entry.after["person"], entry.after["channel"]) == (
        alice.id, "Alice", "slack")


def test_a_second_click_says_who_acknowledged_first_and_changes_nothing(alpha, paged, editor):
    group, alice = paged
    act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=alice.id))

    again = act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=editor.id))

    assert (again.done, again.already, again.by) == (False, True, "Alice")
    assert again.message == "Already acknowledged by Alice."
    group.refresh_from_db()
    assert group.acknowledged_by == "Alice"
    assert AuditEntry.objects.filter(action="acknowledge").count() == 1


def test_an_editor_who_was_not_paged_may_act(alpha, paged, editor):
    group, _ = paged

    assert act(alpha, group, Action.RESOLVE, actor_for_person(person_id=editor.id)).done
    group.refresh_from_db()
    assert (group.status, group.resolved_by) == ("resolved", "Erin")
    assert Escalation.objects.get(alert_group=group).state == "resolved"
    assert not Page.objects.filter(alert_group=group, state="active").exists()


def test_an_auditor_who_was_not_paged_is_refused_and_nothing_changes(alpha, paged, auditor):
    group, _ = paged

    for action in Action:
        outcome = act(alpha, group, action, actor_for_person(person_id=auditor.id))
        assert (outcome.done, outcome.status) == (False, 403)
        assert "editor or admin role" in outcome.message
    assert unchanged(group)


def test_a_stranger_is_refused_and_nothing_changes(alpha, paged):
    group, _ = paged
    mallory = UserFactory(username="mallory")  # a user of the server, no member of alpha

    outcome = act(alpha, group, Action.RESOLVE,
                  Actor(person_id=None, user_id=mallory.id, display="Mallory"))

    assert (outcome.done, outcome.status) == (False, 403)
    assert "not a member" in outcome.message
    assert unchanged(group)


def test_a_person_removed_from_the_tenant_cannot_act_though_once_paged(alpha, paged):
    group, alice = paged
    alice_actor = actor_for_person(person_id=alice.id)
    alpha.memberships.filter(user_id=alice.user_id).delete()

    assert act(alpha, group, Action.ACKNOWLEDGE, alice_actor).status == 403
    assert unchanged(group)


def test_a_channel_link_acknowledges_but_does_not_resolve_or_silence(alpha, paged):
    group, _ = paged
    link = actor_for_receiver_link(receiver_name="oncall-slack")

    refused = act(alpha, group, Action.RESOLVE, link, channel="link")
    assert (refused.done, refused.status) == (False, 403)
    assert "acknowledges only" in refused.message
    assert act(alpha, group, Action.SILENCE_1H, link, channel="link").status == 403

    assert act(alpha, group, Action.ACKNOWLEDGE, link, channel="link").done
    group.refresh_from_db()
    assert group.acknowledged_by == "link:oncall-slack"
    assert AuditEntry.objects.get(action="acknowledge").actor == "link:oncall-slack"


def test_an_action_on_a_resolved_incident_is_refused_with_who_resolved_it(alpha, paged, editor):
    group, alice = paged
    act(alpha, group, Action.RESOLVE, actor_for_person(person_id=editor.id))

    late = act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=alice.id))
    assert (late.done, late.status, late.group_state) == (False, 409, "resolved")
    assert "resolved (by Erin)" in late.message
    again = act(alpha, group, Action.RESOLVE, actor_for_person(person_id=alice.id))
    assert (again.already, again.message) == (True, "Already resolved by Erin.")
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_a_message_of_an_earlier_incident_cannot_act_on_the_next_one(alpha, paged, editor):
    group, _ = paged
    AlertGroup.objects.filter(id=group.id).update(incident=group.incident + 1)

    outcome = act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=editor.id),
                  incident=group.incident)

    assert (outcome.done, outcome.status) == (False, 410)
    assert "earlier incident" in outcome.message
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_a_group_since_deleted_is_a_clear_404(alpha, paged, editor):
    group, _ = paged
    request = ActionRequest(alert_group_id=group.id + 1000, incident=1, action=Action.RESOLVE)

    outcome = incident_action_apply(
        tenant=alpha, request=request, actor=actor_for_person(person_id=editor.id),
        channel="slack")

    assert (outcome.status, outcome.message) == (404, "This alert group no longer exists.")


@pytest.mark.parametrize("action,hours", [
    (Action.SILENCE_1H, 1), (Action.SILENCE_4H, 4), (Action.SILENCE_24H, 24)])
def test_silencing_mutes_the_groups_alerts_for_its_time_and_stops_the_paging(
    alpha, paged, editor, action, hours
):
    group, _ = paged

    outcome = act(alpha, group, action, actor_for_person(person_id=editor.id))

    assert outcome.done and outcome.message.startswith(f"Silenced for {hours} h by Erin, until ")
    silence = Silence.objects.get()
    assert silence.matchers == 'alertname="HighLatency"'
    assert silence.ends_at == timezone.now() + timedelta(hours=hours)  # the clock is frozen
    assert silence.created_by == "Erin" and "alert group" in silence.comment
    assert set(Alert.objects.filter(group=group).values_list("suppressed", flat=True)) == {True}
    assert Escalation.objects.get(alert_group=group).state != "active"
    assert not Page.objects.filter(alert_group=group, state="active").exists()
    entry = AuditEntry.objects.get(action=str(action))
    assert entry.after["silence_id"] == silence.id and entry.actor == "erin"


def test_silencing_twice_says_who_silenced_it(alpha, paged, editor):
    group, alice = paged
    act(alpha, group, Action.SILENCE_4H, actor_for_person(person_id=editor.id))

    again = act(alpha, group, Action.SILENCE_1H, actor_for_person(person_id=alice.id))

    assert again.already and again.message.startswith("Already silenced by Erin until ")
    assert Silence.objects.count() == 1


def test_unacknowledging_clears_the_acknowledgement_and_escalates_again(alpha, paged, editor):
    group, alice = paged
    act(alpha, group, Action.ACKNOWLEDGE, actor_for_person(person_id=alice.id))

    outcome = act(alpha, group, Action.UNACKNOWLEDGE, actor_for_person(person_id=editor.id))

    assert (outcome.done, outcome.group_state) == (True, "firing")
    group.refresh_from_db()
    assert (group.acknowledged_at, group.acknowledged_by) == (None, "")
    assert list(Escalation.objects.filter(alert_group=group).values_list("state", flat=True)
                .order_by("id")) == ["acknowledged", "active"]
    entry = AuditEntry.objects.get(action="unacknowledge")
    assert entry.after["was_acknowledged_by"] == "Alice"
    again = act(alpha, group, Action.UNACKNOWLEDGE, actor_for_person(person_id=editor.id))
    assert again.already and "Nobody has acknowledged it" in again.message


def test_a_silence_longer_than_the_tenant_allows_is_refused(alpha, paged, editor):
    group, _ = paged
    Tenant.objects.filter(id=alpha.id).update(silence_max_duration=timedelta(hours=2))
    bounded = Tenant.objects.get(id=alpha.id)

    refused = act(bounded, group, Action.SILENCE_4H, actor_for_person(person_id=editor.id))
    assert (refused.done, refused.status) == (False, 409)
    assert "silence_max_duration" in refused.message
    assert not Silence.objects.exists()
    assert act(bounded, group, Action.SILENCE_1H, actor_for_person(person_id=editor.id)).done


def test_a_groups_silence_matches_its_alerts_whatever_their_label_values():
    labels = {"alertname": 'Disk"Full\\', "mount": "/var, /tmp"}
    matchers = group_silence_matchers(group_labels=labels, common_labels={})
    assert matches_all(parse_matchers(matchers), {**labels, "instance": "db-1"})
    assert not matches_all(parse_matchers(matchers), {**labels, "mount": "/"})
    for nothing in ({}, {"alertname": ""}):
        with pytest.raises(AlertGroupActionError, match="no labels to silence"):
            group_silence_matchers(group_labels=nothing, common_labels={})
