"""Generic webhook: Alertmanager-compatible JSON (or a templated body), optionally signed.

The signature lets the receiving end check that the body came from Herald and
is fresh: `X-Herald-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the
receiver's `signing_secret`, over `<timestamp>.<body>`, where the timestamp
(Unix seconds) is sent in `X-Herald-Timestamp`.

Headers that carry a credential (an API key, a token) are secrets: stored
encrypted as `header:<Name>` (e.g. `header:X-Api-Key`), sent like the plain
`headers`, never shown back. The admin form moves a plain header whose name
looks like a credential there (`receivers.redaction.header_looks_secret`);
plain ones saved before keep working.

Header values, plain and secret, may be Jinja templates (`{{ alertname }}`),
rendered with the message's context under the tenant template limits; only
values containing `{{` or `{%` are rendered. A value that fails to render, or
renders to a line break (header injection), is left out of the request, not
sent as its raw text: a half-rendered routing key or token would be taken at
its word by the receiving end. The alert still goes out, and the problem is
shown on the notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from receivers.messages import AlertMessage
from receivers.redaction import secrets_scrub
from receivers.template_checks import template_compile_check, template_samples_check
from receivers.template_context import template_context
from receivers.template_limits import TemplateError
from receivers.template_render import template_render_source
from receivers.transports.alertmanager import (
    INGEST_PATH,
    AlertmanagerMapping,
    ImportedReceiver,
    duration_seconds,
    http_authorization,
    not_imported,
)
from receivers.transports.base import (
    SendResult,
    Transport,
    render_problem_record,
)
from receivers.transports.settings import ChannelSettings, SecretUrl

TIMESTAMP_HEADER = "X-Herald-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def is_templated(value: str) -> bool:
    """Whether a header value is a template; the others are sent as they are, unrendered."""
    return "{{" in value or "{%" in value


def _valid_headers(headers: dict[str, str], info: ValidationInfo, *, secret: bool) -> None:
    # The value is never repeated: a header may carry a credential.
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"'{name}' is not a valid header name")
        if "\r" in value or "\n" in value:
            raise ValueError(f"the value of '{name}' contains a line break")
        if not is_templated(value):
            continue
        try:
            # As for body_template: compiled at every send (cached), rendered
            # for every check sample when saved.
            if (info.context or {}).get("saving"):
                template_samples_check(source=value)
            else:
                template_compile_check(source=value)
        except TemplateError as exc:
            error = secrets_scrub(str(exc), {name: value}) if secret else str(exc)
            raise ValueError(f"the value of '{name}': template error at {error}") from None


def _header_problem(name: str, *, secret: bool, problem: str) -> str:
    return f"the {'secret ' if secret else ''}header '{name}' {problem}; sent without it"


class WebhookSettings(ChannelSettings):
    secret_maps = {"header:": "secret_headers"}
    credential_moves = {"headers": "secret_headers"}
    long_text_settings = frozenset({"body_template"})

    url: SecretUrl = Field(description="Where to POST. Secret: URLs often carry tokens.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    secret_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Extra request headers that carry credentials, stored encrypted.",
    )
    authorization: SecretStr | None = Field(
        None, description="Value of the Authorization header, e.g. 'Bearer …'."
    )
    body_template: str = Field(
        "", description="Jinja2 template of the body; empty sends Alertmanager's JSON."
    )
    content_type: str = Field("application/json", description="Content-Type of a templated body.")
    signing_secret: SecretStr | None = Field(
        None, description="Key of the HMAC-SHA256 signature header; no signature when empty."
    )
    signature_header: str = Field("X-Herald-Signature", description="Header of the signature.")

    @field_validator("headers")
    @classmethod
    def _headers_are_valid(cls, headers: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        _valid_headers(headers, info, secret=False)
        return headers

    @field_validator("secret_headers")
    @classmethod
    def _secret_headers_are_valid(
        cls, headers: dict[str, SecretStr], info: ValidationInfo
    ) -> dict[str, SecretStr]:
        values = {name: value.get_secret_value() for name, value in headers.items()}
        _valid_headers(values, info, secret=True)
        return headers

    @model_validator(mode="after")
    def _each_header_once(self) -> WebhookSettings:
        plain = {name.lower() for name in self.headers}
        for name in self.secret_headers:
            if name.lower() in plain:
                raise ValueError(f"'{name}' is both a plain and a secret header: keep one")
        return self

    def secret_header_values(self) -> dict[str, str]:
        return {name: value.get_secret_value() for name, value in self.secret_headers.items()}

    @field_validator("body_template")
    @classmethod
    def _template_renders(cls, source: str, info: ValidationInfo) -> str:
        """Compiled at every send (cached); rendered for every check sample when saved."""
        if source:
            try:
                if (info.context or {}).get("saving"):
                    template_samples_check(source=source)
                else:
                    template_compile_check(source=source)
            except TemplateError as exc:
                raise ValueError(f"template error at {exc}") from None
        return source


def webhook_payload(message: AlertMessage) -> dict[str, Any]:
    """The body Alertmanager's own webhook would send for this message."""
    return {
        "version": "4",
        "groupKey": message.group_key,
        "truncatedAlerts": message.truncated_alerts,
        "status": message.status,
        "receiver": message.receiver_name,
        "groupLabels": message.group_labels,
        "commonLabels": message.common_labels,
        "commonAnnotations": message.common_annotations,
        "externalURL": message.external_url,
        "alerts": message.alerts,
        # Herald's own fields beside Alertmanager's: the signed action pages
        # that apply to the group now (none once resolved).
        "actions": [
            {"action": offered.action, "label": offered.label, "url": offered.url}
            for offered in message.actions
        ],
    }


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, timestamp + '.' + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_body(*, message: AlertMessage, settings: WebhookSettings) -> tuple[bytes, str, str]:
    """The body, its content type, and what went wrong with the body template ("" if nothing).

    A body template that fails or hits a limit gives way to Alertmanager's
    JSON, the default body: the alert still goes out.
    """
    problem = ""
    if settings.body_template:
        try:
            text = template_render_source(
                settings.body_template,
                template_context(message=message, language=settings.language),
            )
            return text.encode(), settings.content_type, ""
        except TemplateError as exc:
            problem = f"the body template failed ({exc}); sent Alertmanager's JSON instead"
    body = json.dumps(webhook_payload(message), separators=(",", ":")).encode()
    return body, "application/json", problem


def webhook_headers(
    *, message: AlertMessage, settings: WebhookSettings
) -> tuple[dict[str, str], list[str]]:
    """The plain and secret headers with their templates rendered, and what went wrong.

    A problem names the header, never its value (secret ones are credentials).
    """
    headers: dict[str, str] = {}
    problems: list[str] = []
    context = None
    for secret, values in ((False, settings.headers), (True, settings.secret_header_values())):
        for name, value in values.items():
            if not is_templated(value):
                headers[name] = value
                continue
            if context is None:
                context = template_context(message=message, language=settings.language)
            try:
                rendered = template_render_source(value, context)
            except TemplateError as exc:
                error = secrets_scrub(str(exc), {name: value}) if secret else str(exc)
                problems.append(_header_problem(name, secret=secret,
                                                problem=f"failed to render ({error})"))
                continue
            if "\r" in rendered or "\n" in rendered:
                problems.append(_header_problem(
                    name, secret=secret, problem="rendered to a value with a line break"
                ))
                continue
            headers[name] = rendered
    return headers, problems


def webhook_request(
    *, message: AlertMessage, settings: WebhookSettings, timestamp: str
) -> tuple[bytes, dict[str, str], list[str]]:
    """The body and headers to send, and any template problems (pure, given the time)."""
    body, content_type, problem = webhook_body(message=message, settings=settings)
    headers, problems = webhook_headers(message=message, settings=settings)
    if problem:
        problems.insert(0, problem)
    # The same key on every attempt of a notification: a receiver that
    # deduplicates drops the rare second send after a worker died mid-send.
    headers = {
        **headers,
        "Content-Type": content_type,
        IDEMPOTENCY_HEADER: f"{message.tenant_slug}-{message.notification_id}",
    }
    if settings.authorization:
        headers["Authorization"] = settings.secret("authorization")
    if settings.signing_secret:
        headers[TIMESTAMP_HEADER] = timestamp
        headers[settings.signature_header] = webhook_signature(
            secret=settings.secret("signing_secret"), timestamp=timestamp, body=body
        )
    return body, headers, problems


def webhook_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    url = str(entry.get("url") or "")
    if not url:
        return not_imported("no url")
    if INGEST_PATH in url:
        return not_imported("it already posts to Herald")
    timeout = duration_seconds(entry.get("timeout"))
    authorization, notes = http_authorization(entry)
    return ImportedReceiver(
        config={"timeout_seconds": min(timeout, 60) if timeout else None},
        secrets={"url": url, "authorization": authorization},
        notes=notes,
    )


class WebhookTransport(Transport):
    kind = "webhook"
    label = "Generic webhook"
    settings_class = WebhookSettings
    # No parts: it sends Alertmanager's JSON, or its own body_template.
    alertmanager = (
        AlertmanagerMapping(
            key="webhook_configs",
            mapper=webhook_from_alertmanager,
            send_resolved_default=True,
            # Its http_config is read: the Authorization becomes a secret.
            reads=("url", "url_file", "timeout", "http_config"),
        ),
    )

    def send(self, message: AlertMessage) -> SendResult:
        body, headers, problems = webhook_request(
            message=message, settings=self.settings, timestamp=str(int(time.time()))
        )
        for problem in problems:
            render_problem_record(problem, receiver_name=message.receiver_name)
        response = self.post(self.settings.secret("url"), data=body, headers=headers)
        return SendResult(http_status=response.status_code)

    def rendered_parts(self, message: AlertMessage) -> dict[str, str]:
        """The body as sent; Alertmanager's JSON indented, for a person to read."""
        body, _, problem = webhook_body(message=message, settings=self.settings)
        if problem:
            render_problem_record(problem, receiver_name=message.receiver_name)
        elif self.settings.body_template:
            return {"body": body.decode()}
        return {"body": json.dumps(webhook_payload(message), indent=2)}
