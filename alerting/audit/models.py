"""The audit log: append-only and hash-chained, in each tenant's own schema."""

from django.db import models


class AuditSource(models.TextChoices):
    ADMIN = "admin"
    API = "api"
    COMMAND = "command"
    SYSTEM = "system"


class AuditEntry(models.Model):
    """One recorded event. Never updated or deleted: a trigger refuses both.

    `hash` covers every other column and `previous_hash`, so changing,
    removing or reordering an entry breaks the chain from there on.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=AuditSource.choices)
    ip = models.CharField(max_length=45, blank=True, verbose_name="source IP")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"
