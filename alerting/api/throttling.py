"""Per-tenant ingest rate limit, counted in storage shared by every web process."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from alerting.infra.rate_limits import leased_limiter, rate_item

logger = logging.getLogger(__name__)


class TenantIngestThrottle(BaseThrottle):
    """429 once a tenant exceeds its ingest rate (requests per window).

    Counted through leases (alerting.infra.rate_lease): never over the limit,
    a busy process asks Redis about once a second instead of per request.

    Fails open: if the counter storage is down, ingest goes on (and says so in
    the log) rather than refusing alerts.
    """

    def allow_request(self, request, view) -> bool:
        tenant = request.auth
        if tenant is None:
            return True
        self.rate = rate_item(tenant.ingest_rate_limit or settings.HERALD_INGEST_RATE_LIMIT)
        self.key = f"tenant:{tenant.pk}"
        try:
            self.limiter = leased_limiter()
            return self.limiter.hit(self.rate, "ingest", self.key)
        except Exception as exc:  # any storage failure: redis-py raises many types
            logger.warning("ingest rate limit not enforced: %s", type(exc).__name__)
            return True

    def wait(self) -> float | None:
        try:
            stats = self.limiter.get_window_stats(self.rate, "ingest", self.key)
        except Exception:  # the 429 stands; only the hint is lost
            return None
        return max(1.0, stats.reset_time - time.time())
