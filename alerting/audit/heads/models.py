"""The shared schema's part of the audit trail: where each tenant's chain stood, kept
outside the tenant's schema, and the operators' own chain.

A checkpoint is written by the periodic task whenever a chain's head moved.
Someone who rewrites a tenant's table (or cuts its tail, or drops it) cannot
make it agree with these rows without the audit key, and the same heads are
also written to the log stream, out of the database's reach.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from alerting.audit.models import ChainedAuditEntry


class AuditCheckpoint(models.Model):
    schema_name = models.CharField(max_length=63, db_index=True, verbose_name=_("schema name"))
    tenant_slug = models.CharField(max_length=100, verbose_name=_("tenant slug"))
    seq = models.BigIntegerField(
        help_text=_("Sequence number of the chain's newest entry."),
        verbose_name=_("seq"),
    )
    entry_id = models.BigIntegerField(verbose_name=_("entry id"))
    mac = models.CharField(
        max_length=64, help_text=_("That entry's HMAC-SHA256."),
        verbose_name=_("mac"),
    )
    entry_at = models.DateTimeField(verbose_name=_("entry at"))
    legacy_entries = models.BigIntegerField(
        default=0, help_text=_("Entries before the chain was keyed (plain SHA-256)."),
        verbose_name=_("legacy entries"),
    )
    checked_at = models.DateTimeField(verbose_name=_("checked at"))

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["schema_name", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["schema_name", "seq"], name="audit_checkpoint_seq")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_slug} #{self.seq} at {self.checked_at:%Y-%m-%d %H:%M:%S}"


class OperatorAuditEntry(ChainedAuditEntry):
    """One event of the operators' admin on the public site (logins, lockouts, users,
    groups, tenants), chained and MACed like a tenant's chain. Append-only: a trigger
    refuses UPDATE, DELETE and TRUNCATE (migration 0002)."""

    class Meta:
        ordering = ["-id"]
        verbose_name = _("operators' audit entry")
        verbose_name_plural = _("operators' audit log")
