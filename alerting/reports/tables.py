"""The report's tables (headers and rows of plain values) and their charts, from the selectors.

One shape serves the page, the CSV downloads and the overview: a Table has
a name (the CSV's), a heading, column headings and rows; a chart beside it is
an SVG string from alerting.reports.charts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from alerting.reports import charts, selectors
from alerting.reports.noise import noise_suggestion


@dataclass
class Table:
    name: str
    heading: str
    columns: list[str]
    rows: list[list]
    chart: str = ""
    notes: list[str] = field(default_factory=list)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _dimension_headings() -> dict[str, str]:
    return {
        "severity": _("Acknowledgement and resolution times by severity"),
        "route": _("Acknowledgement and resolution times by route"),
        "team": _("Acknowledgement and resolution times by team"),
        "receiver": _("Acknowledgement and resolution times by receiver"),
        "person": _("Acknowledgement and resolution times by who acknowledged"),
    }


def _key_headings() -> dict[str, str]:
    return {"severity": _("Severity"), "route": _("Route"), "team": _("Team"),
            "receiver": _("Receiver"), "person": _("Acknowledged by")}


def response_time_table(*, dimension: str, start: datetime, end: datetime) -> Table:
    rows = selectors.response_times(dimension=dimension, start=start, end=end)
    return Table(
        name=f"times-by-{dimension}",
        heading=_dimension_headings()[dimension],
        columns=[
            _key_headings()[dimension],
            _("Incidents"), _("Acknowledged"), _("MTTA (min)"), _("TTA p50 (min)"),
            _("TTA p95 (min)"), _("Resolved"), _("MTTR (min)"), _("TTR p50 (min)"),
            _("TTR p95 (min)"),
        ],
        rows=[
            [row.key or "—", row.incidents, row.acknowledged, _minutes(row.tta_mean),
             _minutes(row.tta_p50), _minutes(row.tta_p95), row.resolved,
             _minutes(row.ttr_mean), _minutes(row.ttr_p50), _minutes(row.ttr_p95)]
            for row in rows
        ],
    )


def sla_table(*, start: datetime, end: datetime) -> Table:
    rows = selectors.sla_shares(start=start, end=end)
    return Table(
        name="sla",
        heading=_("Acknowledged within the target (SLA)"),
        columns=[_("Severity"), _("Target (min)"), _("Incidents"), _("Within target"),
                 _("Later"), _("Never acknowledged"), _("Share within target (%)")],
        rows=[
            [row.severity, row.target_minutes if row.target_minutes is not None else "—",
             row.incidents, row.within, row.late, row.never, _percent(row.share)]
            for row in rows
        ],
    )


def noise_table(*, start: datetime, end: datetime) -> Table:
    days = max(1, round((end - start).total_seconds() / 86400))
    rows = selectors.noisiest_alerts(start=start, end=end)
    labels = [row.alertname or "—" for row in rows]
    return Table(
        name="noise",
        heading=_("Noisiest alerts"),
        columns=[_("Alert name"), _("Group labels"), _("Fired"), _("Acknowledged"),
                 _("Mean time firing (min)"), _("Total time firing (min)"), _("Suggestion")],
        rows=[
            [row.alertname or "—",
             ", ".join(f"{k}={v}" for k, v in sorted(row.group_labels.items())),
             row.fired, row.acknowledged, _minutes(row.firing_mean),
             _minutes(row.firing_total),
             noise_suggestion(fired=row.fired, acknowledged=row.acknowledged,
                              firing_mean=row.firing_mean, days=days)]
            for row in rows
        ],
        chart=charts.bar_chart(
            chart_id="chart-noise", title=_("Noisiest alerts"),
            desc=_("How many times each of the noisiest alerts fired, and how many of those "
                   "were acknowledged."),
            labels=labels,
            series=[charts.Series(_("fired"), [row.fired for row in rows]),
                    charts.Series(_("acknowledged"), [row.acknowledged for row in rows])],
        ),
    )


def volume_table(*, start: datetime, end: datetime, zone: str) -> Table:
    volume = selectors.volume_by_hour(start=start, end=end, zone=zone)
    hours = [f"{hour:02d}:00" for hour in range(24)]
    return Table(
        name="volume",
        heading=_("Volume by hour of the day (%(zone)s)") % {"zone": zone},
        columns=[_("Hour"), _("Incidents"), _("Notifications")],
        rows=[[hours[h], volume["incidents"][h], volume["notifications"][h]] for h in range(24)],
        chart=charts.bar_chart(
            chart_id="chart-volume", title=_("Volume by hour of the day"),
            desc=_("Incidents and notifications in the period, by the hour of the day they "
                   "started, on the tenant's clock."),
            labels=hours,
            series=[charts.Series(_("incidents"), volume["incidents"]),
                    charts.Series(_("notifications"), volume["notifications"])],
        ),
    )


def weekly_table(*, start: datetime, end: datetime, zone: str) -> Table:
    rows = selectors.weekly_response_times(start=start, end=end, zone=zone)
    weeks = [f"{row.week:%Y-%m-%d}" for row in rows]
    return Table(
        name="weekly",
        heading=_("MTTA and MTTR by week"),
        columns=[_("Week of"), _("Incidents"), _("MTTA (min)"), _("MTTR (min)")],
        rows=[[weeks[n], row.incidents, _minutes(row.tta_mean), _minutes(row.ttr_mean)]
              for n, row in enumerate(rows)],
        chart=charts.line_chart(
            chart_id="chart-weekly", title=_("MTTA and MTTR by week"),
            desc=_("The mean time to acknowledge and to resolve, in minutes, of the incidents "
                   "first seen each week."),
            labels=weeks, unit=" min",
            series=[charts.Series(_("MTTA"), [_minutes(row.tta_mean) for row in rows]),
                    charts.Series(_("MTTR"), [_minutes(row.ttr_mean) for row in rows])],
        ),
    )


def report_tables(*, start: datetime, end: datetime, zone: str) -> list[Table]:
    """Every table of the report page, in its order."""
    return [
        volume_table(start=start, end=end, zone=zone),
        weekly_table(start=start, end=end, zone=zone),
        noise_table(start=start, end=end),
        sla_table(start=start, end=end),
        *(response_time_table(dimension=d, start=start, end=end)
          for d in selectors.DIMENSIONS),
    ]


TABLE_NAMES = ("volume", "weekly", "noise", "sla",
               *(f"times-by-{d}" for d in selectors.DIMENSIONS))


def report_table(*, name: str, start: datetime, end: datetime, zone: str) -> Table:
    """One table by its name (for its CSV), without computing the others."""
    if name.startswith("times-by-"):
        return response_time_table(dimension=name.removeprefix("times-by-"), start=start, end=end)
    builders = {
        "volume": lambda: volume_table(start=start, end=end, zone=zone),
        "weekly": lambda: weekly_table(start=start, end=end, zone=zone),
        "noise": lambda: noise_table(start=start, end=end),
        "sla": lambda: sla_table(start=start, end=end),
    }
    return builders[name]()


def _cell(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    # A spreadsheet would run a text starting so as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
