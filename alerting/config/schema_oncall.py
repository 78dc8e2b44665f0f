"""The on-call sections of the configuration file: people, teams, schedules, level targets
(pure pydantic models; alerting.config.schema puts them in the document).

People are named by their username (a member of the tenant). Times of
overrides and temporary schedules written without an offset are read in the
schedule's time zone (at their first occurrence in a repeated hour) and kept in UTC,
so an export writes them with `Z`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from escalation.schedules.zones import zone_known
from receivers.template_context import LANGUAGES

Language = Literal[LANGUAGES]  # type: ignore[valid-type]
WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_INDEX = {name: index for index, name in enumerate(WEEKDAY_NAMES)}
Username = Field(min_length=1, max_length=150)
# Bounds on what one tenant's file may ask for (each list is walked by validation).
MAX_MEMBERS = 200
MAX_OVERRIDES = 1000


def _instant_bounded(value: datetime) -> datetime:
    # Beyond these, converting a wall-clock time to UTC can overflow; nobody means them.
    if not 1970 <= value.year <= 2200:
        raise ValueError("a time between 1970 and 2200")
    return value


Instant = Annotated[datetime, AfterValidator(_instant_bounded)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


def zone_check(value: str) -> str:
    # Known names only: ZoneInfo would open "America" (a folder) or "localtime".
    if not zone_known(value):
        raise ValueError(f"{value[:64]!r} is not a time zone (IANA, e.g. Europe/Berlin)")
    return value


# --- people --------------------------------------------------------------------


class ContactMethodSpec(_Spec):
    """A way to reach a person; the address may be (or contain) an ${ENV_VAR} reference.

    After resolving, `address` holds the value and `_reference` what the file wrote,
    so the plan notices a changed value and an export writes the reference back.
    """

    # Any registered channel name here; validation says which ones page people.
    kind: str = Field(min_length=1, max_length=32)
    address: str = Field(min_length=1, max_length=320)
    label: str = Field("", max_length=100)
    _reference: str = PrivateAttr(default="")


class NotificationRuleSpec(_Spec):
    # A contact method of the person: its label, its kind (when it is the only one of the
    # kind) or its address, as written.
    method: str = Field(min_length=1, max_length=320)
    delay_minutes: int = Field(0, ge=0, le=24 * 60)


class PersonSpec(_Spec):
    username: str = Username
    display_name: str = Field("", max_length=100)  # empty: the username
    time_zone: str = "UTC"
    language: Language = "en"
    contact_methods: list[ContactMethodSpec] = Field(default_factory=list, max_length=20)
    notification_rules: list[NotificationRuleSpec] = Field(default_factory=list, max_length=20)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zone_check(value)


def rule_method_index(person: PersonSpec, method: str) -> list[int]:
    """The contact methods (indexes) a rule's `method` names: by label, else by kind, else
    by address. One index: found; none or several: the rule is wrong."""
    methods = person.contact_methods
    for matches in (
        [i for i, m in enumerate(methods) if m.label and m.label == method],
        [i for i, m in enumerate(methods) if m.kind == method],
        [i for i, m in enumerate(methods) if (m._reference or m.address) == method],
    ):
        if matches:
            return matches
    return []


# --- teams ---------------------------------------------------------------------


class TeamMemberSpec(_Spec):
    username: str = Username
    role: Literal["member", "lead"] = "member"


class TeamSpec(_Spec):
    name: str = Field(min_length=1, max_length=100)
    escalation_policy: str | None = Field(None, min_length=1, max_length=100)
    # In order: round robin pages them in turn.
    members: list[TeamMemberSpec] = Field(default_factory=list, max_length=MAX_MEMBERS)


# --- schedules -----------------------------------------------------------------


class RestrictionSpec(_Spec):
    """On call only from `start` to `end` (the next day's when not after it), on `weekday`
    or every day when left out."""

    weekday: WeekdayName | None = None
    start: time
    end: time


class LayerSpec(_Spec):
    """A rotation: `members` take shifts of `shift_length` `shift_unit` in turn, the first
    starting on `start_date` at `handoff_time` (the schedule's wall clock) with the member
    at `start_position`."""

    name: str = Field(min_length=1, max_length=100)
    priority: int = Field(0, ge=0, le=100)  # higher layers win where they have someone
    start_date: date
    handoff_time: time
    shift_length: int = 1
    shift_unit: Literal["hours", "days", "weeks"] = "weeks"
    start_position: int = Field(0, ge=0)
    members: list[str]
    restrictions: list[RestrictionSpec] = Field(default_factory=list, max_length=50)

    @field_validator("shift_length")
    @classmethod
    def _shift_has_length(cls, value: int) -> int:
        if value < 1:
            raise ValueError("a shift of zero length: shift_length must be at least 1")
        if value > 1000:
            raise ValueError("shift_length must be at most 1000")
        return value

    @field_validator("members")
    @classmethod
    def _somebody(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a rotation with nobody: list at least one member")
        if len(value) > MAX_MEMBERS:
            raise ValueError(f"a rotation has at most {MAX_MEMBERS} members")
        return [name.strip() for name in value]

    @model_validator(mode="after")
    def _start_position_is_a_member(self) -> Self:
        if self.start_position >= len(self.members):
            raise ValueError(
                f"start_position {self.start_position} is past the last member "
                f"(0 to {len(self.members) - 1})"
            )
        return self


class OverrideSpec(_Spec):
    """replace: `person` instead of `replaces` (instead of everyone on call when left out);
    add: `person` as well; remove: `person` is off."""

    kind: Literal["replace", "add", "remove"] = "replace"
    person: str = Username
    replaces: str | None = Field(None, min_length=1, max_length=150)
    start: Instant
    end: Instant
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.replaces is not None and self.kind != "replace":
            raise ValueError(f"only a replace override names whom it replaces, not {self.kind}")
        return self


class TemporaryShiftSpec(_Spec):
    person: str = Username
    start: Instant
    end: Instant


class TemporarySpec(_Spec):
    """Replaces the whole schedule from `start` to `end` with its own shifts."""

    start: Instant
    end: Instant
    note: str = Field("", max_length=200)
    shifts: list[TemporaryShiftSpec] = Field(default_factory=list, max_length=500)


def _utc(value: datetime, zone: ZoneInfo) -> datetime:
    aware = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return aware.astimezone(UTC)


class ScheduleSpec(_Spec):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = "UTC"
    team: str | None = Field(None, min_length=1, max_length=100)
    layers: list[LayerSpec] = Field(default_factory=list, max_length=20)
    overrides: list[OverrideSpec] = Field(default_factory=list, max_length=MAX_OVERRIDES)
    temporaries: list[TemporarySpec] = Field(default_factory=list, max_length=100)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zone_check(value)

    @model_validator(mode="after")
    def _times_in_utc(self) -> Self:
        """Wall-clock times in the schedule's zone; then each range must run forwards."""
        zone = ZoneInfo(self.time_zone)
        for item in [*self.overrides, *self.temporaries,
                     *(shift for temporary in self.temporaries for shift in temporary.shifts)]:
            item.start, item.end = _utc(item.start, zone), _utc(item.end, zone)
        return self


def ranges_backwards(schedule: ScheduleSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) for each override, temporary or shift that does not end after it
    starts, and each shift outside its temporary schedule."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, override in enumerate(schedule.overrides):
        if override.end <= override.start:
            problems.append((("overrides", index, "end"), "end must be after start"))
    for index, temporary in enumerate(schedule.temporaries):
        if temporary.end <= temporary.start:
            problems.append((("temporaries", index, "end"), "end must be after start"))
        for shift_index, shift in enumerate(temporary.shifts):
            path = ("temporaries", index, "shifts", shift_index)
            if shift.end <= shift.start:
                problems.append(((*path, "end"), "end must be after start"))
            elif shift.start < temporary.start or shift.end > temporary.end:
                problems.append((path, "a shift lies inside its temporary schedule's start "
                                       "and end"))
    return problems


# --- escalation targets ----------------------------------------------------------

TARGET_KINDS: tuple[str, ...] = ("receiver", "person", "team", "on_call", "round_robin")


class TargetSpec(_Spec):
    """One target of a level, by the kind it names: `receiver: sre-slack`, `person: alice`,
    `team: payments` (every member), `on_call: primary` (with `layer:` that layer alone),
    `round_robin: payments` (the team's next person in turn). `fallback: true`: paged only
    when the level's other targets find nobody."""

    receiver: str | None = Field(None, min_length=1, max_length=100)
    person: str | None = Field(None, min_length=1, max_length=150)
    team: str | None = Field(None, min_length=1, max_length=100)
    on_call: str | None = Field(None, min_length=1, max_length=100)
    layer: str | None = Field(None, min_length=1, max_length=100)
    round_robin: str | None = Field(None, min_length=1, max_length=100)
    fallback: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        named = [kind for kind in TARGET_KINDS if getattr(self, kind) is not None]
        if len(named) != 1:
            raise ValueError(
                "a target names exactly one of receiver, person, team, on_call, round_robin"
                + (f" (not {' and '.join(named)})" if named else "")
            )
        if self.layer is not None and self.on_call is None:
            raise ValueError("layer goes with on_call (a layer of that schedule)")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in TARGET_KINDS if getattr(self, kind) is not None)

    @property
    def name(self) -> str:
        return getattr(self, self.kind)


def target_data(target: TargetSpec) -> dict[str, Any]:
    """The target as the file states it (its kind's key first)."""
    data: dict[str, Any] = {target.kind: target.name}
    if target.layer is not None:
        data["layer"] = target.layer
    if target.fallback:
        data["fallback"] = True
    return data
