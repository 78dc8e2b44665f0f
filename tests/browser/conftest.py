"""Playwright for Python driving Debian's Chromium (Playwright's own download is
not used: it needs the internet). `make test` installs the browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections

from tenants.models import Role, TenantMembership

CHROMIUM = os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-password-1"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Chromium resolves *.localhost to loopback itself; this makes sure of it.
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]


@pytest.fixture
def page(monkeypatch, live_server) -> Iterator:
    """A fresh headless Chromium page per test.

    Started per test (about a second), not per session: Playwright's sync API
    keeps an event loop running in this thread while it is up, and Django
    refuses ORM calls under a running loop. The test's own ORM calls (setup,
    assertions) are plain synchronous code, so they are allowed for its
    duration; the database flush after the test runs once Playwright is gone.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()
        # Under the running loop, asgiref's locals give this test its own
        # database connections; close them here, or they outlive the test
        # database and block its DROP.
        connections.close_all()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def tenant_url(live_server, committed_tenants):
    """The base URL of a tenant's admin on the live server: http://<slug>.localhost:<port>."""
    port = live_server.url.rsplit(":", 1)[1]

    def url(slug: str, path: str = "") -> str:
        return f"http://{slug}.localhost:{port}{path}"

    return url


@pytest.fixture
def member(committed_tenants):
    def make(username: str, role: str, slug: str = "alpha") -> User:
        user = User.objects.create_user(username=username, password=PASSWORD)
        TenantMembership.objects.create(user=user, tenant=committed_tenants[slug], role=Role(role))
        return user

    return make


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
