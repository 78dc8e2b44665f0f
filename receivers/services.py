"""Writes on receivers, their secrets and the tenant's message templates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from pydantic import SecretStr

from alerting.encryption_services import Reencrypted, encrypted_rows_reencrypt
from receivers.carriers import CarrierEntry, carrier_conflicts
from receivers.models import (
    MessageTemplate,
    Receiver,
)
from receivers.template_checks import template_source_check
from receivers.template_limits import TemplateError
from receivers.transports import SettingsError, TransportError, settings_class, transport_class
from receivers.transports.http import guard_host, guard_url
from receivers.transports.outbound import host_name_check

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TargetProblem:
    """A receiver setting whose target the outbound guard refuses, or could not check."""

    setting: str
    message: str
    # False: the name does not resolve now. Not a reason to refuse a save (DNS
    # may lag a deploy, or be split): every send checks it again.
    refused: bool = True


def receiver_targets_check(
    *, kind: str, config: dict[str, Any], secrets: dict[str, Any], allow_private: bool
) -> list[TargetProblem]:
    """What the outbound guard says of the targets among these settings (http(s) URLs,
    the hosts its channel names, such as an SMTP server), each named by its setting.

    Spellings that parsers read differently are refused for every tenant;
    addresses are looked at (one lookup each) only when `allow_private` is off.
    Only the settings given are checked: defaults are Herald's own vendor URLs.
    """
    problems = []
    for name, value in [*config.items(), *secrets.items()]:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and text.strip().lower().startswith(("http://", "https://")):
            problems += _target_problems(name, url=text.strip(), allow_private=allow_private)
    for name, host, port in transport_class(kind).outbound_hosts(config):
        problems += _target_problems(name, host=host, port=port, allow_private=allow_private)
    return problems


def _target_problems(
    name: str, *, allow_private: bool, url: str = "", host: str = "", port: int = 0
) -> list[TargetProblem]:
    try:
        if url:
            guard_url(url, allow_private=allow_private)
        else:
            checked = host_name_check(host)
            if not allow_private:
                guard_host(checked, port, allow_private=False)
    except TransportError as exc:
        return [TargetProblem(setting=name, message=exc.message, refused=exc.permanent)]
    return []


def _allow_private_of_current_tenant() -> bool:
    # Outside a tenant (or with a stand-in without the flag): the safe answer.
    return bool(getattr(getattr(connection, "tenant", None), "allow_private_targets", False))


def receiver_settings_validate(
    *,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    allow_private: bool | None = None,
) -> None:
    """Raise ValidationError, one message per setting, unless the settings suit `kind`
    and their targets pass the outbound guard.

    `allow_private` defaults to the current tenant's allow_private_targets. A
    target whose name does not resolve now is accepted (see TargetProblem).
    """
    errors: dict[str, list[str]] = {}
    try:
        settings_class(kind).parse(config=config, secrets=secrets, saving=True)
    except SettingsError as exc:
        errors = {name: [problem] for name, problem in exc.errors.items()}
    if allow_private is None:
        allow_private = _allow_private_of_current_tenant()
    for problem in receiver_targets_check(
        kind=kind, config=config, secrets=secrets, allow_private=allow_private
    ):
        if problem.refused and problem.setting not in errors:
            errors[problem.setting] = [problem.message]
        elif not problem.refused:
            logger.info("receiver setting %s not checked now: %s", problem.setting, problem.message)
    if errors:
        raise ValidationError(errors)


def _settings_parse(*, kind: str, config: dict[str, Any], secrets: dict[str, Any]) -> None:
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
    # Stored secrets no key decrypts raise SecretUnreadable here: never overwritten blindly.
    kept = dict(receiver.secrets) if receiver.pk else {}
    for name in clear_secrets:
        kept.pop(name, None)
    kept.update({name: value for name, value in secrets.items() if value not in (None, "")})
    receiver_settings_validate(kind=receiver.kind, config=config, secrets=kept)
    receiver.config = config
    receiver.secrets = kept
    receiver.full_clean(exclude=["config", "secrets"])
    with transaction.atomic():
        if receiver.carries_pages:
            receiver_carrier_check(receiver=receiver)
        receiver.save()
    return receiver


def receiver_carrier_check(*, receiver: Receiver) -> None:
    """A receiver that carries pages claims no default or prefix another one holds.

    Under a lock of the tenant's carriers (held to the end of the transaction),
    so two saves side by side cannot both claim the same prefix.
    ValidationError on carries_pages.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('herald.page-carriers.' || current_schema()))"
        )
    others = list(
        Receiver.objects.filter(carries_pages=True)
        .exclude(pk=receiver.pk).order_by("id").values_list("name", "kind", "config")
    )
    entries = [CarrierEntry(name, kind, config) for name, kind, config in others]
    entries.append(CarrierEntry(receiver.name, receiver.kind, receiver.config))
    conflicts = [c for c in carrier_conflicts(entries) if c.name == receiver.name]
    if conflicts:
        raise ValidationError({"carries_pages": [c.message for c in conflicts]})


def receiver_secret_set(*, receiver: Receiver, name: str, value: str) -> None:
    """Store one secret of a receiver (encrypted at rest)."""
    receiver_save(receiver=receiver, config=receiver.config, secrets={name: value})


def receiver_config_update(*, receiver_id: int, changes: dict[str, Any]) -> Receiver:
    """Change some of a receiver's settings, as a vendor asked (Telegram's chat migration)."""
    with transaction.atomic():
        receiver = Receiver.objects.select_for_update().get(id=receiver_id)
        config = {**receiver.config, **changes}
        # A vendor's change (a chat id) during a send: the targets are the ones
        # saved and are checked by the send itself, so no lookups here.
        _settings_parse(kind=receiver.kind, config=config, secrets=receiver.secrets)
        receiver.config = config
        receiver.save(update_fields=["config", "updated_at"])
    logger.info(
        "receiver %r: settings %s updated as the vendor asked", receiver.name, sorted(changes)
    )
    return receiver


def receiver_secrets_rotate() -> Reencrypted:
    """Re-encrypt the current tenant's receiver secrets with the first key.

    Secrets still under the old scheme migrate. A receiver whose secrets no
    configured key decrypts is left untouched and named in the result:
    saving it would destroy them.
    """
    return encrypted_rows_reencrypt(model=Receiver, name_field="name")


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
