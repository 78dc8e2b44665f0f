"""Under Herald's Content-Security-Policy the admin and the template editor's live
preview (static JavaScript fetching the rendering) still work, with nothing refused."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_live_preview_renders_under_the_csp_with_no_violation(
    page, tenant_url, member, committed_tenants
):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    member("sre", "editor")
    base = tenant_url("alpha")
    log_in(page, base, "sre")

    response = page.goto(f"{base}/admin/receivers/messagetemplate/add/")
    directives = dict(
        part.strip().split(" ", 1) for part in
        response.headers["content-security-policy"].split(";") if part.strip()
    )
    assert directives["script-src"] == "'self'"  # no inline scripts, no eval
    page.select_option("#id_channel", "slack")
    page.fill("#id_part", "title")
    page.fill("#id_source", "{{ alertname }} under a CSP")
    page.wait_for_selector("#preview-output pre.preview-firing")

    assert "HighLatency under a CSP" in page.inner_text("#preview-output pre.preview-firing")
    page.goto(f"{base}/admin/")
    page.goto(f"{base}/admin/two-factor/")
    assert page.is_visible("#totp-qr")  # the QR code is a data: image, allowed
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 0
    assert violations == []
