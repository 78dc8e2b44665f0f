"""Keep secrets out of logs: ingest keys may travel in URL paths."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(/api/v1/alertmanager/)[^/\s\"']+"), r"\1[redacted]"),
    (re.compile(r"\bhk_[A-Za-z0-9_-]{8,}"), "hk_[redacted]"),
    # An iCal feed's URL is its only credential (escalation.calendar_views).
    (re.compile(r"(/calendars/[^/\s\"']+/[^/\s\"']+/\d+/)[^/\s\"']+"), r"\1[redacted]"),
    # Webhook URLs of ticket systems that cannot send a header carry their secret
    # in the query (receivers.jira_hooks).
    (re.compile(r"([?&](?:secret|token)=)[^&\s\"']+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's final message with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
