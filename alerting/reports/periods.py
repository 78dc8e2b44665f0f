"""The report's period: whole days on the tenant's clock, from/to inclusive, bounded."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 30
# A bound on what one request may ask PostgreSQL to read.
MAX_DAYS = 366


def zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def period_bounds(*, first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end): midnight before `first` to midnight after `last`, on the zone's clock."""
    tz = zone_or_utc(zone)
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def default_days(*, zone: str, now: datetime | None = None) -> tuple[date, date]:
    """The last 30 days, today included, on the tenant's clock."""
    today = (now or timezone.now()).astimezone(zone_or_utc(zone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def default_period(*, zone: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    first, last = default_days(zone=zone, now=now)
    return period_bounds(first=first, last=last, zone=zone)


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The start of the period is after its end."))
            if (last - first).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("A period is at most %(days)d days.") % {"days": MAX_DAYS}
                )
        return data


def period_from_query(*, query, zone: str, now: datetime | None = None):
    """(form, first day, last day): the asked period when valid, else the default one."""
    first, last = default_days(zone=zone, now=now)
    if "date_from" not in query and "date_to" not in query:
        return PeriodForm(initial={"date_from": first, "date_to": last}), first, last
    form = PeriodForm(query)
    if form.is_valid():
        return form, form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    return form, first, last
