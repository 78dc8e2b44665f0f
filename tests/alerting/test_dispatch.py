"""Who hears about an alert: routes, silences, and resolves to those who heard it fire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerting.models import Alert, AlertGroup
from alerting.services import alert_group_acknowledge, silences_ended_notify
from receivers.delivery import notification_deliver
from receivers.models import Notification
from tests.factories import (
    ReceiverFactory,
    RouteFactory,
    SilenceFactory,
    WebhookAlertFactory,
    WebhookPayloadFactory,
)
from tests.ingest import post, public_client


@pytest.fixture
def send(alpha, ingest_key):
    key = ingest_key(alpha)

    def send(**fields):
        payload = WebhookPayloadFactory(**fields)
        assert post(public_client(), payload, key).status_code == 200
        return payload

    return send


def told(receiver) -> list[tuple[str, list[str]]]:
    return [
        (n.status, [a["labels"]["alertname"] for a in n.alerts])
        for n in Notification.objects.filter(receiver=receiver).order_by("id")
    ]


def alert(name, status="firing", **labels):
    return WebhookAlertFactory(status=status, labels={"alertname": name, **labels})


def test_routes_send_each_alert_to_its_receivers(send):
    pager, chat, web = ReceiverFactory(), ReceiverFactory(), ReceiverFactory()
    RouteFactory(matchers='severity="critical"', receivers=[pager], continue_matching=True)
    RouteFactory(matchers='team="db"', receivers=[chat])
    RouteFactory(is_default=True, receivers=[web])

    send(alerts=[alert("DiskFull", severity="critical", team="db"),
                 alert("Latency", severity="warning", team="web")])

    assert told(pager) == [("firing", ["DiskFull"])]
    assert told(chat) == [("firing", ["DiskFull"])]
    assert told(web) == [("firing", ["Latency"])]


def test_nested_routes_notify_the_matched_route_inheriting_receivers_but_not_disabled_ones(send):
    team, oncall, off, general = (ReceiverFactory(), ReceiverFactory(),
                                  ReceiverFactory(enabled=False), ReceiverFactory())
    db = RouteFactory(matchers='team="db"', receivers=[team])
    RouteFactory(parent=db, matchers='severity="critical"', receivers=[oncall],
                 continue_matching=True)
    RouteFactory(parent=db, matchers='env="prod"')  # the team's, inherited
    RouteFactory(parent=db, matchers='env="dev"', receivers=[off])  # its own, disabled
    RouteFactory(is_default=True, receivers=[general])

    send(alerts=[alert("DiskFull", team="db", severity="critical", env="prod"),
                 alert("Slow", team="db", env="dev"),
                 alert("Odd", team="db", env="test")])

    assert told(oncall) == [("firing", ["DiskFull"])]
    assert told(team) == [("firing", ["DiskFull", "Odd"])]  # the second child; the parent
    assert told(off) == [] and told(general) == []  # never out of the db subtree


def test_a_minimum_severity_keeps_lesser_alerts_from_a_route(send):
    pager = ReceiverFactory()
    RouteFactory(min_severity=4, receivers=[pager])

    send(alerts=[alert("Latency", severity="warning")])

    assert told(pager) == []
    assert Alert.objects.count() == 1  # stored all the same


def test_without_routes_every_enabled_receiver_hears_everything(send):
    one, two = ReceiverFactory(), ReceiverFactory()
    ReceiverFactory(enabled=False)

    send()

    assert len(told(one)) == len(told(two)) == 1
    assert Notification.objects.count() == 2


def test_a_resolve_goes_to_those_who_heard_it_fire_and_only_those(send):
    db_team, web_team = ReceiverFactory(), ReceiverFactory()
    RouteFactory(matchers='team="db"', receivers=[db_team])
    RouteFactory(matchers='team="web"', receivers=[web_team])
    firing = alert("DiskFull", team="db")
    payload = send(alerts=[firing])

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])

    assert told(db_team) == [("firing", ["DiskFull"]), ("resolved", ["DiskFull"])]
    assert told(web_team) == []


def test_a_silenced_alert_is_stored_as_suppressed_and_notifies_nobody(send):
    chat = ReceiverFactory()
    silence = SilenceFactory(matchers='instance=~"db-.*"')

    send(alerts=[alert("DiskFull", instance="db-1"), alert("DiskFull", instance="web-1")])

    caught = Alert.objects.get(labels__instance="db-1")
    assert (caught.suppressed, caught.silenced_by_id) == (True, silence.id)
    assert [n.alerts[0]["labels"]["instance"] for n in Notification.objects.all()] == ["web-1"]
    assert told(chat) == [("firing", ["DiskFull"])]


def test_when_the_silence_ends_still_firing_alerts_notify(send):
    chat = ReceiverFactory()
    SilenceFactory(ends_at=timezone.now() + timedelta(minutes=30))
    send()
    assert told(chat) == []

    assert silences_ended_notify() == 0  # still silenced
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert silences_ended_notify() == 1

    assert told(chat) == [("firing", ["HighLatency"])]
    assert Alert.objects.get().suppressed is False
    assert silences_ended_notify() == 0


def test_a_resolve_for_an_alert_a_silence_held_back_notifies_nobody(send):
    chat = ReceiverFactory()
    SilenceFactory()
    firing = alert("HighLatency")
    payload = send(alerts=[firing])

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])

    assert told(chat) == []


def test_firing_again_after_a_resolve_is_a_new_incident_nobody_acknowledged(send):
    firing = alert("DiskFull")
    payload = send(alerts=[firing])
    alert_group_acknowledge(alert_group_id=AlertGroup.objects.get().id, by="alice")

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])
    send(groupKey=payload["groupKey"], alerts=[{**firing, "startsAt": "2026-11-23T12:00:00Z"}])

    group = AlertGroup.objects.get()
    assert (group.status, group.acknowledged_at, group.resolved_at) == ("firing", None, None)


def test_acknowledging_tells_pagerduty_and_opsgenie_but_not_chat(send):
    pagerduty = ReceiverFactory(kind="pagerduty", config={}, secrets={"routing_key": "k" * 32})
    chat = ReceiverFactory()
    send()

    alert_group_acknowledge(alert_group_id=AlertGroup.objects.get().id, by="alice")

    acknowledgements = Notification.objects.filter(acknowledgement=True)
    assert [n.receiver_id for n in acknowledgements] == [pagerduty.id]
    assert told(chat) == [("firing", ["HighLatency"])]


def test_after_a_failover_the_resolve_goes_to_the_fallback_only(send, httpserver, settings):
    settings.HERALD_GROUP_WINDOW_SECONDS = 0  # this story is not about grouping
    httpserver.expect_request("/primary").respond_with_data("down", status=500)
    httpserver.expect_request("/fallback").respond_with_data("ok")
    fallback = ReceiverFactory(name="fallback", secrets={"url": httpserver.url_for("/fallback")})
    primary = ReceiverFactory(
        name="primary", max_attempts=1, fallback=fallback,
        secrets={"url": httpserver.url_for("/primary")},
    )
    RouteFactory(is_default=True, receivers=[primary])
    firing = alert("DiskFull")
    payload = send(alerts=[firing])
    notification_deliver(notification_id=Notification.objects.get(receiver=primary).id)
    notification_deliver(notification_id=Notification.objects.get(receiver=fallback).id)

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])
    resolve = Notification.objects.get(status="resolved")
    notification_deliver(notification_id=resolve.id)

    assert resolve.receiver == fallback
    assert told(primary) == [("firing", ["DiskFull"])]  # failed over, never heard it
    statuses = [(r.path, r.get_json()["status"]) for r, _ in httpserver.log]
    assert statuses == [("/primary", "firing"), ("/fallback", "firing"),
                        ("/fallback", "resolved")]


def test_a_receiver_whose_firing_failed_for_good_is_not_sent_the_resolve(send):
    gone = ReceiverFactory(max_attempts=1)
    RouteFactory(is_default=True, receivers=[gone])
    firing = alert("DiskFull")
    payload = send(alerts=[firing])
    Notification.objects.filter(receiver=gone).update(state="failed")

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])

    assert told(gone) == [("firing", ["DiskFull"])]


def told_by_group(receiver) -> list[tuple[str, str]]:
    return [
        (n.alert_group.group_key, n.status)
        for n in Notification.objects.filter(receiver=receiver).order_by("id")
    ]


def test_an_alert_that_moves_to_another_group_is_told_in_that_group_once(send):
    ops = ReceiverFactory()
    firing = alert("DiskFull")
    send(groupKey="route-a", alerts=[firing])

    send(groupKey="route-b", alerts=[firing])  # Alertmanager's routes changed
    send(groupKey="route-b", alerts=[firing])  # … and it retries
    send(groupKey="route-a", alerts=[firing])  # a `continue` route keeps both groups going

    assert told_by_group(ops) == [("route-a", "firing"), ("route-b", "firing")]
    assert Alert.objects.count() == 1  # one alert, upserted by fingerprint


def test_the_resolve_of_a_moved_alert_reaches_each_group_that_heard_it_fire_once(send):
    ops = ReceiverFactory()
    firing = alert("DiskFull")
    resolved = {**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}
    send(groupKey="route-a", alerts=[firing])
    send(groupKey="route-b", alerts=[firing])

    send(groupKey="route-b", status="resolved", alerts=[resolved])
    send(groupKey="route-a", status="resolved", alerts=[resolved])
    send(groupKey="route-b", status="resolved", alerts=[resolved])  # a retry

    assert told_by_group(ops) == [
        ("route-a", "firing"), ("route-b", "firing"),
        ("route-b", "resolved"), ("route-a", "resolved"),
    ]


def test_a_resolved_alert_moving_to_a_group_that_never_heard_it_notifies_nobody(send):
    ops = ReceiverFactory()
    firing = alert("DiskFull")
    resolved = {**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}
    send(groupKey="route-a", alerts=[firing])
    send(groupKey="route-a", status="resolved", alerts=[resolved])

    send(groupKey="route-b", status="resolved", alerts=[resolved])

    assert told_by_group(ops) == [("route-a", "firing"), ("route-a", "resolved")]


def test_a_receiver_still_retrying_the_firing_gets_the_resolve_folded_into_it(
    send, httpserver
):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    hook = ReceiverFactory(secrets={"url": httpserver.url_for("/hook")})
    firing = alert("DiskFull")
    payload = send(alerts=[firing])
    notification_deliver(notification_id=Notification.objects.get(receiver=hook).id)  # 503

    send(groupKey=payload["groupKey"], status="resolved",
         alerts=[{**firing, "status": "resolved", "endsAt": "2026-11-23T11:00:00Z"}])
    resolve = Notification.objects.get(receiver=hook, status="resolved")
    notification_deliver(notification_id=resolve.id)  # before the firing's retry is due

    last = httpserver.log[-1][0].get_json()
    assert [a["status"] for a in last["alerts"]] == ["resolved"]  # not "firing" for ever
