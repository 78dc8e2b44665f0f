"""The charts are SVG drawn by Herald itself: accessible, escaped, no script, no outside URL."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from alerting.reports.charts import Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output, parsed to check it


def test_a_bar_chart_has_a_title_a_description_and_one_bar_per_value():
    svg = bar_chart(chart_id="c", title="Volume by hour", desc="Incidents per hour",
                    labels=["00:00", "01:00", "02:00"],
                    series=[Series("incidents", [1, 4, 0]), Series("notifications", [2, 8, 3])])
    root = _parse(svg)

    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Volume by hour"
    assert root.find(f"{SVG}desc").text == "Incidents per hour"
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 6
    tallest = max(bars, key=lambda bar: float(bar.get("height")))
    assert tallest.find(f"{SVG}title").text == "01:00: 8 notifications"


def test_labels_from_alerts_are_escaped_and_nothing_is_fetched_or_run():
    hostile = '<script>alert(1)</script>" onload="x'
    svg = bar_chart(chart_id="n", title=hostile, desc=hostile, labels=[hostile],
                    series=[Series(hostile, [3])])
    root = _parse(svg)  # still well-formed XML

    assert "<script" not in svg and 'onload="x' not in svg
    assert root.find(f"{SVG}title").text == hostile
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", svg)
    assert "style=" not in svg  # presentation attributes only: nothing for the CSP to refuse


def test_a_line_chart_breaks_where_a_week_has_no_value():
    svg = line_chart(chart_id="w", title="MTTA", desc="by week", unit=" min",
                     labels=["w1", "w2", "w3", "w4", "w5"],
                     series=[Series("MTTA", [5, 7, None, 4, 6])])
    root = _parse(svg)

    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    points = root.findall(f"{SVG}circle")
    assert [point.find(f"{SVG}title").text for point in points][1] == "w2: 7 min MTTA"


def test_an_empty_chart_still_draws_its_axes():
    root = _parse(bar_chart(chart_id="e", title="Nothing", desc="none", labels=[], series=[]))
    assert root.findall(f"{SVG}line") and not root.findall(f"{SVG}rect[@class='bar']")
