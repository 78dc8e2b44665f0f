"""Importing a realistic alertmanager.yml: every receiver type, the route tree, the report."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from alerting.config.alertmanager import alertmanager_import
from alerting.config.export import document_data
from alerting.config.schema import route_entries
from alerting.matchers import parse_matchers
from alerting.models import Route
from alerting.routing import RouteRule, route_tree, routes_for
from receivers.models import Receiver
from tests.config.test_validation import SAMPLES
from tests.factories import ReceiverFactory, RouteFactory

AM = (SAMPLES / "alertmanager.yml").read_text()


@pytest.fixture(scope="module")
def imported():
    return alertmanager_import(text=AM, herald_url="https://herald.example.com")


def test_every_receiver_type_maps_field_by_field(imported):
    receivers = {spec["name"]: spec for spec in document_data(imported.document)["receivers"]}
    assert receivers == {
        "default-slack": {  # api_url from global.slack_api_url
            "name": "default-slack", "kind": "slack",
            "secrets": {"url": "https://hooks.slack.com/services/T0000/B0000/global"},
        },
        "db-pager-pagerduty-1": {
            "name": "db-pager-pagerduty-1", "kind": "pagerduty",
            "config": {"events_url": "https://events.eu.pagerduty.com/v2/enqueue",
                       "client": "Alertmanager (prod)"},
            "secrets": {"routing_key": "0123456789abcdef0123456789abcdef"},
        },
        "db-mail-email-1": {  # everything from the smtp_* globals
            "name": "db-mail-email-1", "kind": "email",
            "config": {"host": "smtp.example.com", "port": 587, "security": "starttls",
                       "username": "alertmanager", "from_address": "alertmanager@example.com",
                       "to": ["dba@example.com", "oncall@example.com"]},
            "secrets": {"password": "smtp-pa55"},
        },
        "db-mail-email-2": {  # its own smarthost on 465: implicit TLS
            "name": "db-mail-email-2", "kind": "email",
            "config": {"host": "mail.example.com", "port": 465, "security": "tls",
                       "username": "boss-relay", "from_address": "herald@example.com",
                       "to": ["boss@example.com"]},
            "secrets": {"password": "relay-secret"},
        },
        "web-webhook": {
            "name": "web-webhook", "kind": "webhook", "config": {"timeout_seconds": 15.0},
            "secrets": {"url": "https://hooks.example.com/alerts",
                        "authorization": "Bearer web-token"},
        },
        "web-discord": {
            "name": "web-discord", "kind": "discord",
            "config": {"username": "Alertmanager", "avatar_url": "https://example.com/am.png"},
            "secrets": {"url": "https://discord.com/api/webhooks/123/abc"},
        },
        "web-msteamsv2": {
            "name": "web-msteamsv2", "kind": "msteams",
            "secrets": {"url": "https://prod-01.westeurope.logic.azure.com/workflows/abc/"
                               "triggers/manual"},
        },
        "web-msteams": {
            "name": "web-msteams", "kind": "msteams",
            "secrets": {"url": "https://example.webhook.office.com/webhookb2/old"},
        },
        "ops-genie-opsgenie": {  # global opsgenie_api_url is the EU instance
            "name": "ops-genie-opsgenie", "kind": "opsgenie",
            "config": {"region": "eu", "responders": [{"type": "team", "name": "ops"}],
                       "tags": ["prod", "ops"]},
            "secrets": {"api_key": "genie-key"},
        },
        "ops-genie-telegram-1": {
            "name": "ops-genie-telegram-1", "kind": "telegram",
            "config": {"chat_id": -1001234567890, "message_thread_id": 42},
            "secrets": {"bot_token": "123456:AAbbcc"},
        },
    }


def test_the_route_tree_is_imported_node_for_node(imported):
    routes = document_data(imported.document)["routes"]
    assert routes == [
        {"name": "am.1-db-pager", "continue": True,
         "matchers": ['team="db"', 'severity=~"critical|error"'],
         "receivers": ["db-pager-pagerduty-1"],
         "routes": [
             {"name": "am.1.1-db-mail", "matchers": ['env="prod"'],
              "receivers": ["db-mail-email-1", "db-mail-email-2"]},
         ]},
        {"name": "am.2-web", "matchers": ['service=~"^(frontend|api)$"'],
         "receivers": ["web-webhook", "web-discord", "web-msteamsv2", "web-msteams"]},
        {"name": "am.3-ops-genie", "matchers": ['team="ops"'],
         "receivers": ["ops-genie-opsgenie", "ops-genie-telegram-1"]},
        # A receiver without integrations: nobody, said so (not "inherit").
        {"name": "am.4-blackhole", "matchers": ['alertname="Watchdog"'], "receivers": []},
        {"name": "am-default", "default": True, "receivers": ["default-slack"]},
    ]
    assert imported.receiver_names["blackhole"] == []
    assert imported.receiver_names["db-mail"] == ["db-mail-email-1", "db-mail-email-2"]


def test_a_nested_route_without_a_receiver_inherits_and_a_top_level_one_names_the_roots():
    text = """
route:
  receiver: root
  routes:
    - matchers: ['team="db"']
      routes:
        - matchers: ['env="prod"']
        - matchers: ['env="dev"']
          receiver: dev
receivers:
  - {name: root, webhook_configs: [{url: 'https://93.184.216.34/root'}]}
  - {name: dev, webhook_configs: [{url: 'https://93.184.216.34/dev'}]}
"""
    (db, default) = alertmanager_import(text=text, herald_url="https://h.example").document.routes
    assert (db.name, db.receivers, default.receivers) == ("am.1-root", ["root"], ["root"])
    assert [(r.name, r.receivers) for r in db.routes] == [("am.1.1-root", None),
                                                          ("am.1.2-dev", ["dev"])]


def herald_rules(specs):
    """The imported tree as dispatch would read it, receivers numbered by name."""
    entries = route_entries(specs)
    ids = {entry.spec.name: index for index, entry in enumerate(entries)}
    names = sorted({name for entry in entries for name in entry.spec.receivers or []})
    rules = [
        RouteRule(
            id=ids[entry.spec.name], name=entry.spec.name,
            matchers=tuple(parse_matchers(", ".join(entry.spec.matchers))),
            continue_matching=entry.spec.continue_matching, is_default=entry.spec.default,
            receiver_ids=tuple(names.index(name) for name in entry.spec.receivers or []),
            parent_id=ids.get(entry.parent), inherit_receivers=entry.spec.receivers != [],
        )
        for entry in entries
    ]
    return route_tree(rules), names


@pytest.mark.parametrize(
    ("labels", "alertmanager_sends_to"),
    [
        ({"team": "db", "severity": "critical", "env": "prod"}, {"db-mail"}),
        ({"team": "db", "severity": "error", "env": "staging"}, {"db-pager"}),
        ({"team": "db", "severity": "critical", "service": "api"}, {"db-pager", "web"}),
        ({"team": "db", "severity": "critical", "env": "prod", "service": "api"},
         {"db-mail", "web"}),
        ({"team": "ops", "alertname": "X"}, {"ops-genie"}),
        ({"alertname": "Watchdog"}, set()),
        ({"alertname": "Foo", "team": "db", "severity": "warning"}, {"default-slack"}),
    ],
)
def test_herald_routes_the_way_alertmanager_did(imported, labels, alertmanager_sends_to):
    rules, names = herald_rules(imported.document.routes)
    herald = {names[i] for rule in routes_for(labels, rules) for i in rule.receiver_ids}
    expected = {name for am in alertmanager_sends_to for name in imported.receiver_names[am]}
    assert herald == expected


def test_what_does_not_map_is_reported(imported):
    notes = "\n".join(imported.notes)
    for expected in [
        "receiver default-slack, slack_configs[0]: channel is not imported",
        "receiver db-pager, pagerduty_configs[0]: severity is not imported (Alertmanager's "
        "templates are Go templates",
        "receiver db-pager, pagerduty_configs[1]: not imported: service_key is an Events API v1",
        "receiver web, webhook_configs[0]: max_alerts is not imported",
        "receiver web, msteams_configs[0]: Office 365 connector webhooks are retired",
        "receiver ops-genie, opsgenie_configs[0]: responder type 'teams' is not imported",
        "receiver ops-genie, telegram_configs[1]: bot_token_file: the secret is in a file",
        "receiver legacy-hook: victorops_configs is not supported by Herald",
        "receiver legacy-hook, webhook_configs[0]: not imported: it already posts to Herald",
        "route.routes[1]: group_by ['alertname', 'service'] is Alertmanager's grouping",
        "route.routes[2]: mute_time_intervals is not imported",
        "inhibit_rules: not imported",
    ]:
        assert expected in notes


def test_the_snippet_points_alertmanager_at_herald(imported):
    assert imported.snippet.startswith(
        "route:\n  receiver: herald\n  group_by: [alertname, cluster]\n  group_wait: 30s\n"
    )
    assert "      - url: https://herald.example.com/api/v1/alertmanager/\n" in imported.snippet
    assert "            type: Bearer\n" in imported.snippet


def run(path, *, dry_run=False) -> str:
    out = StringIO()
    call_command("import_alertmanager_config", str(path), tenant="alpha", dry_run=dry_run,
                 stdout=out)
    return out.getvalue()


def test_the_command_imports_into_the_tenant_once(alpha):
    kept = ReceiverFactory(name="kept")
    RouteFactory(name="own-route", receivers=[kept], position=99)
    path = SAMPLES / "alertmanager.yml"

    dry = run(path, dry_run=True)
    assert "+ receivers/web-discord" in dry and "(dry run: nothing applied)" in dry
    assert Receiver.objects.count() == 1

    output = run(path)

    assert "16 change(s)" in output
    assert "Not imported, or not the same in Herald:" in output
    assert "approximat" not in output
    assert "the tenant's own routes (own-route) were kept: check their order" in output
    assert "credentials: <the tenant's ingest key" in output
    assert Receiver.objects.filter(name="kept").exists()  # an import removes nothing
    pager = Receiver.objects.get(name="db-pager-pagerduty-1")
    assert pager.secrets == {"routing_key": "0123456789abcdef0123456789abcdef"}
    assert pager.config["client"] == "Alertmanager (prod)"
    ordered = [route.name for route in Route.objects.order_by("position", "id")]
    assert [name for name in ordered if name.startswith("am")][-1] == "am-default"
    default = Route.objects.get(name="am-default")
    assert default.is_default and [r.name for r in default.receivers.all()] == ["default-slack"]
    assert Route.objects.get(name="am.1.1-db-mail").parent.name == "am.1-db-pager"
    assert not Route.objects.get(name="am.4-blackhole").inherit_receivers

    assert "no changes" in run(path)
