"""Escalation policies, and the chains running from a snapshot of one."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BusinessHoursMode(models.TextChoices):
    ALWAYS = "always", "Always"
    INSIDE = "inside", "Only inside business hours"
    OUTSIDE = "outside", "Only outside business hours"


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    repeat_count = models.PositiveSmallIntegerField(
        default=0, help_text=_("How many times the whole chain runs again after its last level.")
    )
    business_hours = models.CharField(
        max_length=8, choices=BusinessHoursMode.choices, default=BusinessHoursMode.ALWAYS,
        help_text=_(
            "Steps due outside the allowed hours wait for them, in the tenant's time zone."
        ),
    )

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=0)
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text=_("Minutes after the previous level (or the first alert).")
    )
    receivers = models.ManyToManyField("receivers.Receiver", related_name="escalation_levels")

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["policy", "position", "id"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.position}"


class BusinessHoursWindow(models.Model):
    """One weekly stretch of business hours, in the tenant's time zone."""

    weekday = models.PositiveSmallIntegerField(
        choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
                 (4, "Friday"), (5, "Saturday"), (6, "Sunday")]
    )
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        verbose_name = _("business hours window")
        verbose_name_plural = _("business hours windows")
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class StepKind(models.TextChoices):
    NOTIFY = "notify"
    REPEAT = "repeat"


class EventKind(models.TextChoices):
    """What the history of a chain records."""

    NOTIFY = "notify"
    REPEAT = "repeat"
    PAGE = "page", "Paged a person"
    GAP = "gap", "Nobody to page"


class EscalationState(models.TextChoices):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FINISHED = "finished", "Finished (no one acknowledged)"


class Escalation(models.Model):
    """A chain running for one alert group, from a snapshot of its policy.

    Edits to the policy do not change a chain in flight. `step` and
    `repeats_done` say which step runs next; a task carrying other values
    is stale and exits.
    """

    alert_group = models.ForeignKey(
        "alerting.AlertGroup", on_delete=models.CASCADE, related_name="escalations"
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    policy_name = models.CharField(max_length=100)
    snapshot = models.JSONField(help_text=_("The policy's steps when the chain started."))
    step = models.PositiveSmallIntegerField(default=0)
    repeats_done = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=EscalationState.choices, default=EscalationState.ACTIVE
    )
    started_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        indexes = [models.Index(fields=["state", "next_step_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["alert_group", "policy_name"],
                condition=Q(state="active"),
                name="one_active_escalation_per_group_and_policy",
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy_name} for group {self.alert_group_id} ({self.state})"


class EscalationEvent(models.Model):
    """What each step did, for the history."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    level = models.PositiveSmallIntegerField(null=True)
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name = _("escalation event")
        verbose_name_plural = _("escalation events")
        ordering = ["escalation", "at", "id"]
        indexes = [
            # The overview's "gaps of the last day" reads these alone, among every event.
            models.Index(fields=["at"], condition=Q(kind="gap"), name="escalation_event_gap_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.level}: {self.detail}"
