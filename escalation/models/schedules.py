"""On-call schedules: layers of rotations, restrictions, overrides, temporary schedules.

What these rows mean is escalation.schedules' to say (a pure function of a
snapshot of them: "who is on call at instant T"); here is only what is stored.
Wall-clock fields (start date, handoff time, restriction times) are read in
the schedule's time zone. Every edit bumps `version`, so a page records which
version of the schedule chose its person.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from alerting.fields import EncryptedCharField
from escalation.models.people import Person, Team, new_calendar_token


class Schedule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text=_("IANA, e.g. Europe/Berlin.")
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    # The secret of the schedule's iCal URL; a new one revokes the old URL.
    calendar_token = EncryptedCharField(
        max_length=200, default=new_calendar_token, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ShiftUnit(models.TextChoices):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class ScheduleLayer(models.Model):
    """A rotation: ordered people taking shifts of a wall-clock length in turn.

    The first shift starts on `start_date` at `handoff_time` (the schedule's
    zone) with the member at `start_position`; each later shift starts
    `shift_length` `shift_unit` of wall-clock time after the one before.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(
        default=0, help_text=_("Higher layers win where they have someone on call.")
    )
    start_date = models.DateField()
    handoff_time = models.TimeField()
    shift_length = models.PositiveIntegerField(default=1)
    shift_unit = models.CharField(max_length=8, choices=ShiftUnit.choices, default=ShiftUnit.WEEKS)
    start_position = models.PositiveSmallIntegerField(
        default=0, help_text=_("Which member (0 = the first) takes the first shift.")
    )

    class Meta:
        verbose_name = _("schedule layer")
        verbose_name_plural = _("schedule layers")
        ordering = ["schedule", "-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "name"], name="layer_name_per_schedule"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"


class LayerMember(models.Model):
    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="layer_memberships")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("layer member")
        verbose_name_plural = _("layer members")
        ordering = ["layer", "position", "id"]

    def __str__(self) -> str:
        return f"{self.position}: {self.person}"


class LayerRestriction(models.Model):
    """The layer has someone on call only inside its restrictions (none: always).

    A window starts at `start_time` on `weekday` (every day when empty) and
    lasts until `end_time` (the next day's when it is not after the start).
    """

    layer = models.ForeignKey(ScheduleLayer, on_delete=models.CASCADE, related_name="restrictions")
    weekday = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
                 (4, "Friday"), (5, "Saturday"), (6, "Sunday")],
        help_text=_("Empty: every day."),
    )
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        verbose_name = _("layer restriction")
        verbose_name_plural = _("layer restrictions")
        ordering = ["layer", "weekday", "start_time"]

    def __str__(self) -> str:
        day = self.get_weekday_display() if self.weekday is not None else "Daily"
        return f"{day} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class OverrideKind(models.TextChoices):
    REPLACE = "replace", "Replace (someone takes over)"
    ADD = "add", "Add (someone joins)"
    REMOVE = "remove", "Remove (someone is off)"


class ScheduleOverride(models.Model):
    """A change for a time range over what the layers say.

    replace: `person` instead of `replaces` (everyone on call when empty);
    add: `person` as well; remove: `person` is not on call.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    kind = models.CharField(
        max_length=8, choices=OverrideKind.choices, default=OverrideKind.REPLACE
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="overrides")
    replaces = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="replaced_by"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("schedule override")
        verbose_name_plural = _("schedule overrides")
        ordering = ["schedule", "start", "id"]
        indexes = [models.Index(fields=["schedule", "end"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="override_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.person} {self.start:%Y-%m-%d %H:%M}"


class TemporarySchedule(models.Model):
    """Replaces the whole schedule between `start` and `end` with its own shifts."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="temporaries")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("temporary schedule")
        verbose_name_plural = _("temporary schedules")
        ordering = ["schedule", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="temporary_schedule_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: temporary {self.start:%Y-%m-%d}"


class TemporaryShift(models.Model):
    temporary = models.ForeignKey(
        TemporarySchedule, on_delete=models.CASCADE, related_name="shifts"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="temporary_shifts")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        verbose_name = _("temporary shift")
        verbose_name_plural = _("temporary shifts")
        ordering = ["temporary", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="temporary_shift_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.start:%Y-%m-%d %H:%M}"
