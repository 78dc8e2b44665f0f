"""Noise control's rows, as a tenant's history would have left them."""

from __future__ import annotations

import math

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from alerting.noise import storm_settings
from alerting.storms import Baseline, storm_trigger_at


def _current_bucket() -> float:
    size = storm_settings().bucket_seconds
    return math.floor(timezone.now().timestamp() / size) * size


class TenantRateFactory(DjangoModelFactory):
    """The tenant's alert rate after a long, quiet history: `recent_mean` alerts per bucket."""

    class Meta:
        model = "alerting.NoiseRate"

    scope = "tenant"
    bucket_start = factory.LazyFunction(_current_bucket)
    bucket_count = 0
    recent_mean = 2.0
    recent_var = 1.0
    samples = 500
    trigger_at = factory.LazyAttribute(
        lambda o: storm_trigger_at(Baseline(o.recent_mean, o.recent_var, o.samples),
                                   storm_settings())
    )
    last_seen_at = factory.LazyFunction(timezone.now)
