"""Round robin under concurrent steps: three incidents at once still page three people in turn."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.models import AlertGroup
from escalation.models import Page
from escalation.services import escalation_start, escalation_step_run
from tests.escalation.paging.conftest import email_config, policy_with
from tests.factories import AlertGroupFactory, PersonFactory, ReceiverFactory, TeamFactory


@pytest.mark.django_db(transaction=True)
def test_three_steps_running_at_once_page_three_different_people(committed_tenants):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory(kind="email", carries_pages=True, config=email_config(), secrets={})
        team = TeamFactory(members=[PersonFactory(email=f"{name}@example.com")
                                    for name in ("ann", "ben", "cat")])
        policy = policy_with([(0, [{"kind": "round_robin", "team": team}])])
        chains = [
            escalation_start(alert_group=AlertGroupFactory(), policy_id=policy.id,
                             now=timezone.now()).id
            for _ in range(3)
        ]
    start = threading.Barrier(3)

    def step(escalation_id: int) -> None:
        try:
            with tenant_context(alpha):
                start.wait()
                escalation_step_run(escalation_id=escalation_id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=step, args=(chain,)) for chain in chains]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    with tenant_context(alpha):
        assert AlertGroup.objects.count() == 3
        paged = sorted(Page.objects.values_list("person_name", flat=True))
        assert len(paged) == 3 and len(set(paged)) == 3
