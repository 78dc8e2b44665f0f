"""What applying a file would change: created, changed, removed (pure).

Both sides are documents; secrets on both sides are plain values here (the
file's references resolved, the database's decrypted), so a changed secret
is noticed. Changes carry only redacted copies: a plan is printed and
audited, and must never show a secret.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from alerting.config.schema import ConfigDocument, RouteSpec, route_entries
from alerting.config.schema_oncall import WEEKDAY_INDEX, rule_method_index

REDACTED = "[redacted]"
REDACTED_CHANGED = "[redacted, changed]"
Action = Literal["created", "changed", "removed"]
_SYMBOLS = {"created": "+", "changed": "~", "removed": "-"}


@dataclass(frozen=True)
class Change:
    section: str
    key: str
    action: Action
    fields: tuple[str, ...] = ()
    before: dict[str, Any] | None = None  # redacted
    after: dict[str, Any] | None = None  # redacted
    label: str = ""  # what people read, where the key is not it (silences)

    def format(self) -> str:
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{_SYMBOLS[self.action]} {self.section}/{self.label or self.key}{detail}"


def spec_comparable(section: str, spec: Any) -> dict[str, Any]:
    data = spec.model_dump(mode="json", by_alias=True)
    if section == "escalation_policies":
        for level in data["levels"]:
            level["receivers"] = sorted(level["receivers"])
            # Stored in this order (others, then fallbacks): the file's order within each.
            level["targets"] = sorted(level["targets"], key=lambda target: target["fallback"])
    elif section == "people":
        _person_comparable(data, spec)
    elif section == "schedules":
        _schedule_comparable(data)
    return data


def _person_comparable(data: dict[str, Any], spec: Any) -> None:
    """Methods in one order, rules naming their method by kind and address: a file may
    list them in any order and name a method by its label, kind or address."""
    for method, method_spec in zip(data["contact_methods"], spec.contact_methods, strict=True):
        # Resolved: the value in `address`, what the file wrote beside it.
        method["address_reference"] = method_spec._reference
    for rule in data["notification_rules"]:
        found = rule_method_index(spec, rule["method"])
        if len(found) == 1:
            method = data["contact_methods"][found[0]]
            # Never an address from the environment: the plan is printed and audited.
            rule["method"] = f"{method['kind']} {method['address_reference'] or method['address']}"
    data["contact_methods"].sort(key=lambda method: (method["kind"], method["address"]))
    data["notification_rules"].sort(key=lambda rule: (rule["delay_minutes"], rule["method"]))


def _schedule_comparable(data: dict[str, Any]) -> None:
    """What has no order of its own (everything but a rotation's members) in one order."""
    data["layers"].sort(key=lambda layer: (-layer["priority"], layer["name"]))
    for layer in data["layers"]:
        layer["restrictions"].sort(key=lambda r: (r["weekday"] is not None,
                                                  WEEKDAY_INDEX.get(r["weekday"], -1),
                                                  r["start"], r["end"]))
    data["overrides"].sort(key=lambda o: (o["start"], o["end"], o["kind"], o["person"],
                                          o["replaces"] or ""))
    for temporary in data["temporaries"]:
        temporary["shifts"].sort(key=lambda shift: (shift["start"], shift["end"],
                                                    shift["person"]))
    data["temporaries"].sort(key=lambda t: (t["start"], t["end"]))


def route_comparables(
    routes: list[RouteSpec] | None, *, among: set[str] | None = None
) -> list[dict[str, Any]]:
    """Each route of a tree as one flat record: its own fields, its parent, its place.

    A route's nested routes are records of their own (a change to one is not
    a change to its parent). The place is the route's number among its
    siblings, counting only the routes `among` names: the order of routes
    is their meaning, but routes a file does not name (being removed, or
    kept by an import) must not shift the others.
    """
    records = []
    numbers: dict[str | None, int] = defaultdict(int)
    for entry in route_entries(routes):
        data = entry.spec.model_dump(mode="json", by_alias=True, exclude={"routes"})
        if data["receivers"] is not None:
            data["receivers"] = sorted(data["receivers"])
        data["parent"] = entry.parent
        if among is None or entry.spec.name in among:
            data["position"] = numbers[entry.parent]
            numbers[entry.parent] += 1
        else:
            data["position"] = -1
        records.append(data)
    return records


def spec_key(section: str) -> Callable[[dict[str, Any]], str]:
    if section == "templates":
        return lambda data: f"{data['channel']}/{data['language']}/{data['part']}"
    if section == "business_hours":
        return lambda data: f"{data['weekday']} {data['start'][:5]}-{data['end'][:5]}"
    if section == "people":
        return lambda data: data["username"]
    if section == "tenant":
        return lambda data: "settings"  # one per file
    if section == "silences":
        # Silences have no name: one is its content, and an edit replaces it.
        return lambda data: json.dumps(data, sort_keys=True)
    return lambda data: data["name"]


def _redacted(data: dict[str, Any] | None, other: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is not None and "contact_methods" in data:
        return _addresses_redacted(data, other)
    if data is None or "secrets" not in data:
        return data
    others = (other or {}).get("secrets") or {}
    secrets = {
        name: REDACTED_CHANGED if other is not None and others.get(name) != value else REDACTED
        for name, value in data["secrets"].items()
    }
    return {**data, "secrets": secrets}


def _addresses_redacted(data: dict[str, Any], other: dict[str, Any] | None) -> dict[str, Any]:
    """A person with each address that came from an ${ENV_VAR} shown as its reference only."""
    before = {
        method["address_reference"]: method["address"]
        for method in (other or {}).get("contact_methods", [])
        if method["address_reference"]
    }
    methods = []
    for method in data["contact_methods"]:
        reference = method["address_reference"]
        if reference:
            changed = other is not None and before.get(reference) != method["address"]
            method = {**method, "address": REDACTED_CHANGED if changed else REDACTED}
        methods.append(method)
    return {**data, "contact_methods": methods}


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    fields = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in ("secrets", "config") and isinstance(old, dict) and isinstance(new, dict):
            fields += [
                f"{name}.{key}"
                for key in sorted(set(old) | set(new))
                if old.get(key) != new.get(key)
            ]
        else:
            fields.append(name)
    return tuple(fields)


def _label(section: str, data: dict[str, Any]) -> str:
    return ", ".join(data["matchers"]) if section == "silences" else ""


def config_plan(
    *, desired: ConfigDocument, current: ConfigDocument, prune: bool = True
) -> list[Change]:
    """The changes, section by section in the order they are applied.

    Sections the desired document leaves out are not touched; without
    `prune`, nothing is removed (imports add to what is there).
    """
    changes: list[Change] = []
    for section in ConfigDocument.SECTIONS:
        wanted = desired.specs(section)
        if wanted is None:
            continue
        key = spec_key(section)
        if section == "routes":
            wanted_records = route_comparables(wanted)
            names = {data["name"] for data in wanted_records}
            current_records = route_comparables(current.routes, among=names)
        else:
            wanted_records = [spec_comparable(section, spec) for spec in wanted]
            current_records = [
                spec_comparable(section, spec) for spec in current.specs(section) or []
            ]
        new = {key(data): data for data in wanted_records}
        old = {key(data): data for data in current_records}
        for name, after in new.items():
            before = old.get(name)
            if before is None:
                changes.append(Change(section, name, "created", after=_redacted(after, None),
                                      label=_label(section, after)))
            elif before != after:
                changes.append(Change(
                    section, name, "changed", fields=_changed_fields(before, after),
                    before=_redacted(before, None), after=_redacted(after, before),
                ))
        if prune:
            for name, before in old.items():
                if name not in new:
                    changes.append(Change(section, name, "removed", before=_redacted(before, None),
                                          label=_label(section, before)))
    return changes
