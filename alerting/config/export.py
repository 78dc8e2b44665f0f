"""The tenant's current configuration as a document, and documents as YAML.

Exported secrets are ${ENV_VAR} references (HERALD_<RECEIVER>_<SECRET>),
never values: the file is meant for git.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.db import connection
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from alerting.config.envrefs import env_name_for
from alerting.config.export_oncall import (
    level_targets,
    people_current,
    schedules_current,
    teams_current,
    usernames_by_person,
)
from alerting.config.schema import (
    WEEKDAYS,
    ConfigDocument,
    HoursSpec,
    LevelSpec,
    PolicySpec,
    ReceiverSpec,
    RouteSpec,
    SilenceSpec,
    TemplateSpec,
    TenantSpec,
)
from alerting.config.sources import source_specs
from alerting.fields import encrypted_value_readable
from alerting.matchers import MatcherError, parse_matchers
from alerting.models import Route, Silence, SilenceKind
from escalation.models import BusinessHoursWindow, EscalationPolicy
from receivers.models import MessageTemplate, Receiver
from receivers.severity import min_severity_name
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Silences written by applying a file; others (made in an incident) are not the file's.
CONFIG_SILENCE_CREATOR = "config"


def _matchers(text: str) -> list[str]:
    try:
        return [str(matcher) for matcher in parse_matchers(text)]
    except MatcherError:
        return [text] if text.strip() else []


def _reference(receiver: str, secret: str) -> str:
    return "${" + env_name_for(receiver=receiver, secret=secret) + "}"


def _receiver(receiver: Receiver, *, plain_secrets: bool) -> ReceiverSpec:
    if encrypted_value_readable(receiver, "secrets"):
        stored = receiver.secrets
    else:
        logger.warning("receiver %r: secrets cannot be decrypted; exported without", receiver.name)
        stored = {}
    secrets = {
        name: str(value) if plain_secrets else _reference(receiver.name, name)
        for name, value in sorted(stored.items())
        if value not in (None, "")
    }
    return ReceiverSpec(
        name=receiver.name, kind=receiver.kind, enabled=receiver.enabled,
        max_attempts=receiver.max_attempts, max_age_seconds=receiver.max_age_seconds,
        rate_limit=receiver.rate_limit,
        fallback=receiver.fallback.name if receiver.fallback else None,
        carries_pages=receiver.carries_pages,
        config=dict(receiver.config or {}), secrets=secrets,
    )


def _tenant() -> TenantSpec:
    # From the row, not the connection's copy: another process may have changed it.
    row = Tenant.objects.filter(pk=connection.tenant.pk).values(
        "time_zone", "default_language", "phone_monthly_spend_ceiling").first() or {}
    return TenantSpec(time_zone=row.get("time_zone") or "UTC",
                      default_language=row.get("default_language") or "en",
                      phone_monthly_spend_ceiling=row.get("phone_monthly_spend_ceiling"))


def config_current(*, plain_secrets: bool = False) -> ConfigDocument:
    """Every managed section of the current tenant, as a file would state it.

    `plain_secrets` gives the decrypted values, for comparing with a file
    being applied; never write such a document anywhere.
    """
    receivers = [
        _receiver(receiver, plain_secrets=plain_secrets)
        for receiver in Receiver.objects.order_by("name").select_related("fallback")
    ]
    templates = [
        TemplateSpec(channel=t.channel, language=t.language, part=t.part, source=t.source)
        for t in MessageTemplate.objects.order_by("channel", "language", "part")
    ]
    usernames = usernames_by_person()
    policies = [
        PolicySpec(
            name=policy.name, repeat=policy.repeat_count, business_hours=policy.business_hours,
            levels=[
                LevelSpec(
                    delay_minutes=level.delay_minutes,
                    receivers=sorted(receiver.name for receiver in level.receivers.all()),
                    targets=level_targets(level, usernames),
                )
                for level in sorted(policy.levels.all(), key=lambda lv: (lv.position, lv.id))
                if level.receivers.all() or level.targets.all()
            ],
        )
        for policy in EscalationPolicy.objects.order_by("name").prefetch_related(
            "levels__receivers", "levels__targets__receiver", "levels__targets__team",
            "levels__targets__schedule", "levels__targets__layer",
        )
    ]
    policies = [policy for policy in policies if policy.levels]
    routes = _route_specs()
    hours = [
        HoursSpec(weekday=WEEKDAYS[window.weekday], start=window.start, end=window.end)
        for window in BusinessHoursWindow.objects.order_by("weekday", "start")
    ]
    silences = [
        silence_spec(silence)
        for silence in Silence.objects.filter(created_by=CONFIG_SILENCE_CREATOR).order_by("id")
    ]
    return ConfigDocument(
        tenant=_tenant(), receivers=receivers, templates=templates,
        people=people_current(plain_secrets=plain_secrets), teams=teams_current(),
        schedules=schedules_current(), escalation_policies=policies, routes=routes,
        business_hours=hours, silences=silences,
        sources=source_specs(plain_secrets=plain_secrets),
    )


def _route_specs() -> list[RouteSpec]:
    """The stored tree, each route's nested routes in it, in the order dispatch tries them."""
    stored = list(
        Route.objects.order_by("position", "id")
        .select_related("escalation_policy", "team").prefetch_related("receivers")
    )
    children: dict[int | None, list[Route]] = {}
    for route in stored:
        children.setdefault(route.parent_id, []).append(route)

    def spec(route: Route) -> RouteSpec:
        own = sorted(receiver.name for receiver in route.receivers.all())
        return RouteSpec(
            name=route.name, matchers=_matchers(route.matchers),
            min_severity=min_severity_name(route.min_severity),
            continue_matching=route.continue_matching, default=route.is_default,
            receivers=own or (None if route.inherit_receivers else []),
            escalation_policy=route.escalation_policy.name if route.escalation_policy else None,
            team=route.team.name if route.team else None,
            flap_threshold=route.flap_threshold, flap_window=route.flap_window,
            flap_hold=route.flap_hold,
            routes=[spec(child) for child in children.get(route.id, [])],
        )

    return [spec(route) for route in children.get(None, [])]


def silence_spec(silence: Silence) -> SilenceSpec:
    if silence.kind == SilenceKind.WEEKLY:
        return SilenceSpec(
            matchers=_matchers(silence.matchers), comment=silence.comment,
            weekdays=[WEEKDAYS[day] for day in silence.weekdays],
            window_start=silence.window_start, window_end=silence.window_end,
            time_zone=silence.time_zone,
        )
    return SilenceSpec(
        matchers=_matchers(silence.matchers), comment=silence.comment,
        starts_at=silence.starts_at, ends_at=silence.ends_at, time_zone=silence.time_zone,
    )


def _literal_blocks(value: Any) -> Any:
    """Multi-line text (templates) as `|` blocks, readable in review."""
    if isinstance(value, dict):
        return {key: _literal_blocks(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(item) for item in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def document_data(document: ConfigDocument) -> dict[str, Any]:
    """The document as a file states it: defaults left out, sections kept even if empty."""
    data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if document.tenant is not None:
        # Stated even when UTC: business hours read differently in another zone.
        data["tenant"] = {"time_zone": document.tenant.time_zone,
                          "default_language": document.tenant.default_language}
        if document.tenant.phone_monthly_spend_ceiling is not None:
            data["tenant"]["phone_monthly_spend_ceiling"] = str(
                document.tenant.phone_monthly_spend_ceiling)
    for section in ConfigDocument.SECTIONS:
        value = getattr(document, section)
        if value is not None:
            data.setdefault(section, [])
    return {section: data[section] for section in ConfigDocument.SECTIONS if section in data}


def config_dump(document: ConfigDocument, *, header: str = "") -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    if header:
        out.write("".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()))
    yaml.dump(_literal_blocks(document_data(document)), out)
    return out.getvalue()
