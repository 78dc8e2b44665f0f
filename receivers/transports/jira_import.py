"""Alertmanager's jira_configs entries, imported as Jira receivers (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from receivers.transports.alertmanager import AlertmanagerMapping, ImportedReceiver, not_imported

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_API_TYPES = {"auto": "auto", "cloud": "3", "datacenter": "2"}


def _hours(duration: str) -> float | None:
    """A Go/Prometheus duration ("72h", "1d12h") in hours; None when it is not one."""
    match = _DURATION.match(duration.strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return days * 24 + hours + minutes / 60 + seconds / 3600


def jira_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    api_url = str(entry.get("api_url") or globals.get("jira_api_url") or "")
    if not api_url or not entry.get("project"):
        return not_imported("no api_url or project")
    notes: list[str] = []
    config: dict[str, Any] = {
        "base_url": re.sub(r"/rest/api/[23]/?$", "", api_url.rstrip("/")),
        "project_key": entry["project"],
        "issue_type": entry.get("issue_type") or None,
        "resolve_transition": entry.get("resolve_transition") or None,
        "reopen_transition": entry.get("reopen_transition") or None,
        "api_version": _API_TYPES.get(str(entry.get("api_type") or "auto"), "auto"),
    }
    if entry.get("reopen_duration"):
        hours = _hours(str(entry["reopen_duration"]))
        if hours is None:
            notes.append("reopen_duration is not a duration; the default (72h) is used")
        config["reopen_window_hours"] = hours
    labels = [str(label) for label in entry.get("labels") or [] if "{{" not in str(label)]
    if len(labels) != len(entry.get("labels") or []):
        notes.append("labels with Go templates are not imported")
    config["labels"] = labels or None
    if entry.get("wont_fix_resolution"):
        config["skip_statuses"] = [str(entry["wont_fix_resolution"])]
    secrets: dict[str, Any] = {}
    http = entry.get("http_config") or {}
    basic = http.get("basic_auth") or {}
    bearer = (http.get("authorization") or {}).get("credentials")
    if basic.get("username") and basic.get("password"):
        config["email"], secrets["api_token"] = basic["username"], basic["password"]
    elif bearer:
        secrets["personal_access_token"] = bearer
    else:
        notes.append("no credentials: set email and api_token, or personal_access_token")
    return ImportedReceiver(config={k: v for k, v in config.items() if v is not None},
                            secrets=secrets, notes=notes)


JIRA_MAPPING = AlertmanagerMapping(
    key="jira_configs",
    mapper=jira_from_alertmanager,
    send_resolved_default=True,
    reads=("api_url", "project", "issue_type", "resolve_transition", "reopen_transition",
           "reopen_duration", "labels", "wont_fix_resolution", "http_config", "api_type"),
    templated=("summary", "description", "priority", "fields"),
)
