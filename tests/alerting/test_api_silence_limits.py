"""A token cannot mute a tenant for long, nor mute everything without saying so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerting.models import Silence
from alerting.silence_limits import matchers_catch_all
from tenants.models import Tenant
from tenants.services import api_token_create
from tests.ingest import keep_schema


@pytest.fixture
def silence(alpha):
    """POST a silence with an `acknowledge` (and `write`) token; returns the response."""
    token = api_token_create(tenant=alpha, name="bot", scopes=["acknowledge", "write"])[1]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    def create(matchers: str = 'team="db"', hours: float = 2, **body):
        now = timezone.now()
        if "weekdays" not in body:
            body = {"startsAt": now.isoformat(),
                    "endsAt": (now + timedelta(hours=hours)).isoformat(), **body}
        with keep_schema():
            return client.post("/api/v1/silences/", {"matchers": matchers, **body},
                               content_type="application/json")

    return create


def test_a_silence_past_the_tenants_maximum_is_refused_naming_it(silence):
    response = silence(hours=7 * 24 + 1)

    assert response.status_code == 400
    assert "must end within 7 days from now" in response.json()["endsAt"][0]
    assert not Silence.objects.exists()
    assert silence(hours=7 * 24 - 1).status_code == 201


def test_a_silence_cannot_be_queued_to_start_later_beyond_the_maximum(silence):
    later = timezone.now() + timedelta(days=30)
    response = silence(startsAt=later.isoformat(),
                       endsAt=(later + timedelta(hours=1)).isoformat())
    assert response.status_code == 400
    assert "endsAt" in response.json()


def test_the_maximum_is_the_tenants_own_setting(alpha, silence):
    Tenant.objects.filter(pk=alpha.pk).update(silence_max_duration=timedelta(hours=12))

    refused = silence(hours=13)
    accepted = silence(hours=11)

    assert refused.status_code == 400
    assert "12 hours" in refused.json()["endsAt"][0]
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    "matchers",
    ['alertname=~".*"', 'alertname=~".+"', "{}", 'severity!="info"', 'team=""',
     '{alertname=~".*", team!~"test"}', 'job=~"x|.*"'],
)
def test_a_catch_all_silence_needs_an_explicit_confirmation(silence, matchers):
    refused = silence(matchers)

    assert refused.status_code == 400
    assert "confirmCatchAll" in refused.json()["matchers"][0]
    assert not Silence.objects.exists()

    confirmed = silence(matchers, confirmCatchAll=True)
    if matchers == "{}":  # no matcher at all is not a silence
        assert confirmed.status_code == 400
        assert "At least one matcher" in str(confirmed.json())
    else:
        assert confirmed.status_code == 201, confirmed.content
        assert Silence.objects.get().matchers == matchers


@pytest.mark.parametrize(
    "matchers", ['team="db"', 'alertname=~"Disk.*"', '{severity!="info", team="db"}'],
)
def test_a_silence_that_selects_something_needs_no_confirmation(silence, matchers):
    assert silence(matchers).status_code == 201


def test_a_weekly_window_is_checked_for_catch_all_too(silence):
    response = silence('alertname=~".*"', weekdays=[5], windowStart="22:00", windowEnd="02:00")
    assert response.status_code == 400
    assert "confirmCatchAll" in str(response.json())


@pytest.mark.parametrize(
    ("matchers", "catch_all"),
    [('alertname=~"(.*)"', True), ('instance!~"db-.*"', True), ('a=~"[a-z]*"', False),
     ('a=~"x"', False), ("not a matcher", False)],
)
def test_what_counts_as_catch_all(matchers, catch_all):
    assert matchers_catch_all(matchers=matchers) is catch_all
