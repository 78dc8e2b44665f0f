"""Finished iCal feeds, kept per process under a byte budget (least recently used go).

A feed of hourly shifts for a year is ~2 MB and takes icalendar about a
second to write; calendar clients poll the same URL again and again. The
key is a digest of everything the feed is made of (escalation.calendars), so
a hit is always the feed as it would be built now, and nothing is ever
invalidated by hand.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

CACHE_BYTES = 32 * 1024 * 1024


class FeedCache:
    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_or_build(self, key: str, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                return body
        body = build()  # outside the lock: two builds of one key at worst, never a wait
        if len(body) <= self.budget:
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = body
                    self._size += len(body)
                while self._size > self.budget:
                    _, dropped = self._entries.popitem(last=False)
                    self._size -= len(dropped)
        return body

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


feed_cache = FeedCache()
