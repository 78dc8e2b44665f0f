"""The configuration file's shape: one pydantic model per section (pure).

A section left out of the file is not managed: applying the file leaves it
as it is. A section that is present (even empty) is made exactly so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

from limits import parse as rate_parse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alerting import flapping
from alerting.config.schema_oncall import (
    PersonSpec,
    ScheduleSpec,
    TargetSpec,
    TeamSpec,
    zone_check,
)
from alerting.config.sources import SourceSpec
from alerting.matchers import MatcherError, parse_matchers
from alerting.routing import MAX_DEPTH
from receivers.severity import MIN_SEVERITY_NAMES
from receivers.template_context import LANGUAGES
from receivers.transports import channel_kinds, channel_parts, templated_kinds


def _one_of(choices: Callable[[], tuple[str, ...]]) -> BeforeValidator:
    """A Literal whose values are read when validating: the registered channels,
    so a channel registered later (a plugin, a test's) is accepted too."""

    def check(value: Any) -> str:
        allowed = choices()
        if value not in allowed:
            quoted = [repr(choice) for choice in allowed]
            expected = " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1
                                   else quoted)
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return value

    return BeforeValidator(check)


Kind = Annotated[str, _one_of(channel_kinds)]
TemplatedChannel = Annotated[str, _one_of(templated_kinds)]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
# A route's minimum, in receivers.severity's one vocabulary ("any" takes every alert).
Severity = Literal[MIN_SEVERITY_NAMES]  # type: ignore[valid-type]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


def canonical_matchers(matchers: list[str]) -> list[str]:
    """Each matcher in one spelling (`name="value"`), so equal sets compare equal."""
    out: list[str] = []
    for text in matchers:
        try:
            out += [str(matcher) for matcher in parse_matchers(text)]
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
    return out


def time_zone_check(value: str) -> str:
    return zone_check(value)


class TenantSpec(_Spec):
    """The tenant's own settings that its configuration depends on."""

    time_zone: str = "UTC"  # business hours are in it
    # The admin's language for viewers whose profile and browser name none of Herald's.
    default_language: str = "en"
    # SMS and calls stop for the rest of the month once their prices reach it
    # (receivers.delivery.phone_limits); left out: no ceiling.
    phone_monthly_spend_ceiling: Decimal | None = Field(None, ge=0, le=10**9)

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        return time_zone_check(value)

    @field_validator("default_language")
    @classmethod
    def _language_known(cls, value: str) -> str:
        from tenants.models import LANGUAGE_CODES

        if value not in LANGUAGE_CODES:
            raise ValueError(f"{value!r} is not one of Herald's languages "
                             f"({', '.join(LANGUAGE_CODES)})")
        return value

    @field_validator("phone_monthly_spend_ceiling")
    @classmethod
    def _cents(cls, value: Decimal | None) -> Decimal | None:
        # As the tenant stores it (two places): "50" and "50.00" are one ceiling.
        return value.quantize(Decimal("0.01")) if value is not None else None


class ReceiverSpec(_Spec):
    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    enabled: bool = True
    max_attempts: int = Field(6, ge=1, le=50)
    # Retrying a page for less than a minute is never meant: the first backoff is longer.
    max_age_seconds: int = Field(6 * 3600, ge=60)
    # Empty: the server's HERALD_RECEIVER_RATE_LIMIT.
    rate_limit: str = Field("", max_length=64)
    # Another receiver (of the file, or of the tenant when nothing is pruned).
    fallback: str | None = Field(None, min_length=1, max_length=100)
    # Carries pages to people's contact methods of its kind (one receiver per kind).
    carries_pages: bool = False
    config: dict[str, Any] = Field(default_factory=dict)
    # Values are ${ENV_VAR} references (resolved when applied) or, below the
    # strict level, plain text.
    secrets: dict[str, str] = Field(default_factory=dict)

    @field_validator("rate_limit")
    @classmethod
    def _rate_parses(cls, value: str) -> str:
        if value:
            try:
                rate_parse(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a rate (e.g. 30/minute)") from None
        return value


def fallback_cycles(fallbacks: dict[str, str | None]) -> list[list[str]]:
    """Each cycle of receiver -> fallback once, as a path from its first receiver back to it
    (["a", "b", "a"]); receivers are walked in the mapping's order."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in fallbacks:
        path: list[str] = []
        name: str | None = start
        while name is not None and name in fallbacks and name not in done:
            if name in path:
                cycles.append([*path[path.index(name):], name])
                break
            path.append(name)
            name = fallbacks[name]
        done.update(path)
    return cycles


class TemplateSpec(_Spec):
    # Whitespace in a template is the template's: keep it as written.
    model_config = ConfigDict(str_strip_whitespace=False)

    channel: TemplatedChannel
    language: Language = "en"
    part: str
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _part_of_channel(self) -> Self:
        parts = channel_parts(self.channel)
        if self.part not in parts:
            raise ValueError(
                f"'{self.part}' is not a part of {self.channel} messages ({', '.join(parts)})"
            )
        return self


class RouteSpec(_Spec):
    """A route and the routes nested in it (tried, in order, for the alerts it matches)."""

    name: str = Field(min_length=1, max_length=100)
    matchers: list[str] = Field(default_factory=list)
    min_severity: Severity = "any"
    continue_matching: bool = Field(False, alias="continue")
    default: bool = False
    # Left out: a nested route notifies its parent's receivers; []: nobody.
    receivers: list[str] | None = None
    escalation_policy: str | None = None
    # Pages this team by its escalation policy, when the route names no policy.
    team: str | None = Field(None, min_length=1, max_length=100)
    # Flapping (docs/noise-control.md): more than flap_threshold state changes
    # within flap_window seconds; flap_hold: one summary per window instead.
    flap_threshold: int = Field(flapping.DEFAULT_THRESHOLD, ge=2, le=flapping.MAX_THRESHOLD)
    flap_window: int = Field(flapping.DEFAULT_WINDOW_SECONDS, ge=flapping.MIN_WINDOW_SECONDS,
                             le=flapping.MAX_WINDOW_SECONDS)
    flap_hold: bool = False
    routes: list[RouteSpec] = Field(default_factory=list)

    @field_validator("matchers")
    @classmethod
    def _matchers_parse(cls, value: list[str]) -> list[str]:
        return canonical_matchers(value)

    @model_validator(mode="after")
    def _default_on_top_alone(self) -> Self:
        if self.default and self.routes:
            raise ValueError("a default route has no routes nested in it")
        if any(child.default for child in self.routes):
            raise ValueError("a nested route cannot be a default route (defaults are top-level)")
        if self.height() > MAX_DEPTH:
            raise ValueError(f"routes nest at most {MAX_DEPTH} deep")
        return self

    def height(self) -> int:
        return 1 + max((child.height() for child in self.routes), default=0)


@dataclass(frozen=True)
class RouteEntry:
    """One route of a file's tree, flattened: its parent's name and its place in the file."""

    spec: RouteSpec
    parent: str | None
    index: int  # among its siblings
    path: tuple[str | int, ...]  # ("routes", 0, "routes", 2), for problems


def route_entries(routes: list[RouteSpec] | None) -> list[RouteEntry]:
    """Every route of the tree, each after its parent and in the file's order (depth first)."""
    entries: list[RouteEntry] = []

    def walk(specs: list[RouteSpec], parent: str | None, path: tuple[str | int, ...]) -> None:
        for index, spec in enumerate(specs):
            here = (*path, "routes", index)
            entries.append(RouteEntry(spec=spec, parent=parent, index=index, path=here))
            walk(spec.routes, spec.name, here)

    walk(routes or [], None, ())
    return entries


class LevelSpec(_Spec):
    delay_minutes: int = Field(0, ge=0)
    receivers: list[str] = Field(default_factory=list)
    # People, teams, schedules' on-call (schedule_oncall.TargetSpec), besides receivers.
    targets: list[TargetSpec] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _notifies_someone(self) -> Self:
        if not self.receivers and not self.targets:
            raise ValueError("a level names receivers or targets (or both)")
        return self


class PolicySpec(_Spec):
    name: str = Field(min_length=1, max_length=100)
    repeat: int = Field(0, ge=0, le=100)
    business_hours: Literal["always", "inside", "outside"] = "always"
    levels: list[LevelSpec] = Field(min_length=1)


class HoursSpec(_Spec):
    weekday: Weekday
    start: time
    end: time

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class SilenceSpec(_Spec):
    """One-off (starts_at, ends_at) or weekly (weekdays, window_start, window_end)."""

    matchers: list[str] = Field(min_length=1)
    comment: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[Weekday] = Field(default_factory=list)
    window_start: time | None = None
    window_end: time | None = None
    time_zone: str = "UTC"

    @field_validator("matchers")
    @classmethod
    def _matchers_parse(cls, value: list[str]) -> list[str]:
        return canonical_matchers(value)

    @model_validator(mode="after")
    def _once_or_weekly(self) -> Self:
        if self.weekdays:
            if self.window_start is None or self.window_end is None:
                raise ValueError("a weekly silence needs window_start and window_end")
            if self.starts_at or self.ends_at:
                raise ValueError("a weekly silence has no starts_at or ends_at")
        elif self.starts_at is None or self.ends_at is None or self.ends_at <= self.starts_at:
            raise ValueError("a one-off silence needs starts_at before ends_at")
        return self


class ConfigDocument(_Spec):
    tenant: TenantSpec | None = None
    receivers: list[ReceiverSpec] | None = None
    templates: list[TemplateSpec] | None = None
    # Bounded: validation walks each of them, and a schedule's 12 weeks are computed.
    people: list[PersonSpec] | None = Field(None, max_length=2000)
    teams: list[TeamSpec] | None = Field(None, max_length=500)
    schedules: list[ScheduleSpec] | None = Field(None, max_length=200)
    routes: list[RouteSpec] | None = None
    escalation_policies: list[PolicySpec] | None = None
    business_hours: list[HoursSpec] | None = None
    silences: list[SilenceSpec] | None = None
    sources: list[SourceSpec] | None = Field(None, max_length=200)

    # In the order they are applied: what a later section refers to comes first.
    SECTIONS: ClassVar[tuple[str, ...]] = (
        "tenant", "receivers", "templates", "people", "teams", "schedules",
        "escalation_policies", "routes", "business_hours", "silences", "sources",
    )

    def specs(self, section: str) -> list[Any] | None:
        """The section's specs as a list (`tenant`, a mapping, is a list of one)."""
        value = getattr(self, section)
        return [value] if isinstance(value, TenantSpec) else value
