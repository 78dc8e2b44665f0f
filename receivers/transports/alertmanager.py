"""What a channel declares so that Alertmanager's `<integration>_configs` entries import (pure).

Each channel lists one `AlertmanagerMapping` per Alertmanager key it takes
(Teams takes two). alerting.config.alertmanager walks the file and reports,
from these declarations, every field the mapping does not read; the mapping's
function turns one entry (with the file's `global` section) into the
channel's settings and secrets, or says why it cannot.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Herald's own ingest path: an Alertmanager webhook that already posts here is not a receiver.
INGEST_PATH = "/api/v1/alertmanager/"


@dataclass
class ImportedReceiver:
    """One entry, mapped: the channel's settings and secrets, and what the reader should know."""

    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    imported: bool = True
    # Another channel than the mapping's own, when the entry's settings say so
    # (a slack_configs entry that posts with an app's bot token is a slack_app).
    kind: str = ""


def not_imported(reason: str) -> ImportedReceiver:
    return ImportedReceiver(notes=[f"not imported: {reason}"], imported=False)


# (entry, globals) -> the mapped receiver. Pure: it reads only what it is given.
Mapper = Callable[[Mapping[str, Any], Mapping[str, Any]], ImportedReceiver]


@dataclass(frozen=True)
class AlertmanagerMapping:
    key: str  # "slack_configs"
    mapper: Mapper
    # Alertmanager's own default for send_resolved on this integration.
    send_resolved_default: bool
    # Fields the mapper reads; every other field is reported as not imported.
    reads: tuple[str, ...] = ()
    # Fields whose value is a Go template: Herald renders its own (Jinja2) templates.
    templated: tuple[str, ...] = ()
    # Fields left out on purpose, with the reason the import reports.
    ignored: Mapping[str, str] = field(default_factory=dict)
    # Other channels an entry may import as (ImportedReceiver.kind): a Slack
    # entry posting with an app's bot token is a slack_app receiver.
    other_kinds: tuple[str, ...] = ()


# --- helpers the mappers share ---------------------------------------------


def http_authorization(config: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The Authorization header value from http_config, if any, and notes on the rest."""
    http = dict(config.get("http_config") or {})
    notes: list[str] = []
    authorization = ""
    if auth := http.pop("authorization", None):
        authorization = f"{auth.get('type', 'Bearer')} {auth.get('credentials', '')}".strip()
        if auth.get("credentials_file"):
            notes.append("http_config.authorization.credentials_file: set the authorization "
                         "secret by hand")
    if basic := http.pop("basic_auth", None):
        pair = f"{basic.get('username', '')}:{basic.get('password', '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    if token := http.pop("bearer_token", None):
        authorization = f"Bearer {token}"
    for other in http:
        notes.append(f"http_config.{other} is not imported (Herald's outbound HTTP settings are "
                     "server-wide)")
    return authorization, notes


def split_list(value: Any) -> list[str]:
    """A YAML list or a comma-separated string, as a list of non-empty items."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def duration_seconds(value: Any) -> float | None:
    """A Go duration such as 10s, 500ms or 1m in seconds; None when it is not one."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", str(value or "").strip())
    if not found:
        return None
    number, unit = float(found[1]), found[2]
    return {"ms": number / 1000, "s": number, "m": number * 60}[unit]
