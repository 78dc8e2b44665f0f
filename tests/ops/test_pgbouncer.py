"""Herald behind a real PgBouncer in transaction mode: tenants never see each other's rows.

With transaction pooling a client's session is shared: between two of its
transactions PgBouncer may give its server connection to another client.
django-tenants' `SET search_path` is a session setting, so behind such a
pooler one tenant's requests could read and write another's schema. With
DATABASE_POOLER=transaction Herald sets the search_path per transaction
instead (alerting/infra/pooled_backend), and takes only transaction-level
advisory locks; prepared statements are off (Debian 12's PgBouncer 1.18
cannot keep them). docs/operating.md, "Behind PgBouncer".
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.utils import load_backend
from django_tenants.utils import tenant_context

from alerting.models import Alert
from receivers.delivery.relay import RELAY_LEADER_LOCK
from receivers.delivery.ticket_lock import ticket_lock
from receivers.models import Notification, NotificationState
from tests.conftest import broker, wait_for
from tests.e2e.conftest import celery_worker_processes  # noqa: F401 - a fixture
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST
from tests.ops.pgbouncer import Bouncer, pgbouncer
from tests.web_process import web_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def bouncer(transactional_db):
    db = connection.settings_dict
    with pgbouncer(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"],
                   pool_size=1) as running:
        yield running


def wrapper(engine: str, bouncer: Bouncer, alias: str):
    """A Django connection of `engine` through the bouncer, as a web process would hold."""
    settings_dict = {
        **connection.settings_dict, "ENGINE": engine, "HOST": "127.0.0.1",
        "PORT": str(bouncer.port), "CONN_MAX_AGE": 0, "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": {"prepare_threshold": None},
    }
    return load_backend(engine).DatabaseWrapper(settings_dict, alias=alias)


def current_schema(conn) -> str:
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def test_without_the_pooled_backend_one_tenant_reads_the_schema_another_set(
    bouncer, committed_tenants
):
    """Why Herald needs it: one server connection, two clients, django-tenants' session SET."""
    alpha = wrapper("django_tenants.postgresql_backend", bouncer, "alpha-process")
    beta = wrapper("django_tenants.postgresql_backend", bouncer, "beta-process")
    try:
        alpha.set_tenant(committed_tenants["alpha"])
        beta.set_tenant(committed_tenants["beta"])
        assert current_schema(alpha) == "alpha"
        assert current_schema(beta) == "beta"  # SET on the one server connection
        # alpha's process set its path once (TENANT_LIMIT_SET_CALLS) and trusts it:
        assert current_schema(alpha) == "beta"  # the leak
    finally:
        alpha.close()
        beta.close()


def test_the_pooled_backend_keeps_each_tenant_in_its_schema_and_the_session_clean(
    bouncer, committed_tenants
):
    engine = "alerting.infra.pooled_backend"
    alpha, beta = wrapper(engine, bouncer, "alpha-process"), wrapper(engine, bouncer, "beta")
    try:
        alpha.set_tenant(committed_tenants["alpha"])
        beta.set_tenant(committed_tenants["beta"])
        for _ in range(3):
            assert (current_schema(alpha), current_schema(beta)) == ("alpha", "beta")
        with alpha.cursor() as cursor:  # a transaction: its path comes first, once
            alpha.set_autocommit(False)
            cursor.execute("SELECT current_schema()")
            assert cursor.fetchone()[0] == "alpha"
            alpha.commit()
            alpha.set_autocommit(True)
        # Nothing is left on the shared server connection for the next client.
        with psycopg.connect(bouncer.dsn(), autocommit=True, prepare_threshold=None) as other:
            assert other.execute("SHOW search_path").fetchone()[0] == '"$user", public'
    finally:
        alpha.close()
        beta.close()


def test_the_ticket_lock_is_given_back_through_the_pooler(bouncer):
    """A session-level lock would stay on a server connection after its unlock went elsewhere."""
    key = {"receiver_id": 1, "alert_group_id": 2, "incident": 3, "schema": "alpha"}
    failures: list[BaseException] = []

    def sender() -> None:  # a send thread: its own connection, here through the pooler
        from django.db import connection as own

        try:
            with ticket_lock(**key, wait_seconds=1):
                pass
            with ticket_lock(**key, wait_seconds=1):  # given back, so taken again
                pass
        except BaseException as failure:  # reported by the test
            failures.append(failure)
        finally:
            own.close()

    db = connection.settings_dict
    original = (db["HOST"], db["PORT"])
    db.update(HOST="127.0.0.1", PORT=str(bouncer.port))  # for the new thread's connection
    try:
        thread = threading.Thread(target=sender)
        thread.start()
        thread.join(30)
    finally:
        db.update(HOST=original[0], PORT=original[1])
    assert failures == []
    with psycopg.connect(bouncer.dsn(), autocommit=True, prepare_threshold=None) as other:
        # Besides the delivery relay's leadership (a session lock on PostgreSQL itself).
        held = other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND NOT (classid = %s AND objid = %s)",
            [RELAY_LEADER_LOCK >> 32, RELAY_LEADER_LOCK & 0xFFFFFFFF],
        )
        assert held.fetchone()[0] == 0


@pytest.fixture
def pooled_env(bouncer_big) -> dict[str, str]:
    """Web and worker through the bouncer, on a queue of their own."""
    return {
        "DATABASE_URL": bouncer_big.url(),
        "DATABASE_POOLER": "transaction",
        "CELERY_BROKER_URL": broker.url,
        "HERALD_CELERY_QUEUE": f"pooled-{uuid.uuid4().hex[:8]}",
        "HERALD_VAR_DIR": str(settings.VAR_DIR),
        "HERALD_GROUP_WINDOW_SECONDS": "0",
    }


@pytest.fixture
def bouncer_big(transactional_db):
    db = connection.settings_dict
    with pgbouncer(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"],
                   pool_size=2) as running:
        yield running


@pytest.fixture
def pooled_web(pooled_env, tmp_path):
    with web_process(pooled_env, tmp_path / "web.log") as url:
        yield url


def test_two_tenants_ingest_and_deliver_through_pgbouncer_without_seeing_each_other(
    committed_tenants, httpserver, ingest_key, pooled_env, pooled_web, celery_worker_processes,  # noqa: F811
    bouncer_big,
):
    tenants = {slug: committed_tenants[slug] for slug in ("alpha", "beta")}
    for slug, tenant in tenants.items():
        httpserver.expect_request(f"/{slug}").respond_with_data("ok")
        with tenant_context(tenant):
            ReceiverFactory(name=f"{slug}-hook", secrets={"url": httpserver.url_for(f"/{slug}")})
    keys = {slug: ingest_key(tenant) for slug, tenant in tenants.items()}
    celery_worker_processes(queue=pooled_env["HERALD_CELERY_QUEUE"], env=pooled_env)
    per_tenant = 12
    answers: list[int] = []
    retried: list[str] = []

    def post(slug: str, number: int) -> None:
        """Post until accepted, retrying a dropped connection or a 5xx as Alertmanager does."""
        alert = WebhookAlertFactory(labels={"alertname": "PoolCheck", "tenant": slug,
                                            "n": str(number)})
        payload = WebhookPayloadFactory(alerts=[alert], groupKey=f"{slug}-{number}")
        deadline = time.monotonic() + 90
        while True:
            try:
                status = requests.post(
                    pooled_web + INGEST, json=payload, timeout=30,
                    headers={"Authorization": f"Bearer {keys[slug]}"},
                ).status_code
            except requests.ConnectionError as exc:
                status, reason = None, type(exc).__name__
            else:
                reason = str(status)
            if (status is not None and status < 500) or time.monotonic() > deadline:
                answers.append(status)
                return
            retried.append(reason)
            time.sleep(0.5)

    threads = [threading.Thread(target=post, args=(slug, n))
               for n in range(per_tenant) for slug in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Every alert accepted (a retry on a loaded machine is what Alertmanager
    # would do), and, below, stored exactly once, in its own tenant's schema.
    assert answers == [200] * (2 * per_tenant), retried

    def delivered(tenant) -> int:
        with tenant_context(tenant):
            return Notification.objects.filter(state=NotificationState.DELIVERED).count()

    wait_for(lambda: all(delivered(t) == per_tenant for t in tenants.values()), timeout=90)
    for slug, tenant in tenants.items():
        with tenant_context(tenant):
            stored = set(Alert.objects.values_list("labels__tenant", flat=True))
            assert stored == {slug}, f"{slug}'s schema holds {stored}"
            assert Alert.objects.count() == per_tenant
        seen = {alert["labels"]["tenant"] for request, _ in httpserver.log
                if request.path == f"/{slug}" for alert in request.get_json()["alerts"]}
        assert seen == {slug}
    sent = sum(len(request.get_json()["alerts"]) for request, _ in httpserver.log)
    assert sent == 2 * per_tenant  # each alert delivered once
