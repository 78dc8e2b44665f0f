"""What the API shows of schedules, teams and who is on call, and what an override takes.

People are named by username and display name (never by their profile's
id), from a map the view reads once (`names` in the serializer context).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalation.models import (
    OverrideKind,
    Person,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Team,
)
from escalation.oncall_selectors import PersonName, ScheduleOnCall, person_by_username

# How far from now an instant given to the API may be: enough for history and
# planning, and it keeps the engine's arithmetic far from datetime's limits.
TIME_REACH = timedelta(days=10 * 366)


def time_in_reach(value: datetime) -> datetime:
    now = timezone.now()
    if not now - TIME_REACH <= value <= now + TIME_REACH:
        raise serializers.ValidationError(
            f"Must be within {TIME_REACH.days} days of now ({now:%Y-%m-%dT%H:%M:%SZ})."
        )
    return value


@extend_schema_field({
    "type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}$", "example": "09:00:00",
    "description": "A wall-clock time in the schedule's zone (no offset: it follows DST).",
})
class WallClockTimeField(serializers.TimeField):
    """JSON Schema's `time` format wants an offset; a schedule's times have none."""


class PersonRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    displayName = serializers.CharField(source="display_name")


def _person(context: dict, person_id: int | None) -> dict | None:
    if person_id is None:
        return None
    name = context["names"].get(person_id) or PersonName(person_id, "", f"person #{person_id}")
    return PersonRefSerializer(name).data


class _MemberSerializer(serializers.Serializer):
    """A person's place somewhere (a layer, a team), named by username and display name."""

    position = serializers.IntegerField()
    username = serializers.SerializerMethodField()
    displayName = serializers.SerializerMethodField()

    def get_username(self, member) -> str:
        return _person(self.context, member.person_id)["username"]

    def get_displayName(self, member) -> str:
        return _person(self.context, member.person_id)["displayName"]


class LayerMemberSerializer(_MemberSerializer):
    pass


class RestrictionSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(
        allow_null=True, help_text="0 = Monday … 6 = Sunday; null: every day."
    )
    startTime = WallClockTimeField(source="start_time")
    endTime = WallClockTimeField(
        source="end_time", help_text="The next day's when it is not after the start."
    )


class LayerSerializer(serializers.ModelSerializer):
    startDate = serializers.DateField(source="start_date")
    handoffTime = WallClockTimeField(source="handoff_time")
    shiftLength = serializers.IntegerField(source="shift_length")
    shiftUnit = serializers.CharField(source="shift_unit")
    startPosition = serializers.IntegerField(source="start_position")
    members = LayerMemberSerializer(source="members.all", many=True)
    restrictions = RestrictionSerializer(source="restrictions.all", many=True)

    class Meta:
        model = ScheduleLayer
        fields = ["id", "name", "priority", "startDate", "handoffTime", "shiftLength",
                  "shiftUnit", "startPosition", "members", "restrictions"]
        read_only_fields = fields


class OverrideSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField()
    createdBy = serializers.CharField(source="created_by")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ScheduleOverride
        fields = ["id", "kind", "person", "replaces", "start", "end", "note", "createdBy",
                  "createdAt"]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer)
    def get_person(self, override) -> dict:
        return _person(self.context, override.person_id)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_replaces(self, override) -> dict | None:
        return _person(self.context, override.replaces_id)


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ScheduleSerializer(serializers.ModelSerializer):
    timeZone = serializers.CharField(source="time_zone")
    team = TeamRefSerializer(allow_null=True)
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Schedule
        fields = ["id", "name", "timeZone", "team", "version", "updatedAt"]
        read_only_fields = fields


class ScheduleDetailSerializer(ScheduleSerializer):
    layers = LayerSerializer(source="layers.all", many=True)
    upcomingOverrides = OverrideSerializer(
        source="upcoming_overrides", many=True,
        help_text="Overrides that have not ended yet, soonest first.",
    )

    class Meta(ScheduleSerializer.Meta):
        fields = [*ScheduleSerializer.Meta.fields, "layers", "upcomingOverrides"]
        read_only_fields = fields


class ScheduleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OnCallSerializer(serializers.Serializer):
    schedule = ScheduleRefSerializer()
    at = serializers.DateTimeField()
    version = serializers.IntegerField(
        help_text="The schedule's version the answer comes from (every edit bumps it)."
    )
    source = serializers.ChoiceField(
        source="on_call.source", choices=["temporary", "override", "layer", "nobody"],
        help_text="What decided: a temporary schedule, an override, a layer, or nobody.",
    )
    layerId = serializers.IntegerField(source="on_call.layer_id", allow_null=True)
    people = serializers.SerializerMethodField()

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_people(self, answer: ScheduleOnCall) -> list[dict]:
        return [_person(self.context, person_id) for person_id in answer.on_call.people]


class TeamMemberSerializer(_MemberSerializer):
    role = serializers.CharField()


class TeamSerializer(serializers.ModelSerializer):
    schedules = ScheduleRefSerializer(source="schedules.all", many=True)

    class Meta:
        model = Team
        fields = ["id", "name", "schedules"]
        read_only_fields = fields


class TeamDetailSerializer(TeamSerializer):
    members = TeamMemberSerializer(source="memberships.all", many=True)

    class Meta(TeamSerializer.Meta):
        fields = [*TeamSerializer.Meta.fields, "members"]
        read_only_fields = fields


class TeamOnCallSerializer(serializers.Serializer):
    team = TeamRefSerializer()
    at = serializers.DateTimeField()
    schedules = OnCallSerializer(many=True)


class AtQuerySerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, help_text="ISO 8601 date-time; now when left out."
    )

    def validate_at(self, value: datetime) -> datetime:
        return time_in_reach(value)


class OverrideCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OverrideKind.choices, default=OverrideKind.REPLACE)
    person = serializers.CharField(max_length=150, help_text="The person's username.")
    replaces = serializers.CharField(
        max_length=150, required=False, allow_null=True, allow_blank=True, default=None,
        help_text="replace: the username of whom `person` takes over from (empty: everyone).",
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def _person(self, username: str) -> Person:
        person = person_by_username(username=username)
        if person is None:
            raise serializers.ValidationError(f"No person with the username '{username}' here.")
        return person

    def validate_person(self, value: str) -> Person:
        return self._person(value)

    def validate_replaces(self, value: str | None) -> Person | None:
        return self._person(value) if value else None

    def validate_start(self, value: datetime) -> datetime:
        return time_in_reach(value)

    def validate_end(self, value: datetime) -> datetime:
        return time_in_reach(value)
