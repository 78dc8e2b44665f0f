"""Noise control's bookkeeping: alert rates and their baselines (alerting.storms).

Bounded per tenant: one row for the tenant, at most NOISE_GROUP_ROWS_MAX
rows for its busiest recent groups (idle ones expire), and at most 168
seasonal rows (one per hour of the week).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

TENANT_SCOPE = "tenant"
NOISE_GROUP_ROWS_MAX = 200


class NoiseRate(models.Model):
    """One scope's alert count in its current bucket, its recent baseline and its storm."""

    scope = models.CharField(max_length=40, unique=True)  # "tenant" or "group:<id>"
    alert_group = models.ForeignKey(
        "alerting.AlertGroup", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    bucket_start = models.FloatField(default=0.0)  # epoch seconds
    bucket_count = models.PositiveIntegerField(default=0)
    trigger_at = models.BigIntegerField(default=2**31 - 1)
    hour_peak = models.PositiveIntegerField(default=0)
    recent_mean = models.FloatField(default=0.0)
    recent_var = models.FloatField(default=0.0)
    samples = models.PositiveIntegerField(default=0)
    storm_since = models.DateTimeField(_("storm since"), null=True, blank=True)
    storm_alerts = models.PositiveIntegerField(default=0)
    # Receivers told of the current storm (one message each): the tenant's receivers at most.
    storm_told = models.JSONField(default=list, blank=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("alert rate")
        verbose_name_plural = _("alert rates")

    def __str__(self) -> str:
        return self.scope


class NoiseSeason(models.Model):
    """The tenant's usual busiest 5 minutes for one hour of the week (UTC)."""

    hour_of_week = models.PositiveSmallIntegerField(unique=True)
    mean = models.FloatField(default=0.0)
    var = models.FloatField(default=0.0)
    samples = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("usual alert rate of an hour of the week")
        verbose_name_plural = _("usual alert rates by hour of the week")

    def __str__(self) -> str:
        return f"hour {self.hour_of_week} of the week"
