"""Which of many time ranges are active at an instant, in O(log n): an elementary-interval index.

Overrides and temporary schedules are ranges [start, end). Their edges, sorted,
cut time into elementary intervals; each interval knows the ranges active
over all of it. A lookup is one bisection. Built once per spec.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

Item = TypeVar("Item")


class IntervalIndex(Generic[Item]):
    __slots__ = ("_active", "_edges")

    def __init__(
        self,
        items: Sequence[Item],
        span: Callable[[Item], tuple[datetime, datetime]],
        order: Callable[[Item], object],
    ) -> None:
        ordered = sorted(items, key=order)
        spans = [span(item) for item in ordered]
        self._edges: list[datetime] = sorted({edge for pair in spans for edge in pair})
        # slots[i]: the items active over [edges[i-1], edges[i]); slots[0] is before the first.
        slots: list[list[Item]] = [[] for _ in range(len(self._edges) + 1)]
        for item, (start, end) in zip(ordered, spans, strict=True):
            if not start < end:
                continue
            for slot in range(bisect_right(self._edges, start), bisect_right(self._edges, end)):
                slots[slot].append(item)
        self._active: list[tuple[Item, ...]] = [tuple(slot) for slot in slots]

    def at(self, instant: datetime) -> tuple[Item, ...]:
        """The items whose [start, end) contains `instant`, in `order`."""
        return self._active[bisect_right(self._edges, instant)]

    def edges(self, start: datetime, end: datetime) -> list[datetime]:
        """The edges in (start, end)."""
        low = bisect_right(self._edges, start)
        high = bisect_right(self._edges, end)
        return [edge for edge in self._edges[low:high] if edge < end]
