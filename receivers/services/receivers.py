"""Writes on receivers, their secrets and the tenant's message templates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from receivers.models import (
    MessageTemplate,
    Receiver,
)
from receivers.templating import TemplateError, template_source_check
from receivers.transports import SettingsError, settings_class

logger = logging.getLogger(__name__)


def receiver_settings_validate(
    *, kind: str, config: dict[str, Any], secrets: dict[str, Any]
) -> None:
    """Raise ValidationError, one message per setting, unless the settings suit `kind`."""
    try:
        settings_class(kind).parse(config=config, secrets=secrets)
    except SettingsError as exc:
        raise ValidationError({name: [problem] for name, problem in exc.errors.items()}) from None


def receiver_create(
    *,
    name: str,
    kind: str,
    secrets: dict[str, str],
    config: dict[str, Any] | None = None,
    enabled: bool = True,
    max_attempts: int = 6,
) -> Receiver:
    """Create a receiver after checking its settings against its kind's."""
    receiver = Receiver(name=name, kind=kind, enabled=enabled, max_attempts=max_attempts)
    return receiver_save(receiver=receiver, config=config or {}, secrets=secrets)


def receiver_save(
    *,
    receiver: Receiver,
    config: dict[str, Any],
    secrets: dict[str, str | None],
    clear_secrets: tuple[str, ...] = (),
) -> Receiver:
    """Store a receiver (new or not) with its settings, checked against its kind's.

    Secrets are write-only: an empty or None value keeps the one saved, and
    only names in `clear_secrets` are removed.
    """
    kept = dict(receiver.secrets) if receiver.pk and isinstance(receiver.secrets, dict) else {}
    for name in clear_secrets:
        kept.pop(name, None)
    kept.update({name: value for name, value in secrets.items() if value not in (None, "")})
    receiver_settings_validate(kind=receiver.kind, config=config, secrets=kept)
    receiver.config = config
    receiver.secrets = kept
    receiver.full_clean(exclude=["config", "secrets"])
    receiver.save()
    return receiver


def receiver_secret_set(*, receiver: Receiver, name: str, value: str) -> None:
    """Store one secret of a receiver (encrypted at rest)."""
    receiver_save(receiver=receiver, config=receiver.config, secrets={name: value})


def receiver_config_update(*, receiver_id: int, changes: dict[str, Any]) -> Receiver:
    """Change some of a receiver's settings, as a vendor asked (Telegram's chat migration)."""
    with transaction.atomic():
        receiver = Receiver.objects.select_for_update().get(id=receiver_id)
        config = {**receiver.config, **changes}
        receiver_settings_validate(kind=receiver.kind, config=config, secrets=receiver.secrets)
        receiver.config = config
        receiver.save(update_fields=["config", "updated_at"])
    logger.info(
        "receiver %r: settings %s updated as the vendor asked", receiver.name, sorted(changes)
    )
    return receiver


@dataclass(frozen=True)
class RotationResult:
    rotated: int
    unreadable: list[str]


def receiver_secrets_rotate() -> RotationResult:
    """Re-encrypt the current tenant's receiver secrets with the newest key.

    A receiver whose secrets no configured key decrypts is left untouched and
    named in the result: saving it would destroy them.
    """
    rotated = 0
    unreadable = []
    for receiver_id in Receiver.objects.order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            receiver = Receiver.objects.select_for_update().get(id=receiver_id)
            if not isinstance(receiver.secrets, dict):
                unreadable.append(receiver.name)
                continue
            # Saving encrypts with the first key; updated_at is left alone:
            # a rotation is not a change of the receiver.
            receiver.save(update_fields=["secrets"])
            rotated += 1
    return RotationResult(rotated=rotated, unreadable=unreadable)


def message_template_save(
    *,
    channel: str,
    language: str,
    part: str,
    source: str,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Store a tenant's template (a new one, or `template` changed), checked in the sandbox.

    Raises ValidationError naming the line for syntax errors, for attributes
    the sandbox refuses and for errors rendering a sample alert.
    """
    message_template_validate(channel=channel, part=part, source=source)
    if template is None:
        template = (
            MessageTemplate.objects.filter(channel=channel, language=language, part=part).first()
            or MessageTemplate()
        )
    template.channel, template.language, template.part = channel, language, part
    template.source = source
    template.full_clean()
    template.save()
    return template


def message_template_validate(*, channel: str, part: str, source: str) -> None:
    try:
        template_source_check(channel=channel, part=part, source=source)
    except TemplateError as exc:
        raise ValidationError({"source": [str(exc)]}) from None
