"""The tenant's own report settings, in its schema."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from receivers.severity import SEVERITIES

SEVERITY_CHOICES = [(name, name) for name in SEVERITIES]


class SlaTarget(models.Model):
    """How soon an incident of this severity should be acknowledged (the SLA view's target)."""

    severity = models.CharField(
        _("severity"), max_length=16, choices=SEVERITY_CHOICES, unique=True
    )
    acknowledge_within_minutes = models.PositiveIntegerField(
        _("acknowledge within (minutes)"),
        # A year at most: a bound, not a policy.
        validators=[MinValueValidator(1), MaxValueValidator(525_600)],
        help_text=_("Incidents acknowledged within this many minutes of firing meet the target."),
    )

    class Meta:
        ordering = ["severity"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")

    def __str__(self) -> str:
        return f"{self.severity}: {self.acknowledge_within_minutes} min"
