"""Applying a configuration document to the current tenant: one transaction, audited.

Idempotent: the plan compares the file with what is stored, and only its
changes are written, so applying the same file twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.db import connection, transaction

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.config.apply_oncall import (
    OnCallApplyError,
    level_targets_apply,
    people_resolve,
    person_apply,
    person_remove,
    schedule_apply,
    team_apply,
    team_policies_apply,
)
from alerting.config.envrefs import env_resolve
from alerting.config.export import CONFIG_SILENCE_CREATOR, config_current, silence_spec
from alerting.config.plan import Change, config_plan, spec_comparable, spec_key
from alerting.config.schema import WEEKDAYS, ConfigDocument, fallback_cycles, route_entries
from alerting.config.sources import source_apply, source_remove, sources_resolve
from alerting.models import Route, Silence
from alerting.services import silence_create
from escalation.models import BusinessHoursWindow, EscalationPolicy, Schedule, Team
from receivers.carriers import CarrierEntry, carrier_conflicts
from receivers.models import MessageTemplate, Receiver
from receivers.services import message_template_save, receiver_save
from receivers.severity import min_severity_rank
from tenants.models import Tenant


class ConfigApplyError(ValueError):
    """The document cannot be applied (an unset variable, a failed save); nothing was."""


def document_resolve(*, document: ConfigDocument, env: Mapping[str, str]) -> ConfigDocument:
    """The document with every ${ENV_VAR} in secrets and addresses replaced by its value."""
    if document.people is not None:
        try:
            people = people_resolve(people=document.people, env=env)
        except OnCallApplyError as exc:
            raise ConfigApplyError(str(exc)) from None
        document = document.model_copy(update={"people": people})
    if document.sources is not None:
        try:
            sources = sources_resolve(sources=document.sources, env=env)
        except ValueError as exc:
            raise ConfigApplyError(str(exc)) from None
        document = document.model_copy(update={"sources": sources})
    if document.receivers is None:
        return document
    receivers = []
    for receiver in document.receivers:
        secrets = {}
        for name, value in receiver.secrets.items():
            resolved, missing = env_resolve(value, env)
            if missing:
                raise ConfigApplyError(
                    f"receiver {receiver.name!r}: {', '.join(missing)} not set in the environment"
                )
            secrets[name] = resolved
        receivers.append(receiver.model_copy(update={"secrets": secrets}))
    return document.model_copy(update={"receivers": receivers})


def config_apply(
    *,
    document: ConfigDocument,
    env: Mapping[str, str],
    actor: str,
    prune: bool = True,
    dry_run: bool = False,
) -> list[Change]:
    """Make the tenant's configuration what the document says; returns the changes.

    With `dry_run`, only the changes are computed. Every change is written to
    the audit log (secrets redacted) in the same transaction.
    """
    desired = document_resolve(document=document, env=env)
    changes = config_plan(
        desired=desired, current=config_current(plain_secrets=True), prune=prune
    )
    if dry_run or not changes:
        return changes
    try:
        with transaction.atomic():
            _changes_write(changes, desired, prune=prune, actor=actor)
    except OnCallApplyError as exc:
        raise ConfigApplyError(str(exc)) from None
    return changes


def _changes_write(
    changes: list[Change], desired: ConfigDocument, *, prune: bool, actor: str
) -> None:
    for change in changes:
        if change.action != "removed":
            _APPLY[change.section](change, desired)
    # After every receiver exists: a fallback may name one later in the file.
    _fallbacks_apply(changes, desired, prune=prune)
    # After every policy exists: a team's policy may page the team.
    team_policies_apply(teams=desired.teams or [], names={
        change.key for change in changes
        if change.section == "teams" and change.action != "removed"
    })
    for change in reversed(changes):
        if change.action == "removed":
            _REMOVE[change.section](change)
    if any(change.section == "routes" for change in changes):
        # Routes left unchanged keep their old numbers: number them all again, so
        # the stored order is the file's (routes the file does not name stay put).
        for entry in route_entries(desired.routes):
            Route.objects.filter(name=entry.spec.name).update(position=entry.index)
    for change in changes:
        audit_record(
            actor=actor, source=AuditSource.COMMAND, action=f"config_{change.action}",
            obj_type=f"config.{change.section}", obj_id=change.key[:64],
            obj_repr=(change.label or change.key)[:300],
            before=change.before, after=change.after,
        )


def _spec(section: str, desired: ConfigDocument, key: str):
    make_key = spec_key(section)
    for index, spec in enumerate(desired.specs(section)):
        if make_key(spec_comparable(section, spec)) == key:
            return index, spec
    raise LookupError(key)


def _receiver_apply(change: Change, desired: ConfigDocument) -> None:
    _, spec = _spec("receivers", desired, change.key)
    try:
        receiver = Receiver.objects.filter(name=spec.name).first() or Receiver(name=spec.name)
        # Unreadable stored secrets raise here (SecretUnreadable), named below.
        stored = receiver.secrets if receiver.pk else {}
        receiver.kind, receiver.enabled = spec.kind, spec.enabled
        receiver.max_attempts, receiver.max_age_seconds = spec.max_attempts, spec.max_age_seconds
        receiver.rate_limit = spec.rate_limit
        if spec.carries_pages:
            # The file's carrier takes over the default or prefixes another one held.
            _carriers_yield(name=spec.name, kind=spec.kind, config=spec.config)
        receiver.carries_pages = spec.carries_pages
        receiver_save(
            receiver=receiver, config=spec.config, secrets=spec.secrets,
            clear_secrets=tuple(name for name in stored if name not in spec.secrets),
        )
    except Exception as exc:  # ValidationError and friends: name the receiver, roll back
        raise ConfigApplyError(f"receiver {spec.name!r}: {exc}") from None


def _carriers_yield(*, name: str, kind: str, config: dict) -> None:
    """Other receivers that carry pages the file's `name` now carries stop carrying them."""
    mine = CarrierEntry(name, kind, config)
    for other in Receiver.objects.filter(carries_pages=True).exclude(name=name):
        if carrier_conflicts([CarrierEntry(other.name, other.kind, other.config), mine]):
            Receiver.objects.filter(pk=other.pk).update(carries_pages=False)


def _fallbacks_apply(changes: list[Change], desired: ConfigDocument, *, prune: bool) -> None:
    """Point each created or changed receiver at its fallback; refuse a cycle, with its path.

    A fallback names a receiver of the file or, when nothing is pruned (an
    import), one the tenant keeps.
    """
    touched = [c.key for c in changes if c.section == "receivers" and c.action != "removed"]
    if not touched:
        return
    specs = {spec.name: spec for spec in desired.receivers}
    stored = {receiver.name: receiver for receiver in Receiver.objects.select_related("fallback")}
    kept = set(specs) if prune else set(stored)
    for name in touched:
        receiver, wanted = stored[name], specs[name].fallback
        if wanted is not None and wanted not in kept:
            raise ConfigApplyError(f"receiver {name!r}: no receiver named {wanted!r} (fallback)")
        target = stored[wanted] if wanted else None
        if receiver.fallback != target:
            receiver.fallback = target
            receiver.save(update_fields=["fallback", "updated_at"])
    # The file's receivers first, so a cycle reads from the receiver the file changed.
    names = [*touched, *sorted(kept - set(touched))]
    graph = {name: getattr(stored[name].fallback, "name", None) for name in names}
    for cycle in fallback_cycles(graph):
        raise ConfigApplyError(f"fallback cycle: {' → '.join(cycle)}")


def _tenant_apply(change: Change, desired: ConfigDocument) -> None:
    tenant = connection.tenant
    ceiling = desired.tenant.phone_monthly_spend_ceiling
    Tenant.objects.filter(pk=tenant.pk).update(time_zone=desired.tenant.time_zone,
                                               default_language=desired.tenant.default_language,
                                               phone_monthly_spend_ceiling=ceiling)
    tenant.time_zone = desired.tenant.time_zone  # this process reads it from here
    tenant.default_language = desired.tenant.default_language
    tenant.phone_monthly_spend_ceiling = ceiling


def _template_apply(change: Change, desired: ConfigDocument) -> None:
    _, spec = _spec("templates", desired, change.key)
    try:
        message_template_save(
            channel=spec.channel, language=spec.language, part=spec.part, source=spec.source
        )
    except Exception as exc:
        raise ConfigApplyError(f"template {change.key}: {exc}") from None


def _receivers_named(names: list[str]) -> list[Receiver]:
    found = list(Receiver.objects.filter(name__in=names))
    missing = set(names) - {receiver.name for receiver in found}
    if missing:
        raise ConfigApplyError(f"no receiver named {', '.join(sorted(missing))}")
    return found


def _policy_apply(change: Change, desired: ConfigDocument) -> None:
    _, spec = _spec("escalation_policies", desired, change.key)
    policy, _ = EscalationPolicy.objects.update_or_create(
        name=spec.name,
        defaults={"repeat_count": spec.repeat, "business_hours": spec.business_hours},
    )
    # Running chains work from their snapshot: replacing the levels is safe.
    policy.levels.all().delete()
    for position, level_spec in enumerate(spec.levels):
        level = policy.levels.create(position=position, delay_minutes=level_spec.delay_minutes)
        level.receivers.set(_receivers_named(level_spec.receivers))
        level_targets_apply(level=level, targets=level_spec.targets)


def _route_apply(change: Change, desired: ConfigDocument) -> None:
    """One route, under its parent (applied before it: changes come in the file's order)."""
    entry = next(e for e in route_entries(desired.routes) if e.spec.name == change.key)
    spec = entry.spec
    policy = team = None
    if spec.escalation_policy:
        policy = EscalationPolicy.objects.filter(name=spec.escalation_policy).first()
        if policy is None:
            raise ConfigApplyError(f"no escalation policy named {spec.escalation_policy!r}")
    if spec.team:
        team = Team.objects.filter(name=spec.team).first()
        if team is None:
            raise ConfigApplyError(f"route {spec.name!r}: no team named {spec.team!r}")
    route, _ = Route.objects.update_or_create(
        name=spec.name,
        defaults={
            "parent": Route.objects.get(name=entry.parent) if entry.parent else None,
            "position": entry.index,
            "matchers": ", ".join(spec.matchers),
            "min_severity": min_severity_rank(spec.min_severity),
            "continue_matching": spec.continue_matching,
            "is_default": spec.default,
            # Only `receivers: []` says "nobody"; a route with receivers keeps
            # inheriting should they be taken away in the admin later.
            "inherit_receivers": spec.receivers != [],
            "escalation_policy": policy,
            "team": team,
            "flap_threshold": spec.flap_threshold,
            "flap_window": spec.flap_window,
            "flap_hold": spec.flap_hold,
        },
    )
    route.receivers.set(_receivers_named(spec.receivers or []))


def _hours_apply(change: Change, desired: ConfigDocument) -> None:
    _, spec = _spec("business_hours", desired, change.key)
    BusinessHoursWindow.objects.create(
        weekday=WEEKDAYS.index(spec.weekday), start=spec.start, end=spec.end
    )


def _silence_apply(change: Change, desired: ConfigDocument) -> None:
    _, spec = _spec("silences", desired, change.key)
    silence_create(
        matchers=", ".join(spec.matchers), created_by=CONFIG_SILENCE_CREATOR,
        starts_at=spec.starts_at, ends_at=spec.ends_at,
        weekdays=[WEEKDAYS.index(day) for day in spec.weekdays],
        window_start=spec.window_start, window_end=spec.window_end,
        time_zone=spec.time_zone, comment=spec.comment,
    )


def _silence_remove(change: Change) -> None:
    for silence in Silence.objects.filter(created_by=CONFIG_SILENCE_CREATOR):
        data = spec_comparable("silences", silence_spec(silence))
        if json.dumps(data, sort_keys=True) == change.key:
            silence.delete()


def _template_remove(change: Change) -> None:
    channel, language, part = change.key.split("/")
    MessageTemplate.objects.filter(channel=channel, language=language, part=part).delete()


def _hours_remove(change: Change) -> None:
    weekday, span = change.key.split(" ")
    start, end = span.split("-")
    BusinessHoursWindow.objects.filter(
        weekday=WEEKDAYS.index(weekday), start=start, end=end
    ).delete()


_APPLY = {
    "tenant": _tenant_apply,
    "receivers": _receiver_apply,
    "templates": _template_apply,
    "people": lambda change, desired: person_apply(spec=_spec("people", desired, change.key)[1]),
    "teams": lambda change, desired: team_apply(spec=_spec("teams", desired, change.key)[1]),
    "schedules": lambda change, desired: schedule_apply(
        spec=_spec("schedules", desired, change.key)[1]
    ),
    "escalation_policies": _policy_apply,
    "routes": _route_apply,
    "business_hours": _hours_apply,
    "silences": _silence_apply,
    "sources": lambda change, desired: source_apply(spec=_spec("sources", desired, change.key)[1]),
}
_REMOVE = {
    "tenant": lambda change: None,  # a tenant's settings are changed, never removed
    "receivers": lambda change: Receiver.objects.filter(name=change.key).delete(),
    "templates": _template_remove,
    "people": lambda change: person_remove(username=change.key),
    "teams": lambda change: Team.objects.filter(name=change.key).delete(),
    "schedules": lambda change: Schedule.objects.filter(name=change.key).delete(),
    "escalation_policies": lambda change: EscalationPolicy.objects.filter(
        name=change.key
    ).delete(),
    "routes": lambda change: Route.objects.filter(name=change.key).delete(),
    "business_hours": _hours_remove,
    "silences": _silence_remove,
    "sources": lambda change: source_remove(name=change.key),
}
