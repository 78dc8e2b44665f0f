"""Validation of the on-call sections: people, teams, schedules, targets (a mixin of
validation's checks; the coverage and balance reports are validation_coverage's).

basic     each contact method of a kind that pages people, its address valid for
          it (unless an ${ENV_VAR}), each rule naming one method; a team member
          listed once; ranges that run forwards; overrides that do not overlap
          (escalation.schedules.validation's definition); layer names once
standard  every username a member of the tenant (when there is one to ask),
          everyone named by a team, layer, override, shift or target defined
          (in the file's people or, when it has none, the tenant's), teams,
          schedules, layers, policies and receivers named exist, ${ENV_VAR}s
          in addresses set (and the value valid)
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from alerting.config.envrefs import env_resolve, has_reference
from alerting.config.loading import Path, Problem
from alerting.config.schedule_engine import engine_spec
from alerting.config.schema import ConfigDocument, route_entries
from alerting.config.schema_oncall import (
    PersonSpec,
    ScheduleSpec,
    ranges_backwards,
    rule_method_index,
)
from escalation.schedules.validation import layer_problems, overlapping_overrides
from receivers.carriers import CarrierEntry, carrier_conflicts
from receivers.transports.registry import (
    TRANSPORTS,
    contact_address_transport,
    contact_kind_choices,
)


class OnCallChecks:
    """Needs `document`, `known`, `env`, `members`, `at`, `_names` and `_reference`."""

    document: ConfigDocument
    known: ConfigDocument
    env: Mapping[str, str]
    members: set[str] | None

    # --- basic -------------------------------------------------------------

    def oncall_basic(self) -> list[Problem]:
        problems = self._page_carriers()
        for index, person in enumerate(self.document.people or []):
            problems += self._person(index, person)
        for index, team in enumerate(self.document.teams or []):
            seen: dict[str, int] = {}
            for position, member in enumerate(team.members):
                if member.username in seen:
                    problems.append(self.at(
                        ("teams", index, "members", position, "username"),
                        f"{member.username!r} is listed twice in team {team.name!r} "
                        f"(first at members[{seen[member.username]}])",
                    ))
                seen.setdefault(member.username, position)
        for index, schedule in enumerate(self.document.schedules or []):
            problems += self._schedule(index, schedule)
        return problems

    def _page_carriers(self) -> list[Problem]:
        """Carriers of a kind that pages people; per contact kind one default and each
        country prefix claimed once (receivers.carriers)."""
        problems = []
        carriers: list[CarrierEntry] = []
        index_of: dict[str, int] = {}
        for index, receiver in enumerate(self.document.receivers or []):
            if not receiver.carries_pages:
                continue
            path: Path = ("receivers", index, "carries_pages")
            transport = TRANSPORTS.get(receiver.kind)
            if transport is None or not transport.contact_kinds:
                problems.append(self.at(path, f"{receiver.kind} does not page people "
                                              "(a channel with contact kinds does)"))
                continue
            carriers.append(CarrierEntry(receiver.name, receiver.kind, receiver.config))
            index_of.setdefault(receiver.name, index)
        for conflict in carrier_conflicts(carriers):
            setting = ("carries_pages",) if conflict.setting == "carries_pages" else (
                "config", "country_prefixes")
            problems.append(self.at(("receivers", index_of[conflict.name], *setting),
                                    conflict.message))
        return problems

    def _person(self, index: int, person: PersonSpec) -> list[Problem]:
        base: Path = ("people", index)
        problems = []
        kinds = dict(contact_kind_choices())
        seen: set[tuple[str, str]] = set()
        labels: set[str] = set()
        for position, method in enumerate(person.contact_methods):
            here: Path = (*base, "contact_methods", position)
            if method.kind not in kinds:
                problems.append(self.at((*here, "kind"), f"{method.kind!r} is not a channel "
                                        f"that pages people ({', '.join(kinds) or 'none'})"))
                continue
            if (method.kind, method.address) in seen:
                problems.append(self.at((*here, "address"), "this address is listed twice"))
            seen.add((method.kind, method.address))
            if method.label and method.label in labels:
                problems.append(self.at((*here, "label"),
                                        f"the label {method.label!r} is used twice"))
            labels.add(method.label)
            if not has_reference(method.address):
                problems += self._address((*here, "address"), method.kind, method.address)
        for position, rule in enumerate(person.notification_rules):
            found = rule_method_index(person, rule.method)
            if len(found) != 1:
                problems.append(self.at(
                    (*base, "notification_rules", position, "method"),
                    f"{rule.method!r} names no contact method of {person.username!r} (a label, "
                    "a kind or an address)" if not found else
                    f"{rule.method!r} names {len(found)} contact methods: give them labels",
                ))
        return problems

    def _address(self, path: Path, kind: str, address: str, *, secret: bool = False):
        try:
            contact_address_transport(kind).contact_address_clean(address)
        except ValueError as exc:
            # The messages only: pydantic's text repeats the value, which may be a secret
            # when it came from the environment.
            errors = getattr(exc, "errors", None)
            messages = [str(error.get("msg", "")).removeprefix("Value error, ")
                        for error in errors()] if callable(errors) else [str(exc)]
            reason = "; ".join(message for message in messages if message)[:200]
            if secret and not callable(errors):
                reason = ""
            return [self.at(path, f"not a valid {kind} address" + (f": {reason}" if reason
                                                                   else ""))]
        return []

    def _schedule(self, index: int, schedule: ScheduleSpec) -> list[Problem]:
        base: Path = ("schedules", index)
        backwards = ranges_backwards(schedule)
        problems = [self.at((*base, *path), message) for path, message in backwards]
        seen: dict[str, int] = {}
        engine_layers = engine_spec(schedule)[0].layers
        for position, layer in enumerate(schedule.layers):
            # The engine's bounds (the schema has said the rest, restrictions are below).
            for field, messages in layer_problems(engine_layers[position]).items():
                if field in ("shift_length", "start_date"):
                    problems += [self.at((*base, "layers", position, field), message)
                                 for message in messages]
            if layer.name in seen:
                problems.append(self.at((*base, "layers", position, "name"),
                                        f"{layer.name!r} is defined twice (first at "
                                        f"layers[{seen[layer.name]}])"))
            seen.setdefault(layer.name, position)
            for number, restriction in enumerate(layer.restrictions):
                if restriction.start == restriction.end:
                    problems.append(self.at(
                        (*base, "layers", position, "restrictions", number, "end"),
                        "a restriction ending when it starts; for all day, leave it out"))
        ordered = sorted(range(len(schedule.temporaries)),
                         key=lambda i: (schedule.temporaries[i].start, i))
        for earlier, later in pairwise(ordered):
            if schedule.temporaries[later].start < schedule.temporaries[earlier].end:
                problems.append(self.at((*base, "temporaries", later, "start"),
                                        f"overlaps temporaries[{earlier}]: temporary schedules "
                                        "replace the whole schedule, one at a time"))
        by_priority: dict[int, str] = {}
        for position, layer in enumerate(schedule.layers):
            if layer.priority in by_priority and layer.name != by_priority[layer.priority]:
                problems.append(self.at(
                    (*base, "layers", position, "priority"),
                    f"layers {by_priority[layer.priority]!r} and {layer.name!r} have the same "
                    f"priority ({layer.priority}): where both have someone on call, the one "
                    "made first wins; give each its own", "warning"))
            by_priority.setdefault(layer.priority, layer.name)
        for position, override in enumerate(schedule.overrides):
            if override.replaces is not None and override.replaces == override.person:
                problems.append(self.at((*base, "overrides", position, "replaces"),
                                        "a person cannot replace themselves"))
        forwards = [o for o in engine_spec(schedule)[0].overrides if o.end > o.start]
        if forwards:
            for earlier, later in overlapping_overrides(forwards):
                first = schedule.overrides[earlier.override_id]
                problems.append(self.at(
                    (*base, "overrides", later.override_id),
                    f"overlaps overrides[{earlier.override_id}] ({first.kind} {first.person}, "
                    f"{first.start:%Y-%m-%d %H:%M} to {first.end:%Y-%m-%d %H:%M} UTC): for "
                    "the same person, or replacing the same one",
                ))
        return problems

    # --- standard ----------------------------------------------------------

    def oncall_standard(self) -> list[Problem]:
        problems = self._memberships() + self._removals()
        people = self._people()
        for index, team in enumerate(self.document.teams or []):
            for position, member in enumerate(team.members):
                problems += self._person_named(("teams", index, "members", position, "username"),
                                               member.username, people)
            if team.escalation_policy:
                problems += self._reference(("teams", index, "escalation_policy"),
                                            team.escalation_policy,
                                            self._names("escalation_policies"),
                                            "escalation policy")
        for index, schedule in enumerate(self.document.schedules or []):
            problems += self._schedule_references(index, schedule, people)
        problems += self._level_targets(people)
        teams = self._names("teams")
        for entry in route_entries(self.document.routes):
            if entry.spec.team:
                problems += self._reference((*entry.path, "team"), entry.spec.team, teams, "team")
        for index, person in enumerate(self.document.people or []):
            for position, method in enumerate(person.contact_methods):
                if not has_reference(method.address):
                    continue
                path: Path = ("people", index, "contact_methods", position, "address")
                resolved, missing = env_resolve(method.address, self.env)
                for variable in missing:
                    problems.append(self.at(path, f"environment variable {variable} is not set"))
                if not missing and method.kind in dict(contact_kind_choices()):
                    problems += self._address(path, method.kind, resolved, secret=True)
        return problems

    def _removals(self) -> list[Problem]:
        """What the file removes that the tenant's sections the file leaves out still use:
        deploying takes it out of them (a warning, so nobody is surprised)."""
        users: dict[str, set[str]] = {}  # username -> what uses them
        named: dict[tuple[str, str], set[str]] = {}  # (section, name) -> what uses it
        layers: dict[tuple[str, str], set[str]] = {}  # (schedule, layer) -> what uses it

        def use(key: tuple[str, str], by: str) -> None:
            named.setdefault(key, set()).add(by)

        if self.document.teams is None:
            for team in self.known.teams or []:
                for member in team.members:
                    users.setdefault(member.username, set()).add(f"team {team.name!r}")
        if self.document.schedules is None:
            for schedule in self.known.schedules or []:
                for layer in schedule.layers:
                    for username in layer.members:
                        users.setdefault(username, set()).add(f"schedule {schedule.name!r}")
                if schedule.team:
                    use(("teams", schedule.team), f"schedule {schedule.name!r}")
        if self.document.escalation_policies is None:
            for policy in self.known.escalation_policies or []:
                for level in policy.levels:
                    for target in level.targets:
                        by = f"escalation policy {policy.name!r}"
                        if target.person:
                            users.setdefault(target.person, set()).add(by)
                        elif target.on_call:
                            use(("schedules", target.on_call), by)
                            if target.layer:
                                layers.setdefault((target.on_call, target.layer), set()).add(by)
                        elif target.team or target.round_robin:
                            use(("teams", target.team or target.round_robin), by)
        if self.document.routes is None:
            for entry in route_entries(self.known.routes):
                if entry.spec.team:
                    use(("teams", entry.spec.team), f"route {entry.spec.name!r}")
        if self.document.people is not None:
            kept = {person.username for person in self.document.people}
            for username, used_by in sorted(users.items()):
                if username not in kept and username in (
                    {person.username for person in self.known.people or []}
                ):
                    named[("people", username)] = used_by
        problems = []
        for (section, name), used_by in sorted(named.items()):
            specs = getattr(self.document, section)
            if specs is None or name in {getattr(s, "username", None) or s.name for s in specs}:
                continue
            problems.append(self.at((section,), f"removes {name!r}, still used by "
                                                f"{' and '.join(sorted(used_by))} (not in "
                                                "this file)", "warning"))
        for index, schedule in enumerate(self.document.schedules or []):
            kept_layers = {layer.name for layer in schedule.layers}
            for (name, layer), used_by in sorted(layers.items()):
                if name == schedule.name and layer not in kept_layers:
                    problems.append(self.at(("schedules", index, "layers"),
                                            f"removes layer {layer!r}, still used by "
                                            f"{' and '.join(sorted(used_by))} (not in this "
                                            "file)", "warning"))
        return problems

    def _memberships(self) -> list[Problem]:
        people = self.document.people or []
        if not people:
            return []
        if self.members is None:
            return [self.at(("people",), "usernames not checked against a tenant's members: "
                                         "pass --tenant", "warning")]
        return [
            self.at(("people", index, "username"),
                    f"{person.username!r} is not a member of this tenant")
            for index, person in enumerate(people)
            if person.username not in self.members
        ]

    def _people(self) -> set[str] | None:
        specs = self.document.people if self.document.people is not None else self.known.people
        return None if specs is None else {person.username for person in specs}

    def _person_named(self, path: Path, username: str, people: set[str] | None):
        problems = self._reference(path, username, people, "person")
        if problems and problems[0].severity == "error":
            return [self.at(path, f"no person named {username!r} (each one paged is listed "
                                  "under people, by username)")]
        if not problems and self.document.people is None and self.members is not None and (
            username not in self.members
        ):
            problems = [self.at(path, f"{username!r} is not a member of this tenant")]
        return problems

    def _schedule_references(self, index: int, schedule: ScheduleSpec, people: set[str] | None):
        base: Path = ("schedules", index)
        problems = []
        if schedule.team:
            problems += self._reference((*base, "team"), schedule.team, self._names("teams"),
                                        "team")
        for number, layer in enumerate(schedule.layers):
            for position, username in enumerate(layer.members):
                problems += self._person_named((*base, "layers", number, "members", position),
                                               username, people)
        team = self._team_members(schedule.team)
        for number, override in enumerate(schedule.overrides):
            path: Path = (*base, "overrides", number, "person")
            found = self._person_named(path, override.person, people)
            problems += found
            if not found and team is not None and override.person not in team:
                # Who may stand in is the team's call (as schedule_full_clean has it).
                problems.append(self.at(path, f"{override.person!r} is not a member of team "
                                              f"{schedule.team!r}, whose schedule this is"))
            if override.replaces:
                problems += self._person_named((*base, "overrides", number, "replaces"),
                                               override.replaces, people)
        for number, temporary in enumerate(schedule.temporaries):
            for position, shift in enumerate(temporary.shifts):
                problems += self._person_named(
                    (*base, "temporaries", number, "shifts", position, "person"),
                    shift.person, people)
        return problems

    def _team_members(self, name: str | None) -> set[str] | None:
        teams = self.document.teams if self.document.teams is not None else self.known.teams
        for team in teams or []:
            if team.name == name:
                return {member.username for member in team.members}
        return None

    def _level_targets(self, people: set[str] | None) -> list[Problem]:
        problems = []
        names: dict[str, Any] = {
            "receiver": self._names("receivers"), "team": self._names("teams"),
            "round_robin": self._names("teams"), "on_call": self._names("schedules"),
        }
        what = {"receiver": "receiver", "team": "team", "round_robin": "team",
                "on_call": "schedule"}
        schedules = self.document.schedules if self.document.schedules is not None else (
            self.known.schedules or []
        )
        layers = {schedule.name: {layer.name for layer in schedule.layers}
                  for schedule in schedules}
        for index, policy in enumerate(self.document.escalation_policies or []):
            for number, level in enumerate(policy.levels):
                for position, target in enumerate(level.targets):
                    path: Path = ("escalation_policies", index, "levels", number, "targets",
                                  position)
                    kind = target.kind
                    if kind == "person":
                        problems += self._person_named((*path, "person"), target.person, people)
                        continue
                    found = self._reference((*path, kind), target.name, names[kind], what[kind])
                    problems += found
                    if kind == "on_call" and target.layer and not found and (
                        target.on_call in layers
                    ) and target.layer not in layers[target.on_call]:
                        problems.append(self.at((*path, "layer"),
                                                f"schedule {target.on_call!r} has no layer "
                                                f"named {target.layer!r}"))
        return problems
