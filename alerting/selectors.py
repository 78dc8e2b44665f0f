"""Reads on alerts and alert groups for the API and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from alerting.matchers import Matcher, MatchType
from alerting.models import Alert, AlertGroup


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
