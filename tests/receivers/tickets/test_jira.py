"""Jira: an issue per incident opened, commented, resolved and reopened on a stand-in Jira.

Both APIs: Cloud (v3, ADF, Basic) and Data Center (v2, plain text, Bearer).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from receivers.transports import TransportError
from receivers.transports.jira import JiraSettings
from receivers.transports.jira_requests import COMMENT_PROPERTY, jira_dedup_key
from receivers.transports.settings import SettingsError
from tests.receivers.helpers import alert_message, transport
from tests.receivers.tickets.jira_standin import JiraStandIn, comment_text

FIRING = alert_message(incident=1, alert_group_id=7, notification_id=11)


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request, httpserver):
    return JiraStandIn(httpserver, cloud=request.param == "cloud").install()


def jira_transport(jira, secrets=None, **config):
    settings_config, settings_secrets = jira.receiver_settings(**config)
    return transport("jira", config=settings_config, secrets=secrets or settings_secrets)


def test_a_firing_incident_opens_one_issue_with_its_fields(jira):
    result = jira_transport(jira, components=["API"], labels=["herald"]).send(FIRING)

    issue = jira.only_issue()
    assert result.vendor_ref == {"issue_key": issue.key, "issue_id": issue.id}
    fields = issue.fields
    assert fields["summary"].startswith("[FIRING:2] HighLatency")
    assert fields["priority"] == {"name": "Highest"}  # severity critical
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["components"] == [{"name": "API"}]
    assert fields["labels"] == ["herald", jira_dedup_key(FIRING)]
    description = fields["description"]
    if jira.cloud:  # ADF on Cloud, plain text on Data Center (the stand-in refuses the other)
        assert description["type"] == "doc"
        assert "p99 latency on web-1" in str(description)
    else:
        assert "p99 latency on web-1" in description
    assert jira.problems == []


def test_the_next_message_of_the_incident_finds_the_issue_and_comments(jira):
    channel = jira_transport(jira)
    channel.send(FIRING)
    # A second worker without the first one's ref: the search finds the issue.
    result = channel.send(replace(FIRING, notification_id=12))

    issue = jira.only_issue()
    assert result.vendor_ref["issue_key"] == issue.key
    assert len(issue.comments) == 1
    assert "Still firing in Herald" in comment_text(issue.comments[0])
    assert issue.comments[0]["properties"] == [
        {"key": COMMENT_PROPERTY, "value": {"notification": 12}}
    ]


def test_a_later_message_with_the_issues_ref_skips_the_search(jira):
    channel = jira_transport(jira)
    key = channel.send(FIRING).vendor_ref["issue_key"]
    searches = len(jira.calls)
    acknowledged = replace(FIRING, notification_id=13, group_update="acknowledged",
                           acknowledged_by="Alice", group_state="acknowledged",
                           thread_root_ref={"issue_key": key})

    channel.send(acknowledged)

    assert [path for _, path in jira.calls[searches:]] == [f"{jira.api}/issue/{key}/comment"]
    assert "Acknowledged in Herald by Alice" in comment_text(jira.only_issue().comments[0])


def test_a_resolve_comments_and_takes_the_resolve_transition(jira):
    channel = jira_transport(jira)
    key = channel.send(FIRING).vendor_ref["issue_key"]
    resolved = alert_message("resolved", incident=1, alert_group_id=7, notification_id=14,
                             resolved_by="Alertmanager", thread_root_ref={"issue_key": key})

    result = channel.send(resolved)

    issue = jira.only_issue()
    assert result.vendor_ref == {"issue_key": key}
    assert (issue.status, issue.history) == ("Done", ["Done"])
    assert "Resolved in Herald (Alertmanager)" in comment_text(issue.comments[-1])


def test_a_refire_within_the_reopen_window_reopens_the_issue(jira):
    channel = jira_transport(jira, reopen_window_hours=72)
    key = channel.send(FIRING).vendor_ref["issue_key"]
    jira.move(key, "Done")

    result = channel.send(replace(FIRING, notification_id=15))

    issue = jira.only_issue()
    assert result.vendor_ref["issue_key"] == key
    assert (issue.status, issue.history) == ("To Do", ["Reopen"])
    assert "reopened" in comment_text(issue.comments[-1])


def test_past_the_reopen_window_or_wont_fix_a_new_issue_is_opened(jira):
    channel = jira_transport(jira, reopen_window_hours=1)
    old = channel.send(FIRING).vendor_ref["issue_key"]
    jira.move(old, "Done")
    jira.issues[old].resolutiondate = (datetime.now(UTC) - timedelta(hours=3)).strftime(
        "%Y-%m-%dT%H:%M:%S.000+0000")
    second = channel.send(replace(FIRING, notification_id=16)).vendor_ref["issue_key"]
    jira.move(second, "Won't Fix")
    third = channel.send(replace(FIRING, notification_id=17)).vendor_ref["issue_key"]

    assert len({old, second, third}) == 3
    assert jira.issues[old].history == [] and jira.issues[second].comments == []


def test_the_dedup_key_can_live_in_a_custom_field_instead_of_a_label(jira):
    channel = jira_transport(jira, dedup_field="customfield_10050", labels=["ops"])
    channel.send(FIRING)
    channel.send(replace(FIRING, notification_id=18))

    issue = jira.only_issue()
    assert issue.fields["labels"] == ["ops"]
    assert issue.fields["customfield_10050"] == jira_dedup_key(FIRING)
    assert len(issue.comments) == 1


def test_an_issue_without_the_resolve_transition_is_a_permanent_failure_naming_the_offered(
    jira,
):
    channel = jira_transport(jira, resolve_transition="Close")
    key = channel.send(FIRING).vendor_ref["issue_key"]

    with pytest.raises(TransportError) as failure:
        channel.send(alert_message("resolved", incident=1, alert_group_id=7,
                                   thread_root_ref={"issue_key": key}))

    assert failure.value.permanent
    assert "no transition 'Close'" in failure.value.message
    assert "Start, Done, Won't Fix" in failure.value.message
    assert jira.only_issue().status == "To Do"


def test_wrong_credentials_are_a_permanent_failure_that_names_no_secret(jira):
    secrets = ({"api_token": "wrong-token-0123456789"} if jira.cloud
               else {"personal_access_token": "wrong-pat-0123456789"})

    with pytest.raises(TransportError) as failure:
        jira_transport(jira, secrets=secrets).send(FIRING)

    assert (failure.value.permanent, failure.value.http_status) == (True, 401)
    assert "wrong-" not in failure.value.message
    assert jira.issues == {}


def test_a_429_is_retried_after_jiras_retry_after_and_a_5xx_is_retried(jira):
    jira.fail_next(429, {"Retry-After": "7"})
    with pytest.raises(TransportError) as throttled:
        jira_transport(jira).send(FIRING)
    assert (throttled.value.permanent, throttled.value.retry_after) == (False, 7.0)

    jira.fail_next(503)
    with pytest.raises(TransportError) as down:
        jira_transport(jira).send(FIRING)
    assert not down.value.permanent
    assert jira.issues == {}


def test_a_required_field_is_a_permanent_failure_with_jiras_message_scrubbed(jira):
    jira.required = {"customfield_10200": "Team is required."}
    channel = jira_transport(jira)

    with pytest.raises(TransportError) as failure:
        channel.send(FIRING)

    assert failure.value.permanent and failure.value.http_status == 400
    assert "customfield_10200: Team is required." in failure.value.message
    secret = channel.settings.secret("api_token" if jira.cloud else "personal_access_token")
    assert secret not in failure.value.message


def test_auto_picks_cloud_under_atlassian_net_and_data_center_elsewhere():
    def parsed(url, **secrets):
        return JiraSettings.parse(config={"base_url": url, "project_key": "OPS",
                                          "email": "a@example.com"}, secrets=secrets)

    assert parsed("https://acme.atlassian.net", api_token="t").cloud
    assert not parsed("https://jira.acme.example", personal_access_token="p").cloud


def test_bad_settings_name_the_setting():
    with pytest.raises(SettingsError) as failure:
        JiraSettings.parse(
            config={"base_url": "ftp://x", "project_key": "ops team",
                    "priorities": {"urgent": "P1"}, "dedup_field": "summary",
                    "labels": ["two words"], "reopen_window_hours": -1},
            secrets={},
        )
    assert set(failure.value.errors) >= {
        "base_url", "project_key", "priorities", "dedup_field", "labels", "reopen_window_hours",
    }
    with pytest.raises(SettingsError) as failure:
        JiraSettings.parse(config={"base_url": "https://x.example", "project_key": "OPS"},
                           secrets={})
    assert "personal_access_token" in str(failure.value)


def test_an_alertmanager_jira_config_imports_as_a_jira_receiver():
    from receivers.transports.jira_import import jira_from_alertmanager

    imported = jira_from_alertmanager({
        "api_url": "https://acme.atlassian.net/rest/api/2", "project": "OPS",
        "issue_type": "Bug", "reopen_duration": "1d12h", "labels": ["alertmanager", "{{ x }}"],
        "wont_fix_resolution": "Won't Fix",
        "http_config": {"basic_auth": {"username": "bot@acme.example", "password": "tok"}},
    }, {})

    assert imported.config["base_url"] == "https://acme.atlassian.net"
    assert imported.config["reopen_window_hours"] == 36
    assert imported.config["labels"] == ["alertmanager"]
    assert imported.secrets == {"api_token": "tok"}
    settings = JiraSettings.parse(config=imported.config, secrets=imported.secrets)
    assert settings.cloud and settings.skip_statuses == ["Won't Fix"]
    assert "labels with Go templates are not imported" in imported.notes


def test_an_acknowledgement_passed_on_is_a_comment_naming_who(jira):
    channel = jira_transport(jira, language="fr")
    key = channel.send(FIRING).vendor_ref["issue_key"]

    channel.send(replace(FIRING, acknowledged=True, acknowledged_by="Alice",
                         thread_root_ref={"issue_key": key}))

    assert "Acquitté dans Herald par Alice" in comment_text(jira.only_issue().comments[0])


def jira_form(**fields) -> dict[str, object]:
    return {"name": "ops-jira", "enabled": "on", "max_attempts": 3, "language": "en",
            "base_url": "https://acme.atlassian.net", "api_version": "auto",
            "email": "herald-bot@acme.example", "project_key": "OPS", "issue_type": "Task",
            "components": "[]", "labels": "[]", "priorities": '{"critical": "Highest"}',
            "reopen_window_hours": "72", "resolve_transition": "Done",
            "reopen_transition": "Reopen", "skip_statuses": '["Won\'t Fix"]',
            "acknowledged_statuses": '["In Progress"]', **fields}


def test_the_admin_form_keeps_the_tokens_secret_and_names_a_bad_setting(alpha):
    from receivers.forms import receiver_form_class

    form = receiver_form_class("jira")(data=jira_form(api_token="ATATT-secret",
                                                       webhook_secret="hook-secret"))
    assert form.is_valid(), form.errors
    assert "api_token" not in form.settings_config
    assert form.settings_secrets == {"api_token": "ATATT-secret", "webhook_secret": "hook-secret"}

    bad = receiver_form_class("jira")(data=jira_form(api_token="t", project_key="ops team",
                                                      priorities='{"urgent": "P1"}'))
    assert not bad.is_valid()
    assert {"project_key", "priorities"} <= set(bad.errors)


def test_an_issue_deleted_in_jira_is_opened_anew_on_the_next_firing_message(jira):
    channel = jira_transport(jira)
    key = channel.send(FIRING).vendor_ref["issue_key"]
    del jira.issues[key]

    result = channel.send(replace(FIRING, notification_id=19, thread_root_ref={"issue_key": key}))

    issue = jira.only_issue()
    assert result.vendor_ref["issue_key"] == issue.key != key
