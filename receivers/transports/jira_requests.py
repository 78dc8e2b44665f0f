"""Jira's requests and answers, pure: the dedup key, JQL, ADF, fields, comments, transitions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from django.utils import translation
from django.utils.translation import gettext as _

from receivers.messages import AlertMessage, group_dedup_key
from receivers.severity import severity_normalize
from receivers.truncation import truncate_text

if TYPE_CHECKING:
    from receivers.transports.jira import JiraSettings

SUMMARY_LIMIT = 255
# Jira's text fields hold 32,767 characters; ADF adds its own overhead.
TEXT_LIMIT = 30_000
COMMENT_PROPERTY = "herald"
def jira_dedup_key(message: AlertMessage) -> str:
    """The incident's key (pure): a label's worth of the group's hash, then the incident."""
    return f"herald-{group_dedup_key(message)[:32]}-{message.incident}"


def jql_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jira_search_jql(*, settings: JiraSettings, dedup_key: str) -> str:
    """Issues of the project with the incident's key, won't-fix statuses skipped (pure)."""
    if settings.dedup_field:
        number = settings.dedup_field.removeprefix("customfield_")
        # A text field is searched by words; the exact value is checked on the answer.
        match = f"cf[{number}] ~ {jql_quote(jql_quote(dedup_key))}"
    else:
        match = f"labels = {jql_quote(dedup_key)}"
    jql = f"project = {jql_quote(settings.project_key)} AND {match}"
    if settings.skip_statuses:
        skipped = ", ".join(jql_quote(status) for status in settings.skip_statuses)
        jql += f" AND status NOT IN ({skipped})"
    return jql + " ORDER BY created DESC"


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per block of lines."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        content: list[dict[str, Any]] = []
        for number, line in enumerate(block.split("\n")):
            if number:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        if content:
            paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def jira_issue_fields(
    *, settings: JiraSettings, summary: str, description: str, severity: str, dedup_key: str
) -> dict[str, Any]:
    """The create request's fields (pure)."""
    text = truncate_text(description, TEXT_LIMIT)
    fields: dict[str, Any] = {
        "project": {"key": settings.project_key},
        "issuetype": {"name": settings.issue_type},
        "summary": truncate_text(" ".join(summary.split()), SUMMARY_LIMIT) or "Herald alert",
        "description": adf(text) if settings.cloud else text,
        "labels": list(settings.labels),
    }
    if settings.dedup_field:
        fields[settings.dedup_field] = dedup_key
    else:
        fields["labels"].append(dedup_key)
    if settings.components:
        fields["components"] = [{"name": name} for name in settings.components]
    priority = settings.priorities.get(severity_normalize(severity), "")
    if priority:
        fields["priority"] = {"name": priority}
    return fields


def jira_comment_body(*, settings: JiraSettings, text: str, notification_id: int) -> dict:
    """A comment marked as Herald's (its `herald` property), ADF on Cloud (pure)."""
    text = truncate_text(text, TEXT_LIMIT)
    return {
        "body": adf(text) if settings.cloud else text,
        "properties": [{"key": COMMENT_PROPERTY, "value": {"notification": notification_id}}],
    }


def state_sentence(message: AlertMessage, language: str, *, reopened: bool = False) -> str:
    """The sentence a comment opens with, in the receiver's language."""
    with translation.override(language):
        if reopened:
            return _("Firing again in Herald: reopened.")
        if message.status == "resolved" or message.group_state == "resolved":
            if message.resolved_by:
                return _("Resolved in Herald (%(by)s).") % {"by": message.resolved_by}
            return _("Resolved in Herald.")
        update = "acknowledged" if message.acknowledged else message.group_update
        if update == "acknowledged":
            return _("Acknowledged in Herald by %(by)s.") % {"by": message.acknowledged_by or "?"}
        if update == "unacknowledged":
            return _("Unacknowledged in Herald; escalation runs again.")
        return _("Still firing in Herald.")


def jira_error_text(response: requests.Response) -> str:
    """What Jira says is wrong: its errorMessages and field errors, else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if not isinstance(body, dict):
        return response.text
    said = [str(m) for m in body.get("errorMessages") or [] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        said += [f"{field}: {problem}" for field, problem in errors.items()]
    return "; ".join(said) or response.text


def transition_matching(transitions: list[dict[str, Any]], name: str) -> dict | None:
    """The transition named `name` (or leading to a status of that name), case-blind."""
    wanted = name.casefold()
    for transition in transitions:
        to = transition.get("to") if isinstance(transition.get("to"), dict) else {}
        if wanted in (str(transition.get("name", "")).casefold(),
                      str(to.get("name", "")).casefold()):
            return transition
    return None


def jira_time(value: Any) -> datetime | None:
    """Jira's timestamps ("2026-12-01T10:00:00.000+0000"), or None."""
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(str(value or ""), pattern).astimezone(UTC)
        except ValueError:
            continue
    return None


def jira_category(issue: Mapping[str, Any]) -> str:
    """The issue's status category key: "new", "indeterminate" or "done"."""
    status = (issue.get("fields") or {}).get("status") or {}
    category = status.get("statusCategory") or {} if isinstance(status, dict) else {}
    return str(category.get("key", "")) if isinstance(category, dict) else ""
