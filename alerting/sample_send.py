"""A sample alert rendered for one receiver and, unless only previewed, sent to it.

For `manage.py test_notifications`: goes straight through the receiver's
transport (the same render and send a delivery uses), without a
notification row, so checking a receiver leaves no history behind.
"""

from __future__ import annotations

import dataclasses

from alerting.encryption import SecretUnreadable
from receivers.models import Receiver
from receivers.redaction import secrets_scrub
from receivers.selectors import message_template_sources
from receivers.template_limits import TemplateError
from receivers.template_samples import sample_message
from receivers.transports import TransportError, transport_class


@dataclasses.dataclass(frozen=True)
class SampleSendOutcome:
    parts: dict[str, str]
    sent: bool = False
    http_status: int | None = None
    error: str = ""
    permanent: bool = False


def receiver_sample_send(*, receiver: Receiver, tenant, dry_run: bool) -> SampleSendOutcome:
    message = dataclasses.replace(
        sample_message(status="firing"),
        tenant_slug=tenant.slug, tenant_name=tenant.name,
        receiver_name=receiver.name, receiver_kind=receiver.kind,
    )
    try:
        secrets = receiver.secrets
    except SecretUnreadable:
        return SampleSendOutcome(
            parts={}, error="the receiver's secrets cannot be decrypted with the configured keys"
        )
    try:
        transport = transport_class(receiver.kind)(
            config=receiver.config, secrets=secrets,
            allow_private=tenant.allow_private_targets,
            templates=message_template_sources(channel=receiver.kind),
        )
        parts = transport.rendered_parts(message)
    except (TransportError, TemplateError) as exc:
        return SampleSendOutcome(parts={}, error=secrets_scrub(str(exc), secrets), permanent=True)
    if dry_run:
        return SampleSendOutcome(parts=parts)
    try:
        result = transport.send(message)
    except TransportError as exc:
        return SampleSendOutcome(
            parts=parts, http_status=exc.http_status,
            error=secrets_scrub(exc.message, secrets), permanent=exc.permanent,
        )
    return SampleSendOutcome(parts=parts, sent=True, http_status=result.http_status)
