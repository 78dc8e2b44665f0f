"""The plan (pure): what changes, in which order, and never a secret in it."""

from __future__ import annotations

from alerting.config.plan import config_plan
from alerting.config.schema import ConfigDocument, ReceiverSpec, RouteSpec


def receiver(url: str, **extra) -> ReceiverSpec:
    return ReceiverSpec(name="hook", kind="webhook", secrets={"url": url}, **extra)


def test_equal_documents_plan_nothing():
    document = ConfigDocument(receivers=[receiver("https://a.example/x")], routes=[])
    assert config_plan(desired=document, current=document) == []


def test_a_changed_secret_is_named_but_never_shown():
    current = ConfigDocument(receivers=[receiver("https://a.example/old-token")])
    desired = ConfigDocument(receivers=[receiver("https://a.example/new-token", enabled=False)])

    (change,) = config_plan(desired=desired, current=current)

    assert change.format() == "~ receivers/hook (enabled, secrets.url)"
    assert change.before["secrets"] == {"url": "[redacted]"}
    assert change.after["secrets"] == {"url": "[redacted, changed]"}
    assert "token" not in repr(change)


def test_sections_left_out_and_removals_without_prune():
    current = ConfigDocument(
        receivers=[receiver("https://a.example/x")],
        routes=[RouteSpec(name="old"), RouteSpec(name="kept")],
    )
    desired = ConfigDocument(routes=[RouteSpec(name="kept"), RouteSpec(name="new")])

    pruned = [c.format() for c in config_plan(desired=desired, current=current)]
    added = [c.format() for c in config_plan(desired=desired, current=current, prune=False)]

    assert pruned == ["+ routes/new", "- routes/old"]  # receivers: not in the file, untouched
    assert added == ["+ routes/new"]


def test_reordering_routes_changes_their_position():
    current = ConfigDocument(routes=[RouteSpec(name="a"), RouteSpec(name="b")])
    desired = ConfigDocument(routes=[RouteSpec(name="b"), RouteSpec(name="a")])
    assert [c.format() for c in config_plan(desired=desired, current=current)] == [
        "~ routes/b (position)", "~ routes/a (position)",
    ]
