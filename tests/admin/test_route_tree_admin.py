"""An SRE nests routes in the admin, sees the tree, and cannot make it loop."""

from __future__ import annotations

from alerting.models import Route
from tests.admin.test_permissions import get, post
from tests.factories import ReceiverFactory, RouteFactory

FORM = {"position": 0, "matchers": "", "min_severity": 0, "inherit_receivers": "on"}


def test_a_route_is_nested_under_its_parent_and_the_list_shows_the_tree(alpha, users, client_as):
    client = client_as("editor")
    team = ReceiverFactory(name="db-team")
    db = RouteFactory(name="db", matchers='team="db"', receivers=[team])

    response = post(client, "/admin/alerting/route/add/",
                    {**FORM, "name": "db-prod", "parent": db.pk, "matchers": 'env="prod"'})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Route.objects.get(name="db-prod").parent == db
    page = get(client, "/admin/alerting/route/").content.decode()
    tree = page[page.index('id="route-tree"'):page.index("All routes")]
    assert tree.index(">db<") < tree.index(">db-prod<")
    assert "padding-left: 20px" in tree and "db-team (inherited)" in tree


def test_a_loop_or_a_nested_default_is_refused_with_the_reason(alpha, users, client_as):
    client = client_as("editor")
    top = RouteFactory(name="top")
    child = RouteFactory(name="child", parent=top)

    looped = post(client, f"/admin/alerting/route/{top.pk}/change/",
                  {**FORM, "name": "top", "parent": child.pk})
    nested_default = post(client, "/admin/alerting/route/add/",
                          {**FORM, "name": "fallback", "parent": top.pk, "is_default": "on"})

    assert looped.status_code == 200
    assert "cannot be nested under itself or under a route nested in it" in looped.content.decode()
    assert Route.objects.get(pk=top.pk).parent is None
    assert "A default route is a top-level route" in nested_default.content.decode()
    assert not Route.objects.filter(name="fallback").exists()
