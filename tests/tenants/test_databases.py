"""A tenant on a second PostgreSQL server: created there, ingesting and delivering there.

The operator adds a database with HERALD_TENANT_DATABASES, migrates its shared
tables, and creates a tenant on it (`create_tenant --database`). The tenant's
schema and rows live on that server only; its Tenant row, domain and keys stay
in the shared schema of the first one, where the other tenants are untouched.
tenants/databases.py, docs/databases.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from alerting.infra.embedded import postgres_socket_dir
from alerting.infra.tenant_databases import (
    SHARED_ALIAS,
    TenantDatabasesError,
    tenant_databases_parse,
)
from receivers.models import Notification, NotificationState
from tenants.backup.format import BackupError, BackupSecret
from tenants.backup.load import tenant_restore
from tenants.models import Domain, Tenant
from tests.conftest import broker, wait_for
from tests.e2e.conftest import celery_worker_processes  # noqa: F401 - a fixture
from tests.factories import ReceiverFactory, WebhookAlertFactory, WebhookPayloadFactory
from tests.ingest import INGEST
from tests.web_process import web_process


def url_of(settings_dict: dict) -> str:
    host = quote(settings_dict["HOST"], safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{settings_dict['USER']}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="module")
def second_postgres(tmp_path_factory, django_db_setup, django_db_blocker) -> str:
    """Another PostgreSQL server, of these tests' own, its shared tables migrated; its URL."""
    var_dir = tmp_path_factory.mktemp("second-postgres") / ".var"
    var_dir.mkdir()
    socket_dir = postgres_socket_dir(var_dir)
    url = f"postgres://postgres@{quote(socket_dir, safe='')}/postgres"
    with django_db_blocker.unblock():
        primary = url_of(connection.settings_dict)
    manage({"DATABASE_URL": primary, "HERALD_TENANT_DATABASES": f"second={url}"},
           "migrate_schemas", "--shared", "--database", "second")
    yield url
    import pgserver

    pgserver.get_server(var_dir / "pgdata").cleanup()


@pytest.fixture
def two_databases(second_postgres, transactional_db) -> dict[str, str]:
    """The environment of processes that know both databases (web, worker, commands)."""
    return {
        "DATABASE_URL": url_of(connection.settings_dict),
        "HERALD_TENANT_DATABASES": f"second={second_postgres}",
        "CELERY_BROKER_URL": broker.url,
        "HERALD_CELERY_QUEUE": f"databases-{uuid.uuid4().hex[:8]}",
        "HERALD_VAR_DIR": str(settings.VAR_DIR),
        "HERALD_GROUP_WINDOW_SECONDS": "0",
        "HERALD_TENANT_SPARE_SCHEMAS": "0",
        "HERALD_HEALTH_TIMEOUT_SECONDS": "10",  # a loaded machine's worker ping
    }


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300, check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
    return done


def schemas_on(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}


def rows_on(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_tenant_on_a_second_server_ingests_and_delivers_there_and_nowhere_else(
    two_databases, second_postgres, committed_tenants, ingest_key, httpserver, tmp_path,
    celery_worker_processes,  # noqa: F811
):
    env = two_databases
    primary = url_of(connection.settings_dict)
    created = manage(env, "create_tenant", "--slug", "gamma", "--name", "Gamma",
                     "--domain", "gamma.example.test", "--database", "second",
                     "--allow-private-targets")
    gamma_key = re.search(r"Ingest key \(shown once\): (\S+)", created.stdout).group(1)
    gamma = Tenant.objects.get(slug="gamma")
    assert gamma.database == "second"
    assert "gamma" in schemas_on(second_postgres)
    assert "gamma" not in schemas_on(primary)

    # Gamma's receiver answers 503 once: the retry runs on the second server too.
    httpserver.expect_oneshot_request("/gamma").respond_with_data("busy", status=503)
    httpserver.expect_request("/gamma").respond_with_data("ok")
    httpserver.expect_request("/alpha").respond_with_data("ok")
    config = tmp_path / "gamma.yaml"
    config.write_text(
        "receivers:\n  - name: gamma-hook\n    kind: webhook\n"
        f"    secrets:\n      url: {httpserver.url_for('/gamma')}\n"
        "routes:\n  - {name: everything, default: true, receivers: [gamma-hook]}\n"
    )
    manage(env, "deploy_receivers", str(config), "--tenant", "gamma")
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory(name="alpha-hook", secrets={"url": httpserver.url_for("/alpha")})
    keys = {"gamma": gamma_key, "alpha": ingest_key(alpha)}

    celery_worker_processes(queue=env["HERALD_CELERY_QUEUE"], env=env)
    with web_process(env, tmp_path / "web.log") as web:
        for slug, key in keys.items():
            alert = WebhookAlertFactory(labels={"alertname": "DiskFull", "tenant": slug})
            payload = WebhookPayloadFactory(alerts=[alert], groupKey=f"{slug}-disk")
            answer = requests.post(web + INGEST, json=payload, timeout=30,
                                   headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200, answer.text

        def delivered_on_second() -> bool:
            return rows_on(second_postgres, "SELECT state FROM gamma.receivers_notification") == [
                (NotificationState.DELIVERED,)
            ]

        wait_for(delivered_on_second, timeout=90)
        with tenant_context(alpha):
            wait_for(lambda: Notification.objects.filter(
                state=NotificationState.DELIVERED).count() == 1, timeout=60)
        # Readiness asks both databases, and counts the backlog of tenants on each.
        ready = requests.get(f"{web}/api/v1/health/ready", timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["backlog"]["counts"] == {
            "tenants": 3, "pending": 0, "overdue": 0,  # alpha, beta and gamma
        }

    posts = {path: [a["labels"]["tenant"] for r, _ in httpserver.log if r.path == path
                    for a in r.get_json()["alerts"]] for path in ("/gamma", "/alpha")}
    assert posts == {"/gamma": ["gamma", "gamma"], "/alpha": ["alpha"]}  # gamma's retried once
    assert rows_on(second_postgres, "SELECT labels->>'tenant' FROM gamma.alerting_alert") == [
        ("gamma",)
    ]
    assert rows_on(second_postgres, "SELECT attempts FROM gamma.receivers_notification") == [(2,)]
    # Alpha's rows stay on the first server; the second has no schema of it.
    assert "alpha" not in schemas_on(second_postgres)
    assert rows_on(primary, "SELECT labels->>'tenant' FROM alpha.alerting_alert") == [("alpha",)]
    # The shared schema's rows are the first server's only.
    assert rows_on(second_postgres, "SELECT count(*) FROM public.tenants_tenant") == [(0,)]

    # An auditor's check reads gamma's chain on its server, its checkpoints here.
    assert "gamma: intact" in manage(env, "verify_audit_log", "--tenant", "gamma").stdout
    # Moving gamma to the first server: a backup there, a restore here.
    backup = tmp_path / "gamma.herald-backup"
    secret = {**env, "BACKUP_PASSPHRASE": "correct horse battery staple"}
    manage(secret, "tenant_backup", "--tenant", "gamma", "--out", str(backup),
           "--passphrase-env", "BACKUP_PASSPHRASE")
    manage(secret, "tenant_restore", "--in", str(backup), "--slug", "gamma-moved",
           "--domain", "moved.example.test", "--passphrase-env", "BACKUP_PASSPHRASE")
    moved = Tenant.objects.get(slug="gamma-moved")
    assert moved.database == "default"
    assert rows_on(primary, "SELECT labels->>'tenant' FROM gamma_moved.alerting_alert") == [
        ("gamma",)
    ]
    verified = manage(env, "verify_audit_log", "--tenant", "gamma-moved")
    assert "gamma-moved: intact" in verified.stdout
    # And back onto the second server, from the same file.
    manage(secret, "tenant_restore", "--in", str(backup), "--slug", "gamma-back",
           "--domain", "back.example.test", "--database", "second",
           "--passphrase-env", "BACKUP_PASSPHRASE")
    assert Tenant.objects.get(slug="gamma-back").database == "second"
    assert "gamma_back" not in schemas_on(primary)
    assert rows_on(second_postgres, "SELECT count(*) FROM gamma_back.alerting_alert") == [(1,)]
    verified = manage(env, "verify_audit_log", "--tenant", "gamma-back")
    assert "gamma-back: intact" in verified.stdout
    # Replacing gamma in place would span both servers: refused, gamma untouched.
    refused = manage(secret, "tenant_restore", "--in", str(backup), "--replace",
                     "--passphrase-env", "BACKUP_PASSPHRASE", check=False)
    assert refused.returncode == 1
    assert "lives on database 'second'" in refused.stderr
    assert rows_on(second_postgres, "SELECT count(*) FROM gamma.alerting_alert") == [(1,)]


def test_creating_a_tenant_on_a_second_server_leaves_nothing_when_it_fails(
    two_databases, second_postgres, committed_tenants
):
    env = two_databases
    Domain.objects.create(tenant=committed_tenants["alpha"], domain="taken.example.test")

    unknown = manage(env, "create_tenant", "--slug", "delta", "--name", "Delta",
                     "--domain", "delta.example.test", "--database", "third", check=False)
    assert unknown.returncode == 1
    assert "No database of that name is configured." in unknown.stderr

    clash = manage(env, "create_tenant", "--slug", "delta", "--name", "Delta",
                   "--domain", "taken.example.test", "--database", "second", check=False)
    assert clash.returncode == 1
    assert "taken.example.test" in clash.stderr and "Traceback" not in clash.stderr
    # The schema cloned on the second server was dropped again; no tenant row.
    assert "delta" not in schemas_on(second_postgres)
    assert not Tenant.objects.filter(slug="delta").exists()


def test_the_databases_setting_adds_one_alias_per_database_and_the_shared_one():
    default = {"ENGINE": "alerting.infra.tenant_backend", "NAME": "herald", "HOST": "pg-a",
               "OPTIONS": {"prepare_threshold": 5}, "CONN_MAX_AGE": 60}
    added = tenant_databases_parse(
        default=default, spec="eu=postgres://herald:pw@pg-eu:6432/herald_eu, us=postgres://u@pg-us/h"
    )
    assert set(added) == {"eu", "us", SHARED_ALIAS}
    assert added["eu"] | {"OPTIONS": None} == {
        **default, "NAME": "herald_eu", "USER": "herald", "PASSWORD": "pw", "HOST": "pg-eu",
        "PORT": 6432, "OPTIONS": None,
    }
    assert added["eu"]["OPTIONS"] == {"prepare_threshold": 5}
    assert added["eu"]["OPTIONS"] is not default["OPTIONS"]
    assert added[SHARED_ALIAS]["HOST"] == "pg-a"
    assert added[SHARED_ALIAS]["TEST"] == {"MIRROR": "default"}
    assert tenant_databases_parse(default=default, spec=" ") == {}


@pytest.mark.parametrize("spec, complaint", [
    ("eu", "expected alias=postgres://"),
    ("default=postgres://h/d", "neither 'default'"),
    (f"{SHARED_ALIAS}=postgres://h/d", "neither 'default'"),
    ("EU=postgres://h/d", "lower-case"),
    ("eu=postgres://h/a,eu=postgres://h/b", "named twice"),
])
def test_a_databases_setting_that_cannot_be_read_says_which_entry(spec, complaint):
    with pytest.raises(TenantDatabasesError, match=re.escape(complaint)):
        tenant_databases_parse(default={"NAME": "x"}, spec=spec)


def test_with_one_database_the_connection_is_never_rebound(alpha):
    assert SHARED_ALIAS not in settings.DATABASES
    with tenant_context(alpha):
        assert connection.alias == "default"


def test_a_restore_onto_a_database_that_is_not_configured_is_refused_before_reading(tmp_path):
    with pytest.raises(BackupError, match="no database 'us' is configured"):
        tenant_restore(path=tmp_path / "never-read.herald-backup", database="us",
                       secret=BackupSecret(passphrase="correct horse battery staple"))
