"""Herald behind a TLS-terminating proxy, with an https HERALD_BASE_URL: Secure
cookies, HSTS, a CSP, the proxy's X-Forwarded-Proto trusted, and a production
configuration that `manage.py check --deploy` finds clean."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tests.admin.conftest import PASSWORD, member

HTTPS_BASE = "https://herald.example.test"
_SECURITY = (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS",
)


def _env(**extra: str) -> dict[str, str]:
    socket_dir = django_settings.DATABASES["default"]["HOST"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "DJANGO_"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "alerting.infra.settings",
        "HERALD_VAR_DIR": str(django_settings.VAR_DIR),
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or f"postgres://postgres@{quote(socket_dir, safe='')}/postgres",
        **extra,
    }


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, *args], cwd=django_settings.BASE_DIR, env=_env(**env),
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def https_derived() -> dict:
    """The settings that Herald's own settings module derives from an https base URL
    (read once per module: the same process would say the same each time)."""
    script = (
        "import json; from alerting.infra import settings as s; "
        f"print(json.dumps({{k: getattr(s, k, None) for k in {_SECURITY!r}}}))"
    )
    result = _run(["-c", script], HERALD_BASE_URL=HTTPS_BASE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def https_settings(settings, https_derived):
    """Those settings, in place for one test."""
    derived = copy.deepcopy(https_derived)
    for name, value in derived.items():
        setattr(settings, name, tuple(value) if name == "SECURE_PROXY_SSL_HEADER" else value)
    return derived


def _get(client: Client, path: str, **extra):
    tenant = connection.tenant
    try:
        return client.get(path, **extra)
    finally:
        connection.set_tenant(tenant)


def test_behind_the_proxy_cookies_are_secure_and_hsts_and_csp_are_sent(https_settings, alpha):
    member(alpha, "sre", "editor")
    client = Client(HTTP_HOST="alpha.localhost", HTTP_X_FORWARDED_PROTO="https")

    login_page = _get(client, "/admin/login/")
    tenant = connection.tenant
    logged_in = client.post("/admin/login/?next=/admin/",
                            {"username": "sre", "password": PASSWORD})
    connection.set_tenant(tenant)
    index = _get(client, "/admin/")

    assert login_page.status_code == 200
    assert login_page.cookies["csrftoken"]["secure"]
    assert logged_in.status_code == 302
    session = logged_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert index.status_code == 200
    for response in (login_page, index):
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-eval" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"


def test_plain_http_is_sent_to_https_but_probes_are_answered(https_settings, alpha):
    plain = Client(HTTP_HOST="alpha.localhost")
    moved = _get(plain, "/admin/")
    probe = _get(Client(HTTP_HOST="127.0.0.1"), "/api/v1/health")

    assert moved.status_code == 301 and moved["Location"] == "https://alpha.localhost/admin/"
    assert probe.status_code == 200


def test_an_http_base_url_keeps_cookies_usable_over_plain_http(alpha):
    page = _get(Client(HTTP_HOST="alpha.localhost"), "/admin/login/")
    assert page.status_code == 200
    assert not page.cookies["csrftoken"]["secure"]
    assert "Strict-Transport-Security" not in page
    assert "Content-Security-Policy" in page  # the CSP is sent whatever the scheme


def test_check_deploy_is_clean_in_production_mode():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        HERALD_BASE_URL=HTTPS_BASE, HERALD_METRICS_BEARER_TOKEN="prometheus-scrape-token",
        DJANGO_SECRET_KEY="k" * 10 + "a-long-random-secret-key-for-the-deploy-check-7Qx9",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_base_url_or_metrics_credentials():
    commands = [
        ["manage.py", "check", "--deploy"],
        ["-m", "gunicorn", "alerting.infra.wsgi:application",
         "--config", "python:alerting.infra.gunicorn_conf", "--bind", "127.0.0.1:0"],
        ["manage.py", "runherald", "--port", "0"],
        ["manage.py", "check"],
    ]
    # Each is a process of its own that mostly imports Django: side by side.
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        deploy, web, run, check = pool.map(_run, commands)

    for result in (deploy, web, run):
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "herald.E001" in output and "HERALD_BASE_URL is not set" in output, output
        assert "herald.E002" in output
    # Development commands are not held up.
    assert check.returncode == 0
