"""Server-side SVG charts (pure): bars and lines from numbers and labels, nothing fetched.

Every text that reaches the SVG (title, description, labels, series names) is
escaped here, so a tenant's alert name cannot inject markup. Colours are
presentation attributes, not style attributes or scripts, so the page's
Content-Security-Policy has nothing to refuse. Each chart carries a <title>
and a <desc> (role="img", aria-labelledby) for screen readers; the page shows
the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00")
_WIDTH, _HEIGHT = 720, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 40


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value there (a gap in a line, no bar)


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_peak(peak: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least the peak."""
    if peak <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= peak:
        magnitude *= 10
    while magnitude > peak:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= peak:
            return step * magnitude
    return 10 * magnitude


def _frame(*, chart_id: str, title: str, desc: str, body: list[str]) -> str:
    ident = _esc(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" id="{ident}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}">'
        f'<title id="{ident}-title">{_esc(title)}</title>'
        f'<desc id="{ident}-desc">{_esc(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def _axes(*, peak: float, unit: str) -> list[str]:
    bottom = _HEIGHT - _BOTTOM
    parts = [
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_WIDTH - _RIGHT}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#999"/>',
    ]
    for fraction in (0.5, 1.0):
        y = round(bottom - fraction * (bottom - _TOP), 1)
        parts.append(
            f'<text x="{_LEFT - 4}" y="{y + 3}" font-size="10" text-anchor="end">'
            f"{_esc(_number(peak * fraction))}{_esc(unit)}</text>"
        )
    return parts


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    # At most ~12 labels fit under 720 px; the rest are in the table and the tooltips.
    every = max(1, -(-len(labels) // 12))
    y = _HEIGHT - _BOTTOM + 14
    return [
        f'<text x="{round(_LEFT + i * slot + slot / 2, 1)}" y="{y}" font-size="10" '
        f'text-anchor="middle">{_esc(label[:14])}</text>'
        for i, label in enumerate(labels) if i % every == 0
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], _LEFT
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        y = _HEIGHT - 10
        parts.append(f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 1}" font-size="11">{_esc(one.name)}</text>')
        x += 24 + 7 * len(one.name)
    return parts


def bar_chart(
    *, chart_id: str, title: str, desc: str, labels: Sequence[str],
    series: Sequence[Series], unit: str = "",
) -> str:
    """Grouped vertical bars: one slot per label, one bar per series in it."""
    values = [v for one in series for v in one.values if v is not None]
    peak = _nice_peak(max(values, default=0))
    slot = (_WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    bar = slot / (len(series) + 1) if series else slot
    bottom, height = _HEIGHT - _BOTTOM, _HEIGHT - _BOTTOM - _TOP
    body = _axes(peak=peak, unit=unit)
    for s, one in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        for i, value in enumerate(one.values):
            if value is None or i >= len(labels):
                continue
            h = round(value / peak * height, 1)
            x = round(_LEFT + i * slot + s * bar + bar / 2, 1)
            body.append(
                f'<rect class="bar" x="{x}" y="{round(bottom - h, 1)}" width="{round(bar, 1)}" '
                f'height="{h}" fill="{colour}"><title>{_esc(labels[i])}: '
                f"{_esc(_number(value))}{_esc(unit)} {_esc(one.name)}</title></rect>"
            )
    body += _x_labels(labels, slot) + _legend(series)
    return _frame(chart_id=chart_id, title=title, desc=desc, body=body)


def line_chart(
    *, chart_id: str, title: str, desc: str, labels: Sequence[str],
    series: Sequence[Series], unit: str = "",
) -> str:
    """One polyline per series over the labels; a None breaks the line there."""
    values = [v for one in series for v in one.values if v is not None]
    peak = _nice_peak(max(values, default=0))
    slot = (_WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    bottom, height = _HEIGHT - _BOTTOM, _HEIGHT - _BOTTOM - _TOP
    body = _axes(peak=peak, unit=unit)
    for s, one in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(one.values[: len(labels)]):
            if value is None:
                runs.append([])
                continue
            x = round(_LEFT + i * slot + slot / 2, 1)
            y = round(bottom - value / peak * height, 1)
            runs[-1].append(f"{x},{y}")
            body.append(
                f'<circle class="point" cx="{x}" cy="{y}" r="3" fill="{colour}"><title>'
                f"{_esc(labels[i])}: {_esc(_number(value))}{_esc(unit)} {_esc(one.name)}"
                "</title></circle>"
            )
        body += [
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>'
            for run in runs if len(run) > 1
        ]
    body += _x_labels(labels, slot) + _legend(series)
    return _frame(chart_id=chart_id, title=title, desc=desc, body=body)
