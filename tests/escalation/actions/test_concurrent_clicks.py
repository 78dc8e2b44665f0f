"""Two people press Acknowledge at the same moment: one acknowledges, the other is told who."""

from __future__ import annotations

import threading

from django.db import connection
from django_tenants.utils import tenant_context

from alerting.audit.models import AuditEntry
from alerting.models import AlertGroup
from escalation.actions import Action, ActionRequest, actor_for_person, incident_action_apply
from tests.factories import AlertGroupFactory, PersonFactory


def test_simultaneous_clicks_acknowledge_once(committed_tenants):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        group = AlertGroupFactory()
        people = [PersonFactory(user__username=name, display_name=name.title(),
                                membership="editor") for name in ("erin", "frank")]
        # The audit trail is append-only: earlier tests' entries stay.
        audited_before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    request = ActionRequest(alert_group_id=group.id, incident=group.incident,
                            action=Action.ACKNOWLEDGE)
    start = threading.Barrier(len(people))
    outcomes = []

    def click(person_id: int) -> None:
        try:
            with tenant_context(alpha):
                actor = actor_for_person(person_id=person_id)
                start.wait()
                outcomes.append(incident_action_apply(
                    tenant=alpha, request=request, actor=actor, channel="slack"))
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(person.id,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted((o.done, o.already) for o in outcomes) == [(False, True), (True, False)]
    with tenant_context(alpha):
        acknowledged_by = AlertGroup.objects.get(id=group.id).acknowledged_by
        assert AuditEntry.objects.filter(
            id__gt=audited_before or 0, action="acknowledge"
        ).count() == 1
    already = next(o for o in outcomes if o.already)
    assert already.message == f"Already acknowledged by {acknowledged_by}."
