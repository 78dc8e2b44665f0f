"""Shared-schema index of each tenant's next due periodic work (issue 22).

Periodic ticks visit only the tenants whose entry is due, instead of every
tenant's schema. The index is a lower bound: writers of due work lower an
entry (`tenants.due_work.due_work_note`), a visit recomputes it from the
tenant's own tables. See tenants/due_work.py for the invariant.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DueKind(models.TextChoices):
    """Which periodic task the entry wakes (each kind is one tick's work)."""

    ESCALATION = "escalation", "escalation steps, page rules and phone summaries"
    NOTIFICATIONS = "notifications", "notifications whose delivery task was lost"
    SILENCES = "silences", "alerts held back by a silence that ends"


class TenantDueWork(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=DueKind.choices)
    # Null: nothing known to be due. Never later than the tenant's real next
    # due time, except for writes the full sweep has not yet found.
    due_at = models.DateTimeField(null=True, blank=True)
    # A visit is in progress (due_at is then its lease: a dead visit is retried).
    claimed = models.BooleanField(default=False)
    # Bumped by every write: a visit's recompute replaces the entry only if no
    # writer lowered it since the visit claimed it.
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("due work of a tenant")
        verbose_name_plural = _("due work of tenants")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="one_due_entry_per_kind")
        ]
        indexes = [
            models.Index(
                fields=["kind", "due_at"], name="due_work_by_kind_due",
                condition=Q(due_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.kind} due {self.due_at}"
