"""What counts as an alert storm, on synthetic series (alerting.storms)."""

import random

from alerting.storms import (
    Baseline,
    RateState,
    StormSettings,
    hour_of_week,
    rate_observe,
    storm_usual_count,
)

SETTINGS = StormSettings()
BUCKET = SETTINGS.bucket_seconds
START = 1_764_547_200.0  # Monday 2025-12-01 00:00 UTC


def run(counts, *, seasons=None, state=None):
    """One observation per bucket (its whole count at mid-bucket); the storm mark after each."""
    state = state or RateState()
    seasons = {} if seasons is None else seasons
    marks, events = [], []
    for index, count in enumerate(counts):
        observed = rate_observe(state, count=count, now=START + index * BUCKET + BUCKET / 2,
                                seasons=seasons, settings=SETTINGS)
        seasons.update(observed.seasons)
        state = observed.state
        marks.append(state.storm_since is not None)
        events.append("started" if observed.started else "ended" if observed.ended else "")
    return marks, events, state, seasons


def noisy(level, buckets, seed=1):
    rng = random.Random(seed)
    return [max(0, round(rng.gauss(level, level ** 0.5))) for _ in range(buckets)]


def test_the_first_hour_of_a_tenant_is_never_a_storm():
    marks, *_ = run([300] * SETTINGS.min_samples)
    assert not any(marks)


def test_a_steady_rate_never_storms():
    marks, *_ = run(noisy(12, 7 * 288))  # a week of 12 alerts per 5 minutes
    assert not any(marks)


def test_a_spike_is_a_storm_said_once_and_it_calms_down():
    marks, events, *_ = run([*noisy(12, 288), 340, *noisy(12, 24, seed=2)])
    assert marks[288] is True
    assert events.count("started") == 1
    # it ends when the first calm bucket after it closes
    assert events[290] == "ended"
    assert not any(marks[290:])


def test_the_storm_message_knows_the_usual_rate():
    _, _, state, seasons = run(noisy(12, 288))
    observed = rate_observe(state, count=340, now=START + 288 * BUCKET + 10, seasons=seasons)
    assert observed.started
    usual = storm_usual_count(observed.state, seasons.get(hour_of_week(START + 288 * BUCKET)))
    assert 9 <= usual <= 15


def test_a_sustained_step_storms_briefly_then_becomes_the_usual_level():
    marks, events, state, _ = run(noisy(12, 288) + noisy(100, 288, seed=3))
    assert marks[288], "the step's first bucket is far above the usual level"
    assert events.count("started") == 1
    storm_buckets = sum(marks)
    assert storm_buckets <= 6, f"calms within half an hour, not {storm_buckets} buckets"
    assert not any(marks[300:])
    assert state.recent.mean > 80


def test_a_slow_ramp_never_storms():
    # from 10 to 200 alerts per 5 minutes over two days: the baseline follows
    ramp = [round(10 + 190 * index / 576) for index in range(576)]
    marks, *_ = run(noisy(10, 288) + ramp)
    assert not any(marks)


def test_a_weekly_batch_job_becomes_usual_for_its_hour_of_the_week():
    week = 7 * 288
    monday_3am = 3 * 12  # bucket index of Monday 03:00

    def one_week(seed):
        counts = noisy(4, week, seed=seed)
        counts[monday_3am] = 150
        return counts

    marks, *_ = run(one_week(1) + one_week(2) + one_week(3) + one_week(4))
    first_monday = marks[monday_3am]
    fourth_monday = marks[3 * week + monday_3am]
    assert first_monday is True
    assert fourth_monday is False


def test_quiet_time_closes_buckets_and_ends_a_storm_without_new_alerts():
    _, _, state, seasons = run(noisy(12, 288))
    now = START + 288 * BUCKET + 10
    stormy = rate_observe(state, count=340, now=now, seasons=seasons).state
    calm = rate_observe(stormy, count=0, now=now + 2 * BUCKET, seasons=seasons)
    assert calm.ended and calm.state.storm_since is None


def test_days_of_silence_cost_a_bounded_loop():
    _, _, state, _ = run(noisy(12, 24))
    later = rate_observe(state, count=1, now=START + 365 * 86400.0, seasons={})
    assert later.state.recent.mean < 1
    assert isinstance(later.state.recent, Baseline)
