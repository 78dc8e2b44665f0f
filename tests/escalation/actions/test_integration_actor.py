"""A ticket's user acting through a receiver's webhook: acknowledges and resolves, nothing more."""

from __future__ import annotations

from alerting.audit.models import AuditEntry
from escalation.actions import Action, ActionRequest, actor_for_integration, incident_action_apply
from tests.factories import ReceiverFactory


def act(tenant, group, action, actor):
    request = ActionRequest(alert_group_id=group.id, incident=group.incident, action=action)
    return incident_action_apply(tenant=tenant, request=request, actor=actor, channel="jira")


def test_a_tickets_user_may_acknowledge_and_resolve_audited_by_name(alpha, paged):
    group, _ = paged
    bob = actor_for_integration(receiver=ReceiverFactory(name="ops-jira"),
                                external_user="jira:bob@example.com")

    assert act(alpha, group, Action.ACKNOWLEDGE, bob).done
    assert act(alpha, group, Action.RESOLVE, bob).done

    group.refresh_from_db()
    assert (group.acknowledged_by, group.resolved_by) == (
        "jira:bob@example.com", "jira:bob@example.com")
    assert sorted(AuditEntry.objects.filter(actor="jira:bob@example.com")
                  .values_list("action", flat=True)) == ["acknowledge", "resolve"]


def test_a_tickets_user_may_not_silence_or_unacknowledge(alpha, paged):
    group, _ = paged
    bob = actor_for_integration(receiver=ReceiverFactory(name="ops-jira"),
                                external_user="jira:bob@example.com")

    silenced = act(alpha, group, Action.SILENCE_4H, bob)
    assert (silenced.done, silenced.status) == (False, 403)
    assert "acknowledges and resolves only" in silenced.message
    assert act(alpha, group, Action.ACKNOWLEDGE, bob).done
    assert act(alpha, group, Action.UNACKNOWLEDGE, bob).status == 403
    group.refresh_from_db()
    assert group.acknowledged_at is not None
