"""Tenant resolution by host name, with the domain lookup cached."""

from __future__ import annotations

import time

from django_tenants.middleware.main import TenantMainMiddleware

_CACHE_SECONDS = 30.0
_domain_cache: dict[str, tuple[float, object]] = {}


class CachedTenantMiddleware(TenantMainMiddleware):
    """django-tenants' middleware without a database query on every request.

    Domains change rarely; a domain moved to another tenant is picked up
    within half a minute.
    """

    def get_tenant(self, domain_model, hostname):
        now = time.monotonic()
        cached = _domain_cache.get(hostname)
        if cached and cached[0] > now:
            tenant = cached[1]
            if tenant is None:
                raise domain_model.DoesNotExist
            return tenant
        try:
            tenant = super().get_tenant(domain_model, hostname)
        except domain_model.DoesNotExist:
            _domain_cache[hostname] = (now + _CACHE_SECONDS, None)
            raise
        _domain_cache[hostname] = (now + _CACHE_SECONDS, tenant)
        return tenant


def domain_cache_clear() -> None:
    _domain_cache.clear()

