"""Shared test setup: two tenants with real schemas, a real broker, a real worker.

PostgreSQL is the embedded one (or DATABASE_URL); the broker is always an
embedded Redis of the suite's own, so tests can stop and restart it. Both are
real servers: nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, connections
from django.utils import translation
from pytest_django.plugin import blocking_manager_key

from alerting.infra.celery import app as celery_app
from alerting.infra.embedded import EmbeddedRedis
from alerting.infra.i18n_catalogues import catalogues_compile
from alerting.infra.settings import counter_storage_for
from alerting.noise import noise_group_rows_cache_clear
from receivers.delivery.relay import delivery_relay_start, delivery_relay_stop
from tenants.middleware import domain_cache_clear
from tenants.models import Tenant
from tenants.selectors import ingest_key_cache_clear
from tenants.services import ingest_key_create, tenant_create
from tests.receivers.outbound_jail import jail_install, offline_resolver_install
from tests.runherald import needs_seed, seed_finish, seed_prepare_in_background

TENANT_SLUGS = ("alpha", "beta")
TENANT_TABLE_APPS = ("alerting", "receivers", "escalation", "reports")

# Per run, so two test runs on one machine (two checkouts, two people) do not
# share a broker or a test database.
broker = EmbeddedRedis(Path(settings.VAR_DIR) / f"test-{os.getpid()}")


def pytest_configure(config: pytest.Config) -> None:
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_herald_{os.getpid()}"
    # The interface's catalogues (.mo are not in git): compiled once, when any .mo is
    # missing or older than its .po, before a test first asks for French or German.
    catalogues_compile(only_stale=True)
    # The broker must be known before anything touches the Celery app.
    broker.start()
    celery_app.conf.broker_url = broker.url
    celery_app.conf.broker_connection_retry_on_startup = False
    settings.HERALD_RATE_LIMIT_STORAGE_URL = counter_storage_for(broker.url)
    # No spare schemas cloned behind the tests' backs: each flush of the shared
    # tables orphans them, and every tenant a test creates would have the
    # worker clone two more. The spare schemas' own tests turn the pool on;
    # processes the tests start (runherald, worker processes) keep the default.
    settings.HERALD_TENANT_SPARE_SCHEMAS = 0


_seed_wanted: list[bool] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    # The first start from nothing that seeds runherald's folders (tests/runherald.py)
    # runs alongside the tests before the first one that needs it, once the test
    # database is made (see django_db_setup).
    if any(needs_seed(item) for item in session.items):
        _seed_wanted.append(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    seed_finish()
    broker.stop()
    shutil.rmtree(broker.dir, ignore_errors=True)


# The operators' audit chain, in the shared schema: append-only, TRUNCATE refused.
OPERATORS_AUDIT_TABLE = "public.audit_heads_operatorauditentry"


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    by_marker = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    fixtures = getattr(item, "fixturenames", ())
    return bool(by_marker) or "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem):
    """pytest-django's flush after a transactional test empties the shared schema's
    tables with one TRUNCATE, which the operators' append-only audit table refuses
    (and, were the connection left in a tenant's schema, that tenant's too): the
    teardown runs in the shared schema with that table's trigger off, and on again
    right after it."""
    if not _transactional(item):
        return (yield)
    blocker = item.config.stash[blocking_manager_key]
    with blocker.unblock():
        connection.set_schema_to_public()
        _operators_audit_trigger(enable=False)
    try:
        return (yield)
    finally:
        # After the session's last test its teardown has dropped the test
        # database too (session fixtures end there): nothing to turn back on.
        if nextitem is not None:
            with blocker.unblock():
                _operators_audit_trigger(enable=True)


def _operators_audit_trigger(*, enable: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {OPERATORS_AUDIT_TABLE} {'ENABLE' if enable else 'DISABLE'} TRIGGER USER"
        )


@pytest.fixture(scope="session", autouse=True)
def _only_loopback_is_reachable() -> Iterator[None]:
    """No test reaches past this machine, whatever the code under test does.

    Connections to anything but loopback fail (ENETUNREACH) and names other
    than localhost never reach a DNS server: they answer a public address
    that the jail then refuses. Tests of the outbound guard add their own
    jail and resolver on top.
    """
    with pytest.MonkeyPatch.context() as patch:
        jail_install(patch)
        offline_resolver_install(patch)
        yield


@task_postrun.connect
def _close_worker_connections(**kwargs) -> None:
    # The worker thread's connection would otherwise outlive the test
    # database and block its DROP at the end of the session.
    connections.close_all()


def _ensure_tenants() -> dict[str, Tenant]:
    """The test tenants, created once; re-created rows reuse their schemas."""
    tenants = {}
    for slug in TENANT_SLUGS:
        tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(
            slug=slug, name=slug.title(), domain=f"{slug}.localhost", allow_private_targets=True
        )
        tenants[slug] = tenant
    return tenants


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        _ensure_tenants()
    if _seed_wanted:
        seed_prepare_in_background()
    yield
    # Worker processes, poolers and servers that tests started may still hold a
    # session when the run ends; the test database is dropped only without them.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    ingest_key_cache_clear()
    domain_cache_clear()
    noise_group_rows_cache_clear()
    yield
    connection.set_schema_to_public()
    # The language middleware leaves a request's language active in the thread
    # (tests/escalation/i18n): the next test starts in the default language again.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def tenants(db) -> dict[str, Tenant]:
    """Both tenants, inside the test's rolled-back transaction."""
    return {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=TENANT_SLUGS)}


@pytest.fixture
def committed_tenants(transactional_db) -> dict[str, Tenant]:
    """Both tenants for tests whose data must be committed (worker, live server).

    pytest-django's flush after a transactional test empties the public
    tables (tenant rows included) but not the tenant schemas: put the rows
    back and empty the schemas.
    """
    tenants = _ensure_tenants()
    _truncate_tenant_tables(tenants.values())
    return tenants


def _truncate_tenant_tables(tenants) -> None:
    from django.apps import apps

    tables = [
        model._meta.db_table
        for app_label in TENANT_TABLE_APPS
        for model in apps.get_app_config(app_label).get_models()
        # A proxy's table is its concrete model's (the audit log, append-only).
        if not model._meta.proxy
    ]
    with connection.cursor() as cursor:
        for tenant in tenants:
            qualified = ", ".join(f'"{tenant.schema_name}"."{table}"' for table in tables)
            cursor.execute(f"TRUNCATE {qualified} RESTART IDENTITY CASCADE")


@pytest.fixture
def alpha(tenants) -> Tenant:
    """Tenant alpha, with the connection in its schema."""
    connection.set_tenant(tenants["alpha"])
    return tenants["alpha"]


@pytest.fixture
def beta(tenants) -> Tenant:
    return tenants["beta"]


@pytest.fixture
def ingest_key() -> Callable[[Tenant], str]:
    """Make an ingest key for a tenant; returns the plain key."""

    def make(tenant: Tenant) -> str:
        return ingest_key_create(tenant=tenant, name="test")[1]

    return make


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup) -> Iterator[None]:
    """A real Celery worker (solo pool, in a thread) on the real broker, and its relay."""
    celery_app.control.purge()  # tasks queued by earlier, rolled-back tests
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=5):
        # The test worker does not send worker_ready, which starts it in a real one.
        relay = delivery_relay_start()
        if relay is not None:
            relay.leading.wait(10)
        try:
            yield
        finally:
            delivery_relay_stop()


def workers_answering(timeout: float = 0.5) -> list[str]:
    """The names of the workers that answer a ping, asked over a connection of its own:
    a test may have restarted the broker under this process's pooled ones."""
    with celery_app.connection_for_write() as connection:
        replies = celery_app.control.ping(timeout=timeout, connection=connection)
    return [name for reply in replies for name in reply]


def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll until predicate() is truthy; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.02)
