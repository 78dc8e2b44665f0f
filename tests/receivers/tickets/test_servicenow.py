"""ServiceNow: an incident opened, noted, resolved and reopened on a stand-in Table API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from receivers.messages import group_dedup_key
from receivers.transports import TransportError
from receivers.transports.servicenow import (
    WORK_NOTE_MARKER,
    ServiceNowSettings,
    servicenow_impact_urgency,
)
from receivers.transports.settings import SettingsError
from tests.receivers.helpers import alert_message, transport
from tests.receivers.tickets.servicenow_standin import PASSWORD, USER, StandInServiceNow


@pytest.fixture
def servicenow(httpserver):
    return StandInServiceNow(httpserver)


def servicenow_transport(servicenow, *, password=PASSWORD, **config):
    return transport("servicenow", config=servicenow.config(**config),
                     secrets={"password": password})


def later(message, result, **changes):
    """The next message of the same incident: it names the first one's ticket."""
    return replace(message, thread_root_ref=result.vendor_ref, **changes)


def test_a_firing_group_opens_an_incident_with_its_key_severity_and_texts(servicenow):
    sender = servicenow_transport(servicenow, assignment_group="Database", category="software",
                                  caller="6816f79cc0a8016401c5a33be04be441")

    result = sender.send(alert_message())

    [incident] = servicenow.incidents.values()
    assert result.vendor_ref == {"sys_id": incident["sys_id"], "number": "INC0000001"}
    assert incident["correlation_id"] == group_dedup_key(alert_message())
    assert incident["short_description"].startswith("[FIRING:2] HighLatency")
    assert "p99 latency on web-2 is 2.4s" in incident["description"]
    assert (incident["impact"], incident["urgency"]) == ("1", "1")  # critical
    assert incident["assignment_group"] == "Database"
    assert incident["category"] == "software"
    assert incident["state"] == "1"


def test_a_change_of_the_incident_is_a_marked_work_note_on_the_same_ticket(servicenow):
    sender = servicenow_transport(servicenow)
    first = alert_message()
    opened = sender.send(first)

    noted = sender.send(later(first, opened, group_update="acknowledged",
                              group_state="acknowledged", acknowledged_by="Alice"))

    assert noted.vendor_ref == opened.vendor_ref
    assert len(servicenow.incidents) == 1
    [note] = servicenow.work_notes[opened.vendor_ref["sys_id"]]
    assert note.startswith(f"{WORK_NOTE_MARKER} Acknowledged in Herald by Alice.")
    assert ("PATCH", f"/api/now/table/incident/{opened.vendor_ref['sys_id']}") in servicenow.calls


def test_a_resolved_group_resolves_the_incident_with_close_code_and_notes(servicenow):
    sender = servicenow_transport(servicenow, close_code="Workaround provided")
    first = alert_message()
    opened = sender.send(first)

    sender.send(later(first, opened, status="resolved", group_state="resolved",
                      alerts=alert_message("resolved").alerts))

    incident = servicenow.incidents[opened.vendor_ref["sys_id"]]
    assert incident["state"] == "6"
    assert incident["close_code"] == "Workaround provided"
    assert "All alerts of the group are resolved." in incident["close_notes"]


def test_a_refire_within_the_window_reopens_the_resolved_incident(servicenow):
    sender = servicenow_transport(servicenow, reopen_window_minutes=60)
    opened = sender.send(alert_message())
    sys_id = opened.vendor_ref["sys_id"]
    servicenow.resolve_by_hand(sys_id, at=datetime.now(UTC) - timedelta(minutes=30))

    # The next incident of the group: no thread root, found by its correlation_id.
    reopened = sender.send(alert_message(incident=2))

    assert reopened.vendor_ref == opened.vendor_ref
    assert servicenow.incidents[sys_id]["state"] == "2"
    assert "reopened by Herald" in servicenow.work_notes[sys_id][-1]
    assert len(servicenow.incidents) == 1


def test_a_refire_after_the_window_opens_a_new_incident(servicenow):
    sender = servicenow_transport(servicenow, reopen_window_minutes=60)
    opened = sender.send(alert_message())
    servicenow.resolve_by_hand(opened.vendor_ref["sys_id"],
                               at=datetime.now(UTC) - timedelta(hours=3))

    fresh = sender.send(alert_message(incident=2))

    assert fresh.vendor_ref["number"] == "INC0000002"
    assert servicenow.incidents[opened.vendor_ref["sys_id"]]["state"] == "6"


def test_a_closed_incident_is_never_written_to_again(servicenow):
    sender = servicenow_transport(servicenow)
    first = alert_message()
    opened = sender.send(first)
    servicenow.incidents[opened.vendor_ref["sys_id"]]["state"] = "7"

    again = sender.send(later(first, opened))
    resolved = sender.send(later(first, opened, status="resolved", group_state="resolved"))

    assert again.vendor_ref["number"] == "INC0000002"
    assert resolved.vendor_ref == opened.vendor_ref  # nothing open under the old ref
    assert servicenow.incidents[again.vendor_ref["sys_id"]]["state"] == "1"


@pytest.mark.parametrize(
    ("severity", "impact_urgency"),
    [("critical", ("1", "1")), ("high", ("2", "2")), ("warning", ("2", "3")),
     ("info", ("3", "3")), ("whatever", ("3", "3"))],
)
def test_impact_and_urgency_follow_heralds_severity(severity, impact_urgency):
    assert servicenow_impact_urgency(severity) == impact_urgency


def test_a_wrong_password_is_a_permanent_failure_that_names_no_secret(servicenow):
    sender = servicenow_transport(servicenow, password="wrong-password-123")

    with pytest.raises(TransportError) as failure:
        sender.send(alert_message())

    assert failure.value.permanent
    assert failure.value.http_status == 401
    assert "User Not Authenticated" in failure.value.message
    assert "wrong-password-123" not in failure.value.message
    assert not servicenow.incidents


def test_too_many_requests_is_retried_after_servicenows_delay(servicenow):
    servicenow.queued.append((429, {"Retry-After": "17"},
                              '{"error":{"message":"Rate limit exceeded"},"status":"failure"}'))
    sender = servicenow_transport(servicenow)

    with pytest.raises(TransportError) as failure:
        sender.send(alert_message())

    assert not failure.value.permanent
    assert failure.value.retry_after == 17
    assert not servicenow.incidents
    sender.send(alert_message())  # the retry
    assert len(servicenow.incidents) == 1


def test_a_refused_field_is_permanent_with_servicenows_own_message(servicenow):
    sender = servicenow_transport(servicenow)
    message = alert_message()
    # A template that renders nothing: ServiceNow refuses the incident.
    sender.templates = {("en", "short_description"): "{{ '' }}"}

    with pytest.raises(TransportError) as failure:
        sender.send(message)

    assert failure.value.permanent
    assert "The following fields are mandatory: Short description" in failure.value.message


def test_a_server_error_is_retried(servicenow):
    servicenow.queued.append((503, {}, "<html>maintenance</html>"))

    with pytest.raises(TransportError) as failure:
        servicenow_transport(servicenow).send(alert_message())

    assert not failure.value.permanent


def test_settings_need_one_credential_and_a_long_enough_webhook_secret():
    base = {"instance_url": "https://acme.service-now.com"}
    with pytest.raises(SettingsError) as missing:
        ServiceNowSettings.parse(config=base, secrets={})
    assert "username and password, or oauth_token" in str(missing.value)
    with pytest.raises(SettingsError) as both:
        ServiceNowSettings.parse(config={**base, "username": USER},
                                 secrets={"password": PASSWORD, "oauth_token": "t" * 40})
    assert "not both" in str(both.value)
    with pytest.raises(SettingsError) as short:
        ServiceNowSettings.parse(config={**base, "username": USER},
                                 secrets={"password": PASSWORD, "webhook_secret": "short"})
    assert "webhook_secret" in short.value.errors
    with pytest.raises(SettingsError) as leaked:
        ServiceNowSettings.parse(config={**base, "username": USER, "password": PASSWORD},
                                 secrets={})
    assert "password" in leaked.value.errors


def test_an_oauth_token_is_sent_as_a_bearer(servicenow):
    sender = transport("servicenow", config={"instance_url": servicenow.instance_url},
                       secrets={"oauth_token": "oauth-token-0123456789"})

    with pytest.raises(TransportError):
        sender.send(alert_message())  # the stand-in takes only its user's password

    [(request, _)] = servicenow.server.log
    assert request.headers["Authorization"] == "Bearer oauth-token-0123456789"


def test_a_secret_servicenow_echoes_in_its_error_is_masked(servicenow):
    servicenow.queued.append((400, {}, '{"error": {"message": "Invalid field", "detail": '
                                       f'"bad value {PASSWORD} for caller_id"}}}}'))

    with pytest.raises(TransportError) as failure:
        servicenow_transport(servicenow).send(alert_message())

    assert failure.value.permanent
    assert "Invalid field" in failure.value.message
    assert PASSWORD not in failure.value.message


def test_a_ticket_deleted_in_servicenow_is_opened_anew_for_the_incidents_news(servicenow):
    sender = servicenow_transport(servicenow)
    first = alert_message()
    opened = sender.send(first)
    del servicenow.incidents[opened.vendor_ref["sys_id"]]

    again = sender.send(later(first, opened))

    assert again.vendor_ref["number"] == "INC0000002"
    assert len(servicenow.incidents) == 1


def test_an_answer_without_a_proper_sys_id_is_refused_not_kept(servicenow):
    servicenow.queued += [(200, {}, '{"result": []}'),
                          (201, {}, '{"result": {"sys_id": "../../sys_user", "number": "X"}}')]

    with pytest.raises(TransportError) as failure:
        servicenow_transport(servicenow).send(alert_message())

    assert failure.value.permanent
    assert "without the incident's sys_id" in failure.value.message
