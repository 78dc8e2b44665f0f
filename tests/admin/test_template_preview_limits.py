"""An editor previewing a runaway template: a quick answer naming the limit, no held web worker."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

from receivers.preview_gate import _PREVIEW_LOCKS
from tests.admin.test_permissions import post

PREVIEW = "/admin/receivers/messagetemplate/live-preview/"
RUNAWAY = "{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}"


def preview(client, source: str):
    return post(client, PREVIEW, {"channel": "slack", "part": "body", "source": source})


def test_a_good_preview_shows_its_render_time_and_the_slowest_check_sample(alpha, client_as):
    answer = preview(client_as("editor"), "{{ alerts|length }} alerts").json()
    assert answer["rendered"]["firing"] == "2 alerts"
    assert answer["render_ms"] >= 0 and answer["check_ms"] >= answer["render_ms"] / 10
    assert answer["check_sample"] in {"firing", "resolved", "many alerts", "long labels",
                                      "no annotations"}


def test_a_runaway_preview_answers_at_once_with_the_limit_it_hit(alpha, client_as):
    started = time.monotonic()
    answer = preview(client_as("editor"), RUNAWAY)
    assert answer.status_code == 200
    assert "loops ran more than 100,000 times" in answer.json()["error"]
    assert answer.json()["line"] == 1
    assert time.monotonic() - started < 2.0


def test_previews_over_the_users_rate_are_refused_and_other_users_still_preview(
    alpha, client_as, settings
):
    settings.HERALD_TEMPLATE_PREVIEW_RATE_LIMIT = "3/minute"
    editor = client_as("editor")
    answers = [preview(editor, "{{ alertname }}") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[-1]["Retry-After"] == "5"
    assert "Too many previews" in answers[-1].json()["error"]
    assert preview(client_as("admin"), "{{ alertname }}").json()["rendered"]["firing"] == (
        "HighLatency"
    )


@pytest.fixture
def every_preview_slot_taken(settings):
    """Another web process holding the only preview slot (its own database session)."""
    settings.HERALD_TEMPLATE_PREVIEW_CONCURRENCY = 1
    params = connection.get_connection_params()
    other = psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        **{key: params[key] for key in ("host", "port", "user") if params.get(key)},
        autocommit=True,
    )
    other.execute("SELECT pg_advisory_lock(%s, 0)", [_PREVIEW_LOCKS])
    yield
    other.execute("SELECT pg_advisory_unlock(%s, 0)", [_PREVIEW_LOCKS])
    other.close()


def test_a_preview_finding_every_slot_busy_is_refused_at_once(
    alpha, client_as, every_preview_slot_taken
):
    started = time.monotonic()
    answer = preview(client_as("editor"), "{{ alertname }}")
    assert answer.status_code == 429
    assert answer["Retry-After"] == "1"
    assert "Other previews are rendering" in answer.json()["error"]
    assert time.monotonic() - started < 1.0


def test_a_preview_slot_is_given_back_even_when_the_template_fails(alpha, client_as, settings):
    settings.HERALD_TEMPLATE_PREVIEW_CONCURRENCY = 1
    editor = client_as("editor")
    assert "loops ran" in preview(editor, RUNAWAY).json()["error"]
    assert preview(editor, "{{ alertname }}").json()["rendered"]["firing"] == "HighLatency"
