"""Whom a level pages (targets), and each person's page as it follows their rules."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from escalation.models.people import Person, Team
from escalation.models.policies import Escalation, EscalationLevel
from escalation.models.schedules import Schedule, ScheduleLayer


class TargetKind(models.TextChoices):
    RECEIVER = "receiver", "Receiver (a channel)"
    PERSON = "person", "Person"
    TEAM = "team", "Every member of a team"
    ON_CALL = "on_call", "Whoever is on call in a schedule"
    ROUND_ROBIN = "round_robin", "The next person of a team, in turn"


class EscalationTarget(models.Model):
    """One target of a level; the fallback targets are paged when the others find nobody."""

    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    receiver = models.ForeignKey(
        "receivers.Receiver", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    layer = models.ForeignKey(
        ScheduleLayer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("On call in this layer only; empty: the schedule's final result."),
    )
    fallback = models.BooleanField(
        default=False, help_text=_("Paged only when the level's other targets find nobody.")
    )

    class Meta:
        verbose_name = _("escalation target")
        verbose_name_plural = _("escalation targets")
        ordering = ["level", "fallback", "id"]
        constraints = [
            models.CheckConstraint(
                name="escalation_target_names_its_kind",
                condition=(
                    models.Q(kind="receiver", receiver__isnull=False)
                    | models.Q(kind="person", person__isnull=False)
                    | models.Q(kind__in=["team", "round_robin"], team__isnull=False)
                    | models.Q(kind="on_call", schedule__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        named = self.receiver or self.person or self.team or self.schedule
        return f"{self.get_kind_display()}: {named}" + (" (fallback)" if self.fallback else "")


class PageState(models.TextChoices):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    STOPPED = "stopped", "Stopped (acknowledged by someone else, resolved, or escalated)"
    FINISHED = "finished", "Finished (every notification rule ran)"


class Page(models.Model):
    """One person paged by one level of a chain, following their notification rules.

    Recorded as it happens: who was chosen, through which target, and under
    which version of the schedule (never recomputed later). `rules` is the
    snapshot of the person's notification rules at the page's start;
    `next_rule` the index of the one due at `next_rule_at`.
    """

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="pages")
    alert_group = models.ForeignKey(
        "alerting.AlertGroup", on_delete=models.CASCADE, related_name="pages"
    )
    incident = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField()
    person = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="pages")
    person_name = models.CharField(max_length=100)
    target = models.CharField(
        max_length=200, help_text='How they were chosen: "on call in Primary".'
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="pages"
    )
    schedule_version = models.PositiveIntegerField(null=True, blank=True)
    rules = models.JSONField(default=list)
    next_rule = models.PositiveSmallIntegerField(default=0)
    next_rule_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=PageState.choices, default=PageState.ACTIVE)
    started_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["alert_group", "started_at", "id"]
        indexes = [models.Index(fields=["state", "next_rule_at"])]

    def __str__(self) -> str:
        return f"{self.person_name} for group {self.alert_group_id} ({self.state})"


__all__ = ["EscalationTarget", "Page", "PageState", "TargetKind"]
