"""Imported routing agrees with Alertmanager's own router, asked through `amtool`.

Each tree under samples/amtool/ is imported by `import_alertmanager_config`
into a tenant, read back as dispatch reads it, and asked where a few hundred
seeded random label sets go; `amtool config routes test` answers the same
question from the same file. Both must name the same receivers in the same
order, set for set (a route's Herald receivers are its Alertmanager
receiver's). Every imported route must be a match at least once, so every
branch of every tree is taken: besides sets drawn at random, a few are aimed
at each route (its path's matchers made true, the other labels random), since
a deep branch is rarely hit by chance.

`amtool` comes with Debian's prometheus-alertmanager package; `make test`
installs it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from alerting.config.alertmanager import alertmanager_import
from alerting.config.schema import route_entries
from alerting.matchers import Matcher, parse_matchers
from alerting.models import Route
from alerting.routing import routes_for
from alerting.selectors import route_rules
from receivers.models import Receiver

TREES = Path(__file__).parent / "samples" / "amtool"
SETS_PER_TREE = 320
AIMED_PER_ROUTE = 8
ABSENT = 0.3  # how often a label is left out of a set
# Per tree, the values each label takes: every value a matcher names or a regex
# takes, a near miss or two, and "other".
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "continue_with_children.yml": {
        "team": ("db", "ops", "sre", "web"),
        "env": ("prod", "dev", "staging"),
        "severity": ("critical", "error", "warning", "info"),
        "alertname": ("DiskFull", "Watchdog", "HighLatency"),
        "service": ("web", "api", "db"),
    },
    "continue_children.yml": {
        "team": ("web", "db"),
        "env": ("prod", "dev", "staging"),
        "severity": ("critical", "warning", "info"),
        "service": ("api", "web"),
        "alertname": ("Latency", "SlowQuery", "Slow", "DiskFull"),
    },
    "deep.yml": {
        "region": ("eu-west", "eu-central", "us-east"),
        "cluster": ("prod-1", "test-2", "testing"),
        "team": ("db", "ops", "web"),
        "severity": ("critical", "info", "none", "warning"),
        "env": ("prod", "dev"),
        "alertname": ("DiskFull", "Important", "Escalate", "HighLoad"),
        "instance": ("db-1", "db-22", "web-1"),
    },
    "match_styles.yml": {
        "team": ("db", "web", "ops"),
        "severity": ("critical", "error", "warning", "warn", "info"),
        "env": ("dev", "prod"),
        "alertname": ("DiskFull", "DiskSlow", "ReplicationLag", "HighLoad"),
        "instance": ("db-1", "db-x", "web-3"),
    },
}


@pytest.fixture(scope="module")
def amtool() -> str:
    found = shutil.which("amtool")
    if found is None:
        pytest.fail("amtool is missing: `make test` installs it (Debian's "
                    "prometheus-alertmanager package)", pytrace=False)
    return found


def label_sets(tree: str, specs) -> list[dict[str, str]]:
    pools = {name: (*values, "other") for name, values in LABELS[tree].items()}
    rng = random.Random(f"herald-amtool-{tree}")

    def drawn() -> dict[str, str]:
        return {name: rng.choice(values) for name, values in pools.items()
                if rng.random() >= ABSENT}

    paths: dict[str | None, list[Matcher]] = {None: []}
    aimed = []
    for entry in route_entries(specs):
        path = paths[entry.parent] + parse_matchers(", ".join(entry.spec.matchers))
        paths[entry.spec.name] = path
        aimed += [_made_true(path, drawn(), pools, rng) for _ in range(AIMED_PER_ROUTE)]
    return aimed + [drawn() for _ in range(SETS_PER_TREE - len(aimed))]


def _made_true(path: list[Matcher], labels: dict[str, str], pools, rng) -> dict[str, str]:
    """The label set changed, matcher by matcher, so that each (if it can) holds."""
    for matcher in path:
        if matcher.matches(labels):
            continue
        fitting = [value for value in ("", *pools.get(matcher.name, ()))
                   if matcher.matches({matcher.name: value})]
        if not fitting:
            continue
        value = rng.choice(fitting)
        labels.pop(matcher.name, None)
        if value:
            labels[matcher.name] = value
    return labels


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def amtool_receivers(amtool: str, path: Path, labels: dict[str, str]) -> list[str]:
    """What amtool says: the receivers of the matching routes, in the tree's order."""
    quoted = []
    for name, value in labels.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        quoted.append(f'{name}="{escaped}"')
    result = subprocess.run(  # noqa: S603 - amtool with our own file and labels
        [amtool, "config", "routes", "test", f"--config.file={path}", *quoted],
        capture_output=True, text=True, timeout=30, check=False,
        # A run lives some 30 ms: Go's collector only costs it time.
        env={**os.environ, "GOGC": "off"},
    )
    assert result.returncode == 0, f"amtool failed for {labels}: {result.stderr}"
    return result.stdout.strip().split(",")


@pytest.mark.parametrize("tree", sorted(LABELS))
def test_herald_routes_every_label_set_as_amtool_does(alpha, amtool, tree):
    path = TREES / tree
    call_command("import_alertmanager_config", str(path), tenant="alpha", stdout=StringIO())
    imported = alertmanager_import(text=path.read_text(), herald_url="https://h.example")
    sets = label_sets(tree, imported.document.routes)

    # A set drawn twice is asked once (amtool's answer is the same); every set is checked.
    distinct = list({_key(labels): labels for labels in sets}.values())
    with ThreadPoolExecutor(max_workers=min(16, 2 * (os.cpu_count() or 2))) as pool:
        asked = list(pool.map(lambda labels: amtool_receivers(amtool, path, labels), distinct))
    answer_of = {_key(labels): answer for labels, answer in zip(distinct, asked, strict=True)}
    answers = [answer_of[_key(labels)] for labels in sets]

    rules = route_rules()
    names = dict(Receiver.objects.values_list("id", "name"))
    matched: set[str] = set()
    disagreements = []
    for labels, answer in zip(sets, answers, strict=True):
        routes = routes_for(labels, rules)
        matched.update(route.name for route in routes)
        herald = [tuple(sorted(names[i] for i in route.receiver_ids)) for route in routes]
        alertmanager = [tuple(sorted(imported.receiver_names[name])) for name in answer]
        if herald != alertmanager:
            disagreements.append((labels, answer, herald))

    assert disagreements == [], f"{len(disagreements)} of {len(sets)} label sets disagree"
    assert matched == set(Route.objects.values_list("name", flat=True)), "a branch never taken"
