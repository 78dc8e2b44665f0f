"""The stored route tree: read as dispatch walks it, and never a cycle, whatever writes it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from alerting.models import Route
from alerting.selectors import route_outline, route_rules
from alerting.services import RouteTreeError, route_placement_check
from tests.factories import ReceiverFactory, RouteFactory


def test_the_stored_tree_is_read_in_order_with_receivers_resolved(alpha):
    team = ReceiverFactory(name="team")
    db = RouteFactory(name="db", position=1, matchers='team="db"', receivers=[team])
    RouteFactory(name="db-late", position=9, parent=db)
    RouteFactory(name="db-early", position=2, parent=db, inherit_receivers=False)
    RouteFactory(name="broken", position=3, parent=db, matchers="team=~(")
    RouteFactory(name="under-broken", parent=Route.objects.get(name="broken"))
    RouteFactory(name="other", position=0)

    (other, top) = route_rules()

    assert (other.name, top.name) == ("other", "db")
    assert [(child.name, child.receiver_ids) for child in top.children] == [
        ("db-early", ()), ("db-late", (team.id,)),  # the broken one goes with its subtree
    ]


def test_the_admin_outline_shows_depth_and_who_is_told(alpha):
    team = ReceiverFactory(name="team")
    db = RouteFactory(name="db", receivers=[team])
    RouteFactory(name="db-prod", parent=db)
    RouteFactory(name="db-info", parent=db, inherit_receivers=False)

    rows = [(row.route.name, row.depth, row.receivers) for row in route_outline()]

    assert rows == [("db", 0, "team"), ("db-prod", 1, "team (inherited)"),
                    ("db-info", 1, "nobody")]


def test_the_database_refuses_a_cycle_even_from_raw_writes(alpha):
    top = RouteFactory(name="top")
    middle = RouteFactory(name="middle", parent=top)
    bottom = RouteFactory(name="bottom", parent=middle)
    for parent in (bottom, top):  # under its own subtree, under itself
        with pytest.raises(IntegrityError), transaction.atomic():
            Route.objects.filter(pk=top.pk).update(parent=parent)
    Route.objects.filter(pk=bottom.pk).update(parent=top)  # a move that loops nothing
    assert Route.objects.get(pk=bottom.pk).parent == top


def test_the_service_says_why_a_placement_is_refused(alpha):
    top = RouteFactory(name="top")
    child = RouteFactory(name="child", parent=top)
    default = RouteFactory(name="default", is_default=True)
    with pytest.raises(RouteTreeError, match="under itself or under a route nested in it"):
        route_placement_check(route_id=top.pk, parent_id=child.pk, is_default=False)
    with pytest.raises(RouteTreeError, match="under a default route"):
        route_placement_check(route_id=None, parent_id=default.pk, is_default=False)
    route_placement_check(route_id=child.pk, parent_id=None, is_default=True)
