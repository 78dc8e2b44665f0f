"""Alerts and alert groups, in each tenant's own schema."""

from django.contrib.postgres.indexes import GinIndex
from django.db import models


class AlertStatus(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertGroup(models.Model):
    """One Alertmanager group (its groupKey), with its latest known state."""

    group_key = models.TextField(unique=True)
    receiver = models.CharField(max_length=255, help_text="Alertmanager receiver name.")
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    group_labels = models.JSONField(default=dict)
    common_labels = models.JSONField(default=dict)
    common_annotations = models.JSONField(default=dict)
    external_url = models.TextField(blank=True)
    firing_count = models.PositiveIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    truncated_alerts = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_payload = models.JSONField(help_text="The last webhook body, kept for the audit trail.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True, db_default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(
        max_length=200,
        blank=True,
        db_default="",
        help_text="Who resolved it by hand; empty when Alertmanager did.",
    )

    class Meta:
        indexes = [models.Index(fields=["status", "-last_seen_at"])]

    def __str__(self) -> str:
        return self.group_key


class Alert(models.Model):
    """One alert, upserted by fingerprint.

    The previous status and startsAt are kept by the upsert itself so that
    ingest can tell, race-free, whether this request changed the alert's state.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    generator_url = models.TextField(blank=True)
    previous_status = models.CharField(max_length=16, blank=True)
    previous_starts_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "-last_seen_at"]),
            models.Index(fields=["-starts_at"]),
            GinIndex(fields=["labels"], opclasses=["jsonb_path_ops"], name="alert_labels_gin"),
        ]

    def __str__(self) -> str:
        return self.labels.get("alertname", self.fingerprint)
