"""Reads on alerts and alert groups for the API and the admin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from alerting.alert_shape import alertmanager_alert
from alerting.matchers import Matcher, MatcherError, MatchType, parse_matchers
from alerting.models import Alert, AlertGroup, AlertStatus, Route, Silence, SilenceKind
from alerting.routing import RouteRule, route_ids, route_tree
from alerting.silencing import OneOffWindow, SilenceRule, WeeklyWindow
from receivers.models import Receiver

logger = logging.getLogger(__name__)


def _with_label_matchers(queryset: QuerySet, field: str, matchers: list[Matcher]) -> QuerySet:
    """Filter on a JSON label set with Alertmanager's matcher semantics.

    An absent label compares as the empty string; regexes are anchored.
    Equality on a non-empty value uses the GIN index (`@>`).
    """
    for index, matcher in enumerate(matchers):
        if matcher.type == MatchType.EQUAL and matcher.value:
            queryset = queryset.filter(**{f"{field}__contains": {matcher.name: matcher.value}})
            continue
        alias = f"_label_{index}"
        queryset = queryset.alias(
            **{alias: Coalesce(KT(f"{field}__{matcher.name}"), Value(""), output_field=TextField())}
        )
        if matcher.type in (MatchType.EQUAL, MatchType.NOT_EQUAL):
            condition = {alias: matcher.value}
        else:
            condition = {f"{alias}__regex": f"^(?:{matcher.value})$"}
        negate = matcher.type in (MatchType.NOT_EQUAL, MatchType.NOT_REGEX)
        queryset = queryset.exclude(**condition) if negate else queryset.filter(**condition)
    return queryset


def alert_list(
    *,
    status: str | None = None,
    matchers: list[Matcher] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Alert]:
    """Alerts, newest first; since/until bound when they started firing."""
    alerts = Alert.objects.all()
    if status:
        alerts = alerts.filter(status=status)
    if since:
        alerts = alerts.filter(starts_at__gte=since)
    if until:
        alerts = alerts.filter(starts_at__lte=until)
    return _with_label_matchers(alerts, "labels", list(matchers))


def alert_group_list(
    *,
    status: str | None = None,
    matchers: list[Matcher] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AlertGroup]:
    """Alert groups; matchers apply to the group's common labels, since/until to last seen."""
    groups = AlertGroup.objects.all()
    if status:
        groups = groups.filter(status=status)
    if since:
        groups = groups.filter(last_seen_at__gte=since)
    if until:
        groups = groups.filter(last_seen_at__lte=until)
    return _with_label_matchers(groups, "common_labels", list(matchers))


def route_rules() -> tuple[RouteRule, ...]:
    """The tenant's routes as a pure tree (its top-level rules).

    A route with broken matchers is skipped with its subtree (which only ever
    matched inside it). Receivers are all of a route's own, enabled or not:
    a route whose receivers are disabled still has receivers of its own and
    inherits none; dispatch notifies only the enabled ones.
    """
    routes = Route.objects.prefetch_related(
        Prefetch("receivers", queryset=Receiver.objects.only("id"))
    )
    rules = []
    for route in routes:
        try:
            matchers = tuple(parse_matchers(route.matchers))
        except MatcherError as exc:
            logger.warning("route %s skipped: %s", route.name, exc)
            continue
        rules.append(
            RouteRule(
                id=route.id,
                name=route.name,
                matchers=matchers,
                min_severity=route.min_severity,
                continue_matching=route.continue_matching,
                is_default=route.is_default,
                receiver_ids=tuple(receiver.id for receiver in route.receivers.all()),
                escalation_policy_id=route.escalation_policy_id,
                team_id=route.team_id,
                parent_id=route.parent_id,
                inherit_receivers=route.inherit_receivers,
            )
        )
    tree = route_tree(rules)
    reached = route_ids(tree)
    unreachable = sorted(rule.name for rule in rules if rule.id not in reached)
    if unreachable:
        logger.warning("routes %s skipped: under a skipped route, or nested too deep",
                       ", ".join(unreachable))
    return tree


@dataclass(frozen=True)
class RouteOutlineRow:
    """One route as the admin's tree shows it."""

    route: Route
    depth: int  # 0: top level; -1: not reached from the top (never matches)
    receivers: str  # who it notifies, inherited ones said so


def route_outline() -> list[RouteOutlineRow]:
    """Every route in the order dispatch tries them, each under its parent."""
    routes = list(
        Route.objects.select_related("escalation_policy").prefetch_related("receivers")
    )
    children: dict[int | None, list[Route]] = {}
    for route in routes:
        children.setdefault(route.parent_id, []).append(route)
    rows: list[RouteOutlineRow] = []

    def walk(route: Route, depth: int, inherited: tuple[str, ...]) -> None:
        own = tuple(sorted(receiver.name for receiver in route.receivers.all()))
        notified = own if own or not route.inherit_receivers else inherited
        told = ", ".join(notified) if notified else "nobody"
        rows.append(RouteOutlineRow(
            route=route, depth=depth,
            receivers=f"{told} (inherited)" if notified and not own else told,
        ))
        for child in children.get(route.id, []):
            walk(child, depth + 1, notified)

    for route in children.get(None, []):
        walk(route, 0, ())
    shown = {row.route.id for row in rows}
    rows += [RouteOutlineRow(route=r, depth=-1, receivers="") for r in routes if r.id not in shown]
    return rows


def silence_rules(*, now: datetime) -> list[SilenceRule]:
    """Silences that are or may become active (not the ones long over)."""
    silences = Silence.objects.filter(
        Q(kind=SilenceKind.WEEKLY) | Q(kind=SilenceKind.ONCE, ends_at__gt=now)
    ).order_by("id")
    rules = []
    for silence in silences:
        try:
            matchers = tuple(parse_matchers(silence.matchers))
            window = _silence_window(silence)
        except (MatcherError, ValueError, TypeError, LookupError) as exc:
            logger.warning("silence %s skipped: %s", silence.id, exc)
            continue
        rules.append(SilenceRule(id=silence.id, matchers=matchers, window=window))
    return rules


@dataclass(frozen=True)
class DispatchConfig:
    """What dispatch reads about a tenant's configuration, as pure data."""

    routes: tuple[RouteRule, ...]
    silences: tuple[SilenceRule, ...]  # whether one is active is decided at each use
    receivers: dict[int, tuple[str, str]]  # enabled receivers by name: id -> (name, kind)


# Per process: (schema, tenant id) -> (version, config); the tenant id tells a
# schema dropped and made again under the same name. See migration 0006.
_dispatch_configs: dict[tuple[str, object], tuple[int, DispatchConfig]] = {}


def config_version() -> int | None:
    """The current tenant's configuration version (None if the row is gone)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM alerting_config_version")
        row = cursor.fetchone()
    return row[0] if row else None


def dispatch_config(*, version: int | None, now: datetime) -> DispatchConfig:
    """Routes, silences and enabled receivers, cached while `version` is unchanged.

    `version` is read in the caller's transaction before this, so the
    configuration loaded under it is at least as new; any write to those
    tables changes it (a trigger), in every process at once. None: no cache.
    """
    schema = (connection.schema_name, getattr(connection.tenant, "pk", None))
    cached = _dispatch_configs.get(schema)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    receivers = Receiver.objects.filter(enabled=True).order_by("name")
    config = DispatchConfig(
        routes=route_rules(),
        silences=tuple(silence_rules(now=now)),
        receivers={r.id: (r.name, r.kind) for r in receivers.only("id", "name", "kind")},
    )
    if version is not None:
        _dispatch_configs[schema] = (version, config)
    return config


def _silence_window(silence: Silence) -> OneOffWindow | WeeklyWindow:
    if silence.kind == SilenceKind.ONCE:
        if not (silence.starts_at and silence.ends_at):
            raise ValueError("a one-off silence needs a start and an end")
        return OneOffWindow(silence.starts_at, silence.ends_at)
    if silence.window_start is None or silence.window_end is None:
        raise ValueError("a weekly silence needs window times")
    ZoneInfo(silence.time_zone)  # raises for an unknown zone
    return WeeklyWindow(
        frozenset(int(day) for day in silence.weekdays),
        silence.window_start,
        silence.window_end,
        silence.time_zone,
    )


def alerts_suppressed() -> QuerySet[Alert]:
    """Firing alerts a silence held back, waiting for it to end."""
    return Alert.objects.filter(status=AlertStatus.FIRING, suppressed=True).select_related("group")


def alert_groups_firing_snapshot(*, alert_group_ids: set[int]) -> dict[int, list[dict]]:
    """`alert_group_firing_snapshot` for several groups in one query, by group id."""
    found: dict[int, list[dict]] = {group_id: [] for group_id in alert_group_ids}
    for alert in Alert.objects.filter(
        group_id__in=alert_group_ids, status=AlertStatus.FIRING
    ).order_by("id"):
        found[alert.group_id].append(notified_alert_from_row(alert))
    return found


def alert_group_firing_snapshot(*, alert_group_id: int) -> list[dict]:
    """The group's firing alerts in Alertmanager's shape, for a notification."""
    return [
        notified_alert_from_row(alert)
        for alert in Alert.objects.filter(group_id=alert_group_id, status=AlertStatus.FIRING)
        .order_by("id")
    ]


def notified_alert_from_row(alert: Alert) -> dict:
    return alertmanager_alert(
        status=alert.status,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.generator_url,
        fingerprint=alert.fingerprint,
    )
