"""Which alert state changes notify: pure rules, no database."""

from datetime import UTC, datetime

import pytest

from alerting.state import AlertStateChange, needs_notification

T1 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def change(status, previous_status="", starts_at=T1, previous_starts_at=None):
    return AlertStateChange(
        fingerprint="abc",
        status=status,
        previous_status=previous_status,
        started_anew=starts_at != previous_starts_at,
    )


@pytest.mark.parametrize(
    ("story", "alert", "notifies"),
    [
        ("a new firing alert", change("firing"), True),
        ("the same firing alert again", change("firing", "firing", T1, T1), False),
        ("firing again after a resolve", change("firing", "resolved", T2, T1), True),
        ("firing with a new startsAt", change("firing", "firing", T2, T1), True),
        ("a firing alert resolving", change("resolved", "firing", T1, T1), True),
        ("a resolve repeated", change("resolved", "resolved", T1, T1), False),
        ("a resolve for an alert never seen", change("resolved"), False),
    ],
)
def test_notification_follows_alert_state(story, alert, notifies):
    assert needs_notification(alert) is notifies, story


def moved(status, told=()):
    """An alert stored under another groupKey before, and what this group was told of it."""
    return AlertStateChange(
        fingerprint="abc", status=status, previous_status="", started_anew=False,
        moved=True, told_in_group=frozenset(told),
    )


@pytest.mark.parametrize(
    ("story", "alert", "notifies"),
    [
        ("firing, moved to a group never told", moved("firing"), True),
        ("firing, moved back to a group told already", moved("firing", {"firing"}), False),
        ("resolved, in a group told it fires", moved("resolved", {"firing"}), True),
        ("resolved, told that too", moved("resolved", {"firing", "resolved"}), False),
        ("resolved, in a group never told", moved("resolved"), False),
    ],
)
def test_an_alert_from_another_group_notifies_what_this_group_was_not_told(
    story, alert, notifies
):
    assert needs_notification(alert) is notifies, story
