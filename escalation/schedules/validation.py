"""Pure checks of a schedule spec: what is wrong, keyed by the field that is wrong.

Each check returns {field: [message, ...]} (empty when all is well); the
messages name the layer or override concerned. services.schedule_full_clean
adds what only the database knows (membership) and raises Django's
ValidationError with these keys. Bounds keep a hostile tenant's schedule
cheap to evaluate.

Overlapping overrides: two overrides overlap when their [start, end) ranges
intersect (touching ends do not) and either they are for the same person
(whatever their kinds) or both are replace overrides of the same `replaces`
(two "replace everyone" overrides included). Either way the result would
depend on an order nobody chose.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from itertools import pairwise

from django.utils.translation import gettext as _

from escalation.schedules.spec import (
    UNIT_STEPS,
    LayerSpec,
    OverrideSpec,
    ScheduleSpec,
    TemporarySpec,
)
from escalation.schedules.zones import zone_known

Problems = dict[str, list[str]]

MAX_LAYERS = 20
MAX_MEMBERS = 200
MAX_RESTRICTIONS = 50
MAX_SHIFT = timedelta(days=366)
EARLIEST_START = date(1970, 1, 1)
LATEST_START = date(2200, 12, 31)
OVERRIDE_KINDS = ("replace", "add", "remove")


def _add(problems: Problems, field: str, message: str) -> None:
    problems.setdefault(field, []).append(message)


def merge(*many: Problems) -> Problems:
    merged: Problems = {}
    for problems in many:
        for field, messages in problems.items():
            merged.setdefault(field, []).extend(messages)
    return merged


def zone_problems(time_zone: str) -> Problems:
    if zone_known(time_zone):
        return {}
    return {"time_zone": [_("%(zone)s is not a known IANA time zone (e.g. Europe/Berlin).")
                          % {"zone": repr(str(time_zone)[:64])}]}


def layer_problems(layer: LayerSpec) -> Problems:
    problems: Problems = {}
    layer_name = repr(layer.name)
    if not layer.members:
        _add(problems, "members", _(
            "Layer %(layer)s: a rotation with nobody; add at least one person."
        ) % {"layer": layer_name})
    elif len(layer.members) > MAX_MEMBERS:
        _add(problems, "members", _("Layer %(layer)s: at most %(max)d people in a rotation.")
             % {"layer": layer_name, "max": MAX_MEMBERS})
    if layer.shift_unit not in UNIT_STEPS:
        _add(problems, "shift_unit", _("Layer %(layer)s: the unit is hours, days or weeks.")
             % {"layer": layer_name})
    elif layer.shift_length < 1:
        _add(problems, "shift_length", _("Layer %(layer)s: a shift of zero length; at least 1.")
             % {"layer": layer_name})
    elif layer.step > MAX_SHIFT:
        _add(problems, "shift_length", _("Layer %(layer)s: a shift of at most %(days)d days.")
             % {"layer": layer_name, "days": MAX_SHIFT.days})
    if layer.members and not 0 <= layer.start_position < len(layer.members):
        _add(problems, "start_position", _(
            "Layer %(layer)s: start position %(position)d is beyond its %(count)d people "
            "(0 is the first)."
        ) % {"layer": layer_name, "position": layer.start_position,
             "count": len(layer.members)})
    if not EARLIEST_START <= layer.start_date <= LATEST_START:
        _add(problems, "start_date", _(
            "Layer %(layer)s: a start date between %(earliest)s and %(latest)s."
        ) % {"layer": layer_name, "earliest": EARLIEST_START, "latest": LATEST_START})
    if len(layer.restrictions) > MAX_RESTRICTIONS:
        _add(problems, "restrictions", _("Layer %(layer)s: at most %(max)d restrictions.")
             % {"layer": layer_name, "max": MAX_RESTRICTIONS})
    for restriction in layer.restrictions:
        if restriction.weekday is not None and not 0 <= restriction.weekday <= 6:
            _add(problems, "weekday", _(
                "Layer %(layer)s: a weekday from 0 (Monday) to 6 (Sunday)."
            ) % {"layer": layer_name})
        if restriction.end_time == restriction.start_time:
            _add(problems, "end_time", _(
                "Layer %(layer)s: a restriction ending when it starts (%(time)s); for all day, "
                "remove the restriction."
            ) % {"layer": layer_name, "time": f"{restriction.start_time:%H:%M}"})
    return problems


def override_problems(override: OverrideSpec) -> Problems:
    """One override's own fields (not its overlaps)."""
    problems: Problems = {}
    if override.kind not in OVERRIDE_KINDS:
        _add(problems, "kind", _("The kind is replace, add or remove."))
    if override.start.tzinfo is None or override.end.tzinfo is None:
        _add(problems, "start", _("Start and end need a time zone."))
    elif not override.end > override.start:
        _add(problems, "end", _("The end must be after the start."))
    if override.replaces is not None:
        if override.kind != "replace":
            _add(problems, "replaces", _("Only a replace override replaces someone."))
        elif override.replaces == override.person:
            _add(problems, "replaces", _("A person cannot replace themselves."))
    return problems


def _keys(override: OverrideSpec) -> Iterable[Hashable]:
    yield ("person", override.person)
    if override.kind == "replace":
        yield ("replaces", override.replaces)


def overlapping_overrides(
    overrides: Sequence[OverrideSpec],
) -> list[tuple[OverrideSpec, OverrideSpec]]:
    """Pairs of overlapping overrides (this module's definition), each later one with
    an earlier one it overlaps. O(n log n)."""
    groups: dict[Hashable, list[OverrideSpec]] = defaultdict(list)
    for override in overrides:
        for key in _keys(override):
            groups[key].append(override)
    pairs: list[tuple[OverrideSpec, OverrideSpec]] = []
    seen: set[tuple[int, int]] = set()
    for group in groups.values():
        group.sort(key=lambda o: (o.start, o.end))
        reaching = group[0] if group else None  # the one reaching furthest so far
        for override in group[1:]:
            if reaching is not None and override.start < reaching.end:
                pair = (id(reaching), id(override))
                if pair not in seen:
                    seen.add(pair)
                    pairs.append((reaching, override))
            if reaching is None or override.end > reaching.end:
                reaching = override
    return pairs


def overlaps_with(new: OverrideSpec, existing: Iterable[OverrideSpec]) -> list[OverrideSpec]:
    """The existing overrides the new one would overlap."""
    keys = set(_keys(new))
    return [
        other for other in existing
        if other.start < new.end and new.start < other.end and keys & set(_keys(other))
    ]


def describe(override: OverrideSpec, names: Mapping[int, str] | None = None) -> str:
    """E.g. 'replace override #7 for alice from 2026-01-12 08:00 UTC to ...'."""
    who = (names or {}).get(override.person) or _("person %(id)s") % {"id": override.person}
    kinds = {"replace": _("replace override"), "add": _("add override"),
             "remove": _("remove override")}
    kind = kinds.get(override.kind) or f"{override.kind} override"
    ident = f" #{override.override_id}" if override.override_id is not None else ""
    return _("%(kind)s%(ident)s for %(who)s from %(start)s to %(end)s") % {
        "kind": kind, "ident": ident, "who": who,
        "start": f"{override.start:%Y-%m-%d %H:%M %Z}", "end": f"{override.end:%Y-%m-%d %H:%M %Z}"}


def temporaries_problems(temporaries: Sequence[TemporarySpec]) -> Problems:
    problems: Problems = {}
    ordered = sorted(temporaries, key=lambda t: (t.start, t.end))
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            _add(problems, "temporaries", _(
                "Temporary schedules from %(earlier)s and %(later)s overlap."
            ) % {"earlier": f"{earlier.start:%Y-%m-%d %H:%M}",
                 "later": f"{later.start:%Y-%m-%d %H:%M}"})
    for temporary in temporaries:
        if not temporary.end > temporary.start:
            _add(problems, "temporaries", _("A temporary schedule must end after it starts."))
        for shift in temporary.shifts:
            if not shift.end > shift.start:
                _add(problems, "temporaries", _("A temporary shift must end after it starts."))
    return problems


def spec_problems(spec: ScheduleSpec, names: Mapping[int, str] | None = None) -> Problems:
    """Everything wrong with the spec that the spec alone can show (`names`: people's
    display names by id, for the messages)."""
    problems = merge(zone_problems(spec.time_zone), temporaries_problems(spec.temporaries))
    if len(spec.layers) > MAX_LAYERS:
        _add(problems, "layers", _("At most %(max)d layers.") % {"max": MAX_LAYERS})
    for layer in spec.layers:
        problems = merge(problems, layer_problems(layer))
    for override in spec.overrides:
        problems = merge(problems, override_problems(override))
    for earlier, later in overlapping_overrides(spec.overrides):
        _add(problems, "overrides", _("The %(later)s overlaps the %(earlier)s.") % {
            "later": describe(later, names), "earlier": describe(earlier, names)})
    return problems
