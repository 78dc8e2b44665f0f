"""Nested routes in the configuration file: checked, planned, applied and exported as a tree."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from alerting.config.export import document_data
from alerting.config.loading import config_load
from alerting.config.plan import config_plan
from alerting.config.schema import ConfigDocument, RouteSpec
from alerting.config.validation import config_validate
from alerting.models import Route
from alerting.routing import MAX_DEPTH
from tests.factories import ReceiverFactory, RouteFactory

TREE = """\
routes:
  - name: db
    matchers: ['team="db"']
    receivers: [team]
    routes:
      - name: db-prod
        matchers: ['env="prod"']
        continue: true
        routes:
          - name: db-prod-critical
            matchers: ['severity="critical"']
            receivers: [pager]
      - name: db-info
        matchers: ['severity="info"']
        receivers: []
  - name: rest
    default: true
    receivers: [team]
"""


def problems(text: str, level: str = "standard") -> list[str]:
    return [f"{problem.severity}: {problem.dotted}: {problem.message}" for problem in
            config_validate(loaded=config_load(text), level=level, env={})]


RECEIVERS = "receivers:\n  - {name: team, kind: webhook, secrets: {url: 'https://93.184.216.34/t'}}\n"


def test_a_nested_tree_is_valid_and_its_references_are_checked_where_they_are():
    assert problems(RECEIVERS + TREE.replace("[pager]", "[team]")) == []
    assert problems(RECEIVERS + TREE) == [
        "error: routes[0].routes[0].routes[0].receivers[0]: no receiver named 'pager'",
    ]


def test_a_name_is_unique_across_the_whole_tree():
    text = TREE.replace("name: db-info", "name: db-prod")
    assert "error: routes[0].routes[1]: 'db-prod' is defined twice (first at " \
           "routes[0].routes[0])" in problems(text, level="basic")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("    receivers: [team]\n    routes:", "    default: true\n    routes:"),
         "a default route has no routes nested in it"),
        (("        receivers: []", "        default: true"),
         "a nested route cannot be a default route"),
    ],
)
def test_defaults_stay_at_the_top_and_alone(edit, message):
    found = problems(TREE.replace(*edit, 1), level="basic")
    assert any(message in problem for problem in found), found


def test_nesting_deeper_than_the_limit_is_refused():
    spec = RouteSpec(name="leaf")
    for depth in range(MAX_DEPTH - 1):
        spec = RouteSpec(name=f"r{depth}", routes=[spec])
    with pytest.raises(ValueError, match=f"at most {MAX_DEPTH} deep"):
        RouteSpec(name="top", routes=[spec])


def test_the_plan_names_each_route_once_and_a_move_changes_its_parent():
    current = ConfigDocument(routes=[
        RouteSpec(name="a", routes=[RouteSpec(name="x")]), RouteSpec(name="b"),
    ])
    desired = ConfigDocument(routes=[
        RouteSpec(name="a"), RouteSpec(name="b", routes=[RouteSpec(name="x")]),
    ])
    assert config_plan(desired=current, current=current) == []
    assert [c.format() for c in config_plan(desired=desired, current=current)] == [
        "~ routes/x (parent)",
    ]


def deploy(path) -> str:
    out = StringIO()
    call_command("deploy_receivers", str(path), tenant="alpha", stdout=out, stderr=StringIO())
    return out.getvalue()


def export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()


def test_the_tree_is_applied_and_exported_as_written(alpha, tmp_path):
    ReceiverFactory(name="team")
    ReceiverFactory(name="pager")
    path = tmp_path / "routes.yaml"
    path.write_text(TREE)

    assert deploy(path).strip().endswith("5 created, 0 changed, 0 removed")

    stored = {route.name: route for route in Route.objects.select_related("parent")}
    assert stored["db-prod-critical"].parent.name == "db-prod"
    assert stored["db-prod"].parent.name == "db" and stored["db-prod"].inherit_receivers
    assert stored["db-info"].position == 1 and not stored["db-info"].inherit_receivers
    assert stored["rest"].parent is None and stored["rest"].position == 1
    exported = document_data(config_load(export()).document)["routes"]
    assert exported == document_data(config_load(TREE).document)["routes"]
    assert exported[0]["routes"][1] == {  # nobody: said so, not left out
        "name": "db-info", "matchers": ['severity="info"'], "receivers": [],
    }
    assert deploy(path).strip() == "no changes"


def test_a_file_may_move_a_route_under_its_former_child(alpha, tmp_path):
    top = RouteFactory(name="top")
    RouteFactory(name="below", parent=top)
    path = tmp_path / "flipped.yaml"
    path.write_text("routes:\n  - name: below\n    routes:\n      - name: top\n")

    assert deploy(path).strip().endswith("0 created, 2 changed, 0 removed")
    assert Route.objects.get(name="top").parent.name == "below"
    assert Route.objects.get(name="below").parent is None
