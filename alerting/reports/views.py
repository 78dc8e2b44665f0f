"""The tenant's report page (/admin/reports/) and its CSV downloads; any member may read."""

from __future__ import annotations

from django.contrib import admin
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from alerting.reports.periods import period_bounds, period_from_query
from alerting.reports.tables import TABLE_NAMES, report_table, report_tables, table_csv


def _tenant_zone() -> str:
    return getattr(connection.tenant, "time_zone", "UTC") or "UTC"


def report_page(request: HttpRequest) -> HttpResponse:
    """The period form, then every table with its chart and a CSV link beside it."""
    zone = _tenant_zone()
    form, first, last = period_from_query(query=request.GET, zone=zone)
    start, end = period_bounds(first=first, last=last, zone=zone)
    query = f"date_from={first.isoformat()}&date_to={last.isoformat()}"
    context = {
        **admin.site.each_context(request),
        "title": _("Reports"),
        "form": form,
        "first": first,
        "last": last,
        "zone": zone,
        "query": query,
        "tables": report_tables(start=start, end=end, zone=zone),
    }
    return TemplateResponse(request, "reports/page.html", context)


def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One table as CSV, for the same period as the page."""
    if name not in TABLE_NAMES:
        raise Http404(_("No such report table."))
    zone = _tenant_zone()
    _form, first, last = period_from_query(query=request.GET, zone=zone)
    start, end = period_bounds(first=first, last=last, zone=zone)
    table = report_table(name=name, start=start, end=end, zone=zone)
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="herald-{name}-{first.isoformat()}-{last.isoformat()}.csv"'
    )
    return response
