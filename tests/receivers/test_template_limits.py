"""A hostile tenant's templates: each one is refused or stopped within the limits, never hangs.

Every case runs in a child process under a wall clock, so a regression fails
here instead of hanging the suite: the in-thread meter alone in a process of
its own (template_meter_cases.py), and the real renderer processes (which
kill what overruns) as deliveries use them.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from receivers.delivery import notification_deliver
from receivers.message_rendering import message_render
from receivers.models import MessageTemplate
from receivers.template_checks import template_source_check
from receivers.template_context import template_context
from receivers.template_limits import LimitExceeded, TemplateLimits
from receivers.template_render import template_render_source
from receivers.template_runner import templates_render_isolated
from receivers.template_samples import check_samples, sample_message
from tests.factories import NotificationFactory, ReceiverFactory

LIMITS = TemplateLimits()
PROJECT = Path(__file__).resolve().parents[2]
# Seconds a case may take, whatever it does: a few times the CPU limit.
WALL_CLOCK = 5.0

DEEP_REFERENCES = (
    "{% set a = ['x' * 1000000] %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
    "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{{ c }}"
)
EXPONENTIAL_MACRO = (
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}x{% endmacro %}{{ f(25) }}"
)

# (source, the limit that stops it): loops over literals, allocation through
# operators, methods and filters, recursion, exponential macros, huge integers.
HOSTILE = [
    ("{{ 'x' * 1000000000 }}", "max_value_size"),
    ("{{ [0] * 1000000000 }}", "max_value_size"),
    ("{{ ('x' * 600000) + ('y' * 600000) }}", "max_value_size"),
    ("{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}",
     "max_iterations"),
    ("{{ '%999999999d' % 1 }}", "max_value_size"),
    ("{{ '%.999999999f' % 1.5 }}", "max_value_size"),
    ("{{ 'x'.ljust(10 ** 9) }}", "max_value_size"),
    ("{{ 'x'.center(10 ** 9) }}", "max_value_size"),
    ("{{ 'x'.zfill(10 ** 9) }}", "max_value_size"),
    ("{{ ('\t' * 1000).expandtabs(10 ** 6) }}", "max_value_size"),
    ("{{ ('x' * 900000).replace('x', 'yy') }}", "max_value_size"),
    ("{{ '{:>1000000000}'.format('x') }}", "max_value_size"),
    ("{{ '{0}{0}{0}{0}'.format('x' * 400000) }}", "max_value_size"),
    ("{{ 'x'|center(1000000000) }}", "max_value_size"),
    ("{{ 'a\\nb'|indent(1000000000) }}", "max_value_size"),
    ("{{ '%s'|format('x') * 1000000000 }}", "max_value_size"),
    ("{{ (('x' * 2000)|list)|join('y' * 2000) }}", "max_value_size"),
    ("{{ ('x' * 900000)|replace('', 'yy') }}", "max_value_size"),
    ("{{ [1, 2]|batch(1000000000, 'x')|list }}", "max_value_size"),
    ("{{ range(10)|slice(1000000000)|list }}", "max_value_size"),
    ("{{ [['x' * 1000000] * 1000]|tojson }}", "max_value_size"),
    (DEEP_REFERENCES, "max_value_size"),
    ("{% set ns = namespace(x='ab') %}{% for i in range(100) %}"
     "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}", "max_value_size"),
    ("{% set x %}{% for i in range(1000) %}{{ 'y' * 900000 }}{% endfor %}{% endset %}"
     "{{ x|length }}", "max_output_chars"),
    ("{% for i in range(1000) %}{{ 'x' * 10000 }}{% endfor %}", "max_output_chars"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "max_depth"),
    ("{% for a in alerts recursive %}{{ loop(alerts) }}{% endfor %}", "max_depth"),
    (EXPONENTIAL_MACRO, "cpu_seconds"),
    ("{{ 10 ** (10 ** 10) }}", "max_int_bits"),
    ("{{ (2 ** 16384) ** 2 }}", "max_int_bits"),
    ("{{ (2 ** 10000) * (2 ** 10000) }}", "max_int_bits"),
]

# Refused outright: what the sandbox does not offer.
REFUSED = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ 'x'.translate({120: 'y' * 100}) }}",
    "{{ lipsum(1000000) }}",
    "{{ range(10 ** 9)|list }}",
    "{{ '%*d' % (1000000000, 1) }}",
    "{{ [[1] * 1000] * 1000|sum(start=[]) }}",
]


@pytest.fixture(scope="module")
def metered() -> dict[str, tuple[str, str | None, float]]:
    """Each hostile or refused source's verdict from the in-thread meter alone, by source."""
    sources = [source for source, _ in HOSTILE] + REFUSED
    request = pickle.dumps((sources, template_context(message=sample_message()), LIMITS,
                            WALL_CLOCK))
    done = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(Path(__file__).with_name("template_meter_cases.py"))],
        input=request, capture_output=True, timeout=WALL_CLOCK * (len(sources) + 2),
        cwd=PROJECT, env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    answers = {}
    for line in done.stdout.decode().splitlines():
        source, verdict, named, cpu_seconds = json.loads(line)
        answers[source] = (verdict, named, cpu_seconds)
    answers["stderr"] = done.stderr.decode()[-3000:]
    return answers


def _meter_verdict(metered, source: str) -> tuple[str, str | None, float]:
    if source not in metered:
        pytest.fail(f"the meter did not stop {source!r} within {WALL_CLOCK}s:\n"
                    f"{metered['stderr']}")
    return metered[source]


@pytest.mark.parametrize(("source", "limit"), HOSTILE)
def test_the_meter_stops_each_hostile_template_at_its_limit(metered, source, limit):
    verdict, named, cpu_seconds = _meter_verdict(metered, source)
    assert (verdict, named) == ("limit", limit)
    # Stopped at the limit, not long after it.
    assert cpu_seconds < 2 * LIMITS.cpu_seconds + 0.1


@pytest.mark.parametrize(("source", "limit"), HOSTILE)
def test_a_renderer_process_stops_each_hostile_template_and_names_the_limit(source, limit):
    context = template_context(message=sample_message())
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as failure:
        template_render_source(source, context)
    assert failure.value.limit == limit
    if limit != "max_output_chars":  # the output as a whole has no line
        assert str(failure.value).startswith("line 1: ")
    assert time.monotonic() - started < WALL_CLOCK


@pytest.mark.parametrize("source", REFUSED)
def test_what_the_sandbox_does_not_offer_is_refused_with_a_clear_error(metered, source):
    verdict, message, _ = _meter_verdict(metered, source)
    assert verdict == "error"
    assert message.startswith("line 1: ")


def test_a_render_that_outlives_the_wall_clock_is_killed_and_the_next_one_works():
    # A generous CPU limit, so neither the meter nor the CPU timer stops it
    # first: only the parent's wall clock does.
    limits = TemplateLimits(cpu_seconds=60, wall_seconds=0.5)
    context = template_context(message=sample_message())
    started = time.monotonic()
    (result,) = templates_render_isolated(
        jobs=[(EXPONENTIAL_MACRO, False)], context=context, limits=limits
    )
    assert isinstance(result, LimitExceeded)
    assert "did not finish within 0.5s" in str(result)
    assert time.monotonic() - started < 2.0
    (after,) = templates_render_isolated(
        jobs=[("{{ alertname }}", False)], context=context, limits=limits
    )
    assert after.text == "HighLatency"


def test_a_template_over_the_memory_limit_fails_alone():
    # Distinct strings just under the value limit: only memory stops them.
    source = (
        "{% set ns = namespace(kept=[]) %}{% for i in range(400) %}"
        "{% set ns.kept = ns.kept + [('x' * 999000) ~ i] %}{% endfor %}{{ ns.kept|length }}"
    )
    limits = TemplateLimits(memory_mb=64, cpu_seconds=5)
    context = template_context(message=sample_message())
    (result,) = templates_render_isolated(jobs=[(source, False)], context=context, limits=limits)
    assert isinstance(result, LimitExceeded)
    assert result.limit == "memory_mb"
    (after,) = templates_render_isolated(
        jobs=[("{{ alerts|length }}", False)], context=context, limits=limits
    )
    assert after.text == "2"


def test_the_renderer_gets_none_of_the_parents_secrets(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "never-in-the-child")
    limits = TemplateLimits()
    # A fresh child, started after the variable was set.
    from receivers import template_runner

    template_runner._pool().close()
    context = {"probe": "x"}
    (result,) = templates_render_isolated(jobs=[("{{ probe }}", False)], context=context,
                                          limits=limits)
    child = template_runner._pool()._idle[-1]
    with open(f"/proc/{child.process.pid}/environ", "rb") as environ:
        environment = environ.read()
    assert result.text == "x"
    assert b"never-in-the-child" not in environment
    assert b"DATABASE" not in environment


def test_an_override_stopped_at_send_time_falls_back_to_the_default_and_says_which_limit():
    rendered = message_render(
        channel="slack",
        message=sample_message(),
        overrides={("en", "title"): EXPONENTIAL_MACRO, ("en", "body"): "{{ 'x' * 10 ** 9 }}"},
    )
    assert rendered["title"].startswith("🔴 [FIRING:2] HighLatency")
    assert "*p99 latency on web-1 is 2.4s*" in rendered["body"]
    assert len(rendered.problems) == 2
    assert "CPU time" in rendered.problems[0]
    assert "over the limit of 1,000,000" in rendered.problems[1]


def test_a_template_slow_only_for_real_alert_groups_is_refused_on_save():
    # Quick for the two-alert sample, quadratic in the number of alerts.
    source = (
        "{% for a in alerts %}{% for b in alerts %}{% for c in alerts %}"
        "{% endfor %}{% endfor %}{% endfor %}{{ alerts|length }}"
    )
    assert template_render_source(source, template_context(message=sample_message())) == "2"
    with pytest.raises(LimitExceeded) as failure:
        template_source_check(channel="slack", part="body", source=source)
    assert "with the sample 'many alerts'" in str(failure.value)


def test_the_save_check_reports_the_slowest_sample():
    check = template_source_check(
        channel="slack", part="body", source="{% for a in alerts %}{{ a.labels|format_labels }}"
        "{% endfor %}",
    )
    assert check.slowest_sample == "many alerts"
    assert 0 < check.slowest_seconds < LIMITS.cpu_seconds
    assert {name for name, _ in check_samples()} >= {"many alerts", "long labels",
                                                       "no annotations"}


def test_a_delivery_whose_override_hits_a_limit_sends_the_default_and_records_why(
    alpha, httpserver
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    receiver = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for("/hook")})
    # Saved before it was checked, or slow only for what a real storm carries.
    MessageTemplate.objects.create(channel="slack", language="en", part="title",
                                   source=EXPONENTIAL_MACRO)
    notification = NotificationFactory(receiver=receiver)

    started = time.monotonic()
    result = notification_deliver(notification_id=notification.id)

    assert result.outcome == "delivered"
    assert time.monotonic() - started < WALL_CLOCK
    (request, _), = httpserver.log
    assert "[FIRING:1]" in json.loads(request.data)["text"]  # the default title
    notification.refresh_from_db()
    assert notification.state == "delivered"
    assert "the en 'title' template failed" in notification.last_error
    assert "CPU time" in notification.last_error and "used the default" in notification.last_error
    assert notification.delivery_attempts.get().error == notification.last_error


def test_a_renderer_that_died_while_idle_is_replaced_without_failing_the_next_render():
    from receivers import template_runner

    context = template_context(message=sample_message())
    template_render_source("{{ alertname }}", context)  # a renderer is up, and idle
    for child in template_runner._pool()._idle:
        child.process.kill()
        child.process.wait()
    assert template_render_source("{{ alerts|length }}", context) == "2"
