"""Whether a kept connection is still usable, without a round trip when it plainly is.

Django's CONN_HEALTH_CHECKS asks the server (`SELECT 1`) before the first
query of every request or task that reuses a connection: one round trip per
webhook, and the same again for every delivery a worker claims. A session the
server ended (a restart, `pg_terminate_backend`, an idle timeout) is not
silent: PostgreSQL sends its FATAL notice and closes the socket, so the
socket is readable. An idle session that is fine has nothing to say. So the
socket is polled first (no wait), and only a session with something pending
(that notice, the end of the stream, a NOTIFY or a parameter change) is asked
as Django asks. A peer that vanished without a word is found by neither way
sooner than TCP finds it.
"""

from __future__ import annotations

import select

import psycopg
from psycopg import pq


class IdleSessionCheckMixin:
    """For a psycopg DatabaseWrapper: `is_usable` that polls the socket before asking."""

    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None:
            return False
        try:
            if raw.closed or raw.pgconn.status != pq.ConnStatus.OK:
                return False
            poller = select.poll()
            poller.register(raw.pgconn.socket, select.POLLIN | select.POLLPRI)
            if not poller.poll(0):
                return True  # nothing pending: the session is as it was left
        except (OSError, psycopg.Error):
            return False
        return super().is_usable()
