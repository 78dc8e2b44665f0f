"""The audit trail's one periodic task (thin: the work is in checkpoints.py)."""

from __future__ import annotations

from alerting.audit.checkpoints import audit_chains, audit_seal_and_checkpoint
from alerting.infra.celery import app
from tenants.selectors import tenant_list


@app.task(acks_late=True)
def audit_seal_and_checkpoint_all_tenants() -> int:
    """Periodic: chain pending notification outcomes, then checkpoint each moved head."""
    return sum(audit_seal_and_checkpoint(tenants=audit_chains(tenant_list())).values())
