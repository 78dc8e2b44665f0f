"""Checkpoints: each chain's head, kept where the chain's table cannot reach.

The periodic audit task seals pending outcomes and then, for every chain
whose head moved since its last checkpoint, writes the head (sequence, MAC,
time) to the shared schema (`AuditCheckpoint`) and to the log stream as one
structured line. `verify_audit_log` compares each chain with its
checkpoints: a cut tail, a rewritten chain or a dropped table shows there.
The operators' chain lives in the shared schema itself, beside its
checkpoints: for it, the log stream's copy is the one out of the database's
reach.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from django.db import DatabaseError, connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from alerting.audit.chain import audit_chain_model
from alerting.audit.heads.models import AuditCheckpoint
from alerting.audit.outcomes import audit_outcomes_seal

logger = logging.getLogger("herald.audit")


def audit_checkpoint_write(*, tenant, last_seq: int | None) -> AuditCheckpoint | None:
    """Checkpoint the current schema's chain head if it moved past `last_seq`."""
    entries = audit_chain_model().objects
    head = (
        entries.filter(seq__isnull=False)
        .order_by("-seq")
        .values("id", "seq", "hash", "at")
        .first()
    )
    if head is None or (last_seq is not None and head["seq"] <= last_seq):
        return None
    legacy = entries.filter(seq__isnull=True).count() if last_seq is None else None
    if legacy is None:
        legacy = (
            AuditCheckpoint.objects.filter(schema_name=connection.schema_name)
            .order_by("-seq")
            .values_list("legacy_entries", flat=True)
            .first()
            or 0
        )
    checkpoint = AuditCheckpoint.objects.create(
        schema_name=connection.schema_name,
        tenant_slug=tenant.slug,
        seq=head["seq"],
        entry_id=head["id"],
        mac=head["hash"],
        entry_at=head["at"],
        legacy_entries=legacy,
        checked_at=timezone.now(),
    )
    # The same head in the log stream, out of the database's reach.
    logger.info(
        "audit checkpoint tenant=%s seq=%s mac=%s entry_at=%s",
        tenant.slug, checkpoint.seq, checkpoint.mac, checkpoint.entry_at.isoformat(),
        extra={
            "audit_tenant": tenant.slug,
            "audit_seq": checkpoint.seq,
            "audit_mac": checkpoint.mac,
            "audit_entry_at": checkpoint.entry_at.isoformat(),
        },
    )
    return checkpoint


def audit_seal_and_checkpoint(*, tenants) -> dict[str, int]:
    """For each chain: seal its pending outcomes, checkpoint its head; entries sealed by slug.

    `tenants`: anything with `slug` and `schema_name` (audit_chains() adds
    the operators' chain in the shared schema).
    """
    last = dict(
        AuditCheckpoint.objects.order_by("schema_name", "-seq")
        .distinct("schema_name")
        .values_list("schema_name", "seq")
    )
    sealed: dict[str, int] = {}
    for tenant in tenants:
        try:
            with schema_context(tenant.schema_name):
                # Outcomes are staged in tenants' schemas only: the operators' chain has none.
                operators = tenant.schema_name == get_public_schema_name()
                sealed[tenant.slug] = 0 if operators else audit_outcomes_seal()
                audit_checkpoint_write(tenant=tenant, last_seq=last.get(tenant.schema_name))
        except DatabaseError:
            # One tenant's broken table (dropped, say) must not stop the others'
            # checkpoints; verify_audit_log reports what is wrong with it.
            logger.exception("audit checkpoint failed for tenant %s", tenant.slug)
    return sealed


def audit_chains(tenants) -> list:
    """The tenants' chains, and the operators' one in the shared schema (last)."""
    return [*tenants, operators_chain()]


def operators_chain() -> SimpleNamespace:
    """The operators' chain as the task and verify_audit_log name it."""
    return SimpleNamespace(slug=OPERATORS, schema_name=get_public_schema_name())


# How the operators' chain (shared schema) is named in reports, checkpoints and the log
# stream; no tenant slug has parentheses, so it never reads as a tenant's.
OPERATORS = "(operators)"
