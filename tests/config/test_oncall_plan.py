"""The plan of the on-call sections (pure): what changes, what is only spelt differently,
and never an address that came from the environment."""

from __future__ import annotations

from alerting.config.plan import config_plan
from alerting.config.schema import ConfigDocument
from alerting.config.schema_oncall import ContactMethodSpec, PersonSpec, ScheduleSpec

LAYER = {"name": "weekly", "start_date": "2026-01-05", "handoff_time": "09:00",
         "members": ["alice", "bob"]}


def resolved(kind: str, address: str, reference: str = "", label: str = ""):
    """A contact method as applying sees it: the value, and the reference it came from."""
    method = ContactMethodSpec(kind=kind, address=address, label=label)
    method._reference = reference
    return method


def person(*methods, rules=()) -> PersonSpec:
    return PersonSpec(username="alice", contact_methods=list(methods),
                      notification_rules=list(rules))


def test_an_address_from_the_environment_is_named_changed_but_never_shown():
    current = ConfigDocument(people=[person(
        resolved("email", "alice@old.example", "${ALICE_MAIL}"), resolved("email", "a@work.io"),
    )])
    desired = ConfigDocument(people=[person(
        resolved("email", "alice@new.example", "${ALICE_MAIL}"), resolved("email", "a@work.io"),
    )])

    (change,) = config_plan(desired=desired, current=current)

    assert change.format() == "~ people/alice (contact_methods)"
    by_address = {m["address_reference"] or m["address"]: m["address"]
                  for m in change.after["contact_methods"]}
    assert by_address == {"${ALICE_MAIL}": "[redacted, changed]", "a@work.io": "a@work.io"}
    assert change.before["contact_methods"][1]["address"] == "[redacted]"
    assert "alice@old.example" not in repr(change) and "alice@new.example" not in repr(change)


def test_order_and_spelling_that_mean_the_same_plan_nothing():
    current = ConfigDocument(
        people=[person(resolved("email", "a@work.io", label="work"),
                       resolved("email", "a@home.io", label="home"),
                       rules=[{"method": "work"}, {"method": "home", "delay_minutes": 5}])],
        schedules=[ScheduleSpec(name="primary", layers=[
            {**LAYER, "restrictions": [{"weekday": "mon", "start": "09:00", "end": "17:00"},
                                       {"start": "22:00", "end": "02:00"}]},
        ], overrides=[
            {"person": "bob", "start": "2026-02-01T00:00:00Z", "end": "2026-02-02T00:00:00Z"},
            {"kind": "add", "person": "alice", "start": "2026-01-01T00:00:00Z",
             "end": "2026-01-02T00:00:00Z"},
        ])],
    )
    desired = ConfigDocument(
        people=[person(resolved("email", "a@home.io", label="home"),
                       resolved("email", "a@work.io", label="work"),
                       rules=[{"method": "a@home.io", "delay_minutes": 5}, {"method": "work"}])],
        schedules=[ScheduleSpec(name="primary", layers=[
            {**LAYER, "restrictions": [{"start": "22:00", "end": "02:00"},
                                       {"weekday": "mon", "start": "09:00", "end": "17:00"}]},
        ], overrides=[
            # The same instants, written in another zone.
            {"kind": "add", "person": "alice", "start": "2026-01-01T01:00:00+01:00",
             "end": "2026-01-02T01:00:00+01:00"},
            {"person": "bob", "start": "2026-02-01T00:00:00Z", "end": "2026-02-02T00:00:00Z"},
        ])],
    )

    assert config_plan(desired=desired, current=current) == []


def test_who_takes_which_turn_is_a_change():
    current = ConfigDocument(schedules=[ScheduleSpec(name="primary", layers=[LAYER])])
    turned = ConfigDocument(schedules=[ScheduleSpec(name="primary", layers=[
        {**LAYER, "members": ["bob", "alice"]},
    ])])
    wall_clock = ConfigDocument(schedules=[ScheduleSpec(name="primary", layers=[LAYER],
                                                        time_zone="Europe/Berlin")])

    assert [c.format() for c in config_plan(desired=turned, current=current)] == [
        "~ schedules/primary (layers)",
    ]
    assert [c.format() for c in config_plan(desired=wall_clock, current=current)] == [
        "~ schedules/primary (time_zone)",
    ]
