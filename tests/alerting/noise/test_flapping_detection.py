"""Flapping, decided from state-change timestamps alone (alerting.flapping)."""

from alerting.flapping import FlapSettings, flap_series

SETTINGS = FlapSettings(threshold=6, window_seconds=1800)


def test_an_alert_that_changes_state_now_and_then_never_flaps():
    # one change an hour all day
    marks = flap_series([hour * 3600.0 for hour in range(24)], settings=SETTINGS)
    assert not any(flapping for _, flapping in marks)


def test_more_changes_than_the_threshold_within_the_window_mark_it_flapping():
    times = [minute * 60.0 for minute in range(0, 14, 2)]  # 7 changes in 12 minutes
    marks = flap_series(times, settings=SETTINGS)
    assert [flapping for _, flapping in marks] == [False] * 6 + [True]


def test_as_many_changes_as_the_threshold_are_not_flapping():
    marks = flap_series([minute * 60.0 for minute in range(6)], settings=SETTINGS)
    assert not marks[-1][1]


def test_the_same_changes_spread_wider_than_the_window_are_not_flapping():
    marks = flap_series([minute * 400.0 for minute in range(20)], settings=SETTINGS)
    assert not any(flapping for _, flapping in marks)


def test_it_calms_down_only_when_the_changes_in_the_window_fall_to_half_the_threshold():
    flips = [minute * 60.0 for minute in range(8)]  # flapping from the 7th change
    # then a change every 8 minutes: 4 in any half hour, above the calm threshold (3)
    slower = [flips[-1] + 480.0 * n for n in range(1, 8)]
    marks = flap_series(flips + slower, settings=SETTINGS)
    assert all(flapping for _, flapping in marks[6:]), "hysteresis keeps the mark"
    # it goes quiet: checked later, the window empties and the mark goes
    calm = flap_series(flips, settings=SETTINGS, checks=[flips[-1] + 1200.0, flips[-1] + 1801.0])
    assert calm[-2][1] is True  # 20 minutes later: still 8 changes in the window
    assert calm[-1][1] is False


def test_an_alert_flipping_all_day_keeps_a_bounded_history():
    from alerting.flapping import FlapState, flap_observe

    state = FlapState()
    for second in range(0, 86400, 10):
        state = flap_observe(state, at=float(second), settings=SETTINGS)
    assert state.flapping
    assert len(state.changes) <= SETTINGS.threshold + 1
