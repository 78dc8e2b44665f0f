"""The outbound guard end to end: HTTP and SMTP, DNS rebinding, proxies, TLS names.

Every test here runs JAILED: `socket.socket.connect` (and `connect_ex`) refuse
and record any address that is not loopback, so a wrong guard fails a test
instead of reaching the network. Names are answered by a fake resolver (made-up
names only; anything else but localhost does not resolve), so no test sends a
DNS query either. The listeners are local: pytest-httpserver and aiosmtpd.
"""

from __future__ import annotations

import ssl
import threading

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from receivers.transports import TransportError, transport_class
from receivers.transports import http as outbound_http
from receivers.transports.http import http_post
from tests.receivers.helpers import alert_message
from tests.receivers.outbound_jail import PUBLIC
from tests.receivers.smtp import smtp_server


def post_from_a_new_thread(url: str, *, allow_private: bool, **kwargs):
    """http_post in a fresh thread (fresh session), returning the response or the error."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(http_post(url, allow_private=allow_private, data=b"{}", **kwargs))
        except TransportError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


# Each points at the loopback listener (port P) or at a private range.
REFUSED = [
    "http://127.0.0.1:{P}/hook",
    "http://localhost:{P}/hook",
    "http://localhost.:{P}/hook",
    "http://LocalHost:{P}/hook",
    "http://0.0.0.0:{P}/hook",
    "http://[::]:{P}/hook",
    "http://[::1]:{P}/hook",
    "http://[::ffff:127.0.0.1]:{P}/hook",
    "http://[::ffff:7f00:1]:{P}/hook",
    "http://[::127.0.0.1]:{P}/hook",
    "http://[64:ff9b::127.0.0.1]:{P}/hook",
    "http://[64:ff9b:1::7f00:1]:{P}/hook",
    "http://[2002:7f00:1::1]:{P}/hook",
    "http://[fe80::1%25lo]:{P}/hook",
    "http://2130706433:{P}/hook",
    "http://0x7f.1:{P}/hook",
    "http://0x7f000001:{P}/hook",
    "http://0177.0.0.1:{P}/hook",
    "http://127.1:{P}/hook",
    "http://127.0.0.1.:{P}/hook",
    "http://127.0.0.1:{P}\\@1.1.1.1/hook",
    "http://127.0.0.1:{P}%5C@1.1.1.1/hook",
    "http://1.1.1.1\\@127.0.0.1:{P}/hook",
    "http://1.1.1.1@127.0.0.1:{P}/hook",
    "http://token:x@127.0.0.1:{P}/hook",
    "http://127.0.0.1:{P}#@1.1.1.1/hook",
    "http://127.0.0.1:{P}?@1.1.1.1/hook",
    "http://127.0.0.1\t:{P}/hook",
    "http://127.0.0.1:{P}\n/hook",
    "http://127.0.0.1 :{P}/hook",
    "http://127\u30020\u30020\u30021:{P}/hook",
    "http://\u24dbocalhost:{P}/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://198.18.0.1/hook",
    "http://192.0.2.1/hook",
    "http://[2001:db8::1]/hook",
    "http://224.0.0.1/hook",
    "http://255.255.255.255/hook",
    "gopher://127.0.0.1:{P}/hook",
]


@pytest.mark.parametrize("spelling", REFUSED)
def test_refused_urls_never_reach_the_listener_nor_anything_else(httpserver, jail, spelling):
    url = spelling.replace("{P}", str(httpserver.port))

    outcome = post_from_a_new_thread(url, allow_private=False)

    assert isinstance(outcome, TransportError) and outcome.permanent is True
    assert url not in outcome.message and "hook" not in outcome.message
    assert httpserver.log == [] and jail.refused == []


AMBIGUOUS = [s for s in REFUSED if "\\" in s or "0x" in s or ("@" in s and "#@" not in s
                                                           and "?@" not in s)]


@pytest.mark.parametrize("spelling", AMBIGUOUS)
def test_ambiguous_spellings_stay_refused_when_private_targets_are_allowed(httpserver, spelling):
    outcome = post_from_a_new_thread(spelling.replace("{P}", str(httpserver.port)),
                                     allow_private=True)
    assert isinstance(outcome, TransportError) and outcome.permanent is True
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("spelling", "host"),
    [
        ("http://127.0.0.1:{P}/hook", "127.0.0.1:{P}"),
        ("http://localhost:{P}/hook", "localhost:{P}"),
        ("http://LOCALHOST.:{P}/hook", "localhost.:{P}"),
    ],
)
def test_a_tenant_that_allows_private_targets_reaches_the_loopback_listener(
    httpserver, jail, spelling, host
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    port = str(httpserver.port)

    response = post_from_a_new_thread(spelling.replace("{P}", port), allow_private=True)

    assert response.status_code == 200
    [(request, _)] = httpserver.log
    assert request.headers["Host"] == host.replace("{P}", port)
    assert jail.refused == []


def test_dns_rebinding_connects_to_the_address_that_was_checked(httpserver, jail, resolver):
    resolver.answer("rebind.test", [PUBLIC], ["127.0.0.1"])

    outcome = post_from_a_new_thread(f"http://rebind.test:{httpserver.port}/hook",
                                     allow_private=False)

    assert isinstance(outcome, TransportError) and outcome.permanent is False
    assert jail.refused == [(PUBLIC, httpserver.port)]  # the checked address, jailed
    assert httpserver.log == [] and resolver.count("rebind.test") == 1


def test_a_name_with_any_private_address_is_refused(httpserver, jail, resolver):
    resolver.answer("mixed.test", [PUBLIC, "127.0.0.1"])

    outcome = post_from_a_new_thread(f"http://mixed.test:{httpserver.port}/hook",
                                     allow_private=False)

    assert isinstance(outcome, TransportError) and outcome.permanent is True
    assert "private or loopback address (loopback)" in outcome.message
    assert jail.refused == [] and httpserver.log == []


def test_a_pinned_name_keeps_its_host_header_and_is_looked_up_once(httpserver, resolver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    resolver.answer("hooks.test", ["127.0.0.1"], ["10.0.0.1"])  # a second lookup would differ
    url = f"http://hooks.test:{httpserver.port}/hook"

    assert post_from_a_new_thread(url, allow_private=True,
                                  headers={"Host": "spoofed.test"}).status_code == 200

    [(request, _)] = httpserver.log
    assert request.headers["Host"] == f"hooks.test:{httpserver.port}"
    assert resolver.count("hooks.test") == 1


def test_an_address_that_cannot_be_connected_to_gives_way_to_the_next(
    httpserver, jail, resolver
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    resolver.answer("two.test", [PUBLIC, "127.0.0.1"])  # the jail makes the first unreachable

    response = post_from_a_new_thread(f"http://two.test:{httpserver.port}/hook",
                                      allow_private=True)

    assert response.status_code == 200 and len(httpserver.log) == 1
    assert jail.refused == [(PUBLIC, httpserver.port)]


def test_redirects_are_not_followed_and_cookies_not_kept(httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": "/elsewhere", "Set-Cookie": "s=1"})
    )
    url = httpserver.url_for("/hook")

    first = post_from_a_new_thread(url, allow_private=True)
    assert first.status_code == 302
    http_post(url, allow_private=True, data=b"{}")  # same thread, same session
    http_post(url, allow_private=True, data=b"{}")

    assert [request.path for request, _ in httpserver.log] == ["/hook"] * 3
    assert all("Cookie" not in request.headers for request, _ in httpserver.log)


# --- TLS: SNI and the certificate check stay on the name ------------------------------


@pytest.fixture
def https_server(smtp_cert, monkeypatch):
    """An HTTPS listener on 127.0.0.1 whose certificate names localhost and 127.0.0.1."""
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*smtp_cert)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/hook").respond_with_data("ok")
    server.start()
    monkeypatch.setattr(outbound_http, "_ENVIRONMENT", outbound_http._Environment(
        proxies={}, no_proxy="", ca_bundle=str(smtp_cert[0])))
    yield server, names
    server.clear()
    if server.is_running():
        server.stop()


def test_https_to_a_pinned_name_sends_sni_and_verifies_the_name(https_server, resolver):
    server, names = https_server
    resolver.answer("localhost", ["127.0.0.1"])

    response = post_from_a_new_thread(f"https://localhost:{server.port}/hook",
                                      allow_private=True)

    assert response.status_code == 200 and names == ["localhost"]


def test_https_is_refused_when_the_certificate_does_not_name_the_host(https_server, resolver):
    server, names = https_server
    # The certificate covers 127.0.0.1: checked against the pinned IP it would pass.
    resolver.answer("unnamed.test", ["127.0.0.1"])

    outcome = post_from_a_new_thread(f"https://unnamed.test:{server.port}/hook",
                                     allow_private=True)

    assert isinstance(outcome, TransportError)
    assert names == ["unnamed.test"] and server.log == []


# --- proxies ------------------------------------------------------------------------


@pytest.fixture
def proxy(httpserver, monkeypatch):
    monkeypatch.setattr(outbound_http, "_ENVIRONMENT", outbound_http._Environment(
        proxies={"http": httpserver.url_for("/")}, no_proxy="", ca_bundle=""))
    httpserver.expect_request("/hook").respond_with_data("via proxy")
    return httpserver


def test_through_a_proxy_the_target_is_still_checked(proxy):
    outcome = post_from_a_new_thread("http://10.1.2.3/hook", allow_private=False)

    assert isinstance(outcome, TransportError) and outcome.permanent is True
    assert proxy.log == []


def test_through_a_proxy_a_public_target_goes_to_the_proxy_which_resolves_it(
    proxy, jail, resolver
):
    resolver.answer("public.test", [PUBLIC])

    response = post_from_a_new_thread("http://public.test/hook", allow_private=False)

    assert response.text == "via proxy"
    [(request, _)] = proxy.log
    assert request.headers["Host"] == "public.test" and jail.refused == []


# --- SMTP ---------------------------------------------------------------------------


def email(host: str, port: int, *, allow_private: bool, security: str = "none"):
    return transport_class("email")(
        config={"host": host, "port": port, "security": security,
                "from_address": "herald@example.com", "to": ["sre@example.com"]},
        secrets={}, allow_private=allow_private,
    )


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::ffff:127.0.0.1", "127.1",
                                  "0x7f.1", "[::1]"])
def test_a_private_smtp_host_is_refused(smtp_plain, jail, host):
    with pytest.raises(TransportError) as failure:
        email(host, smtp_plain.port, allow_private=False).send(alert_message())
    assert failure.value.permanent is True
    assert smtp_plain.received == [] and jail.refused == []


def test_smtp_connects_to_the_address_that_was_checked(smtp_plain, jail, resolver):
    resolver.answer("mail.rebind.test", [PUBLIC], ["127.0.0.1"])

    with pytest.raises(TransportError) as failure:
        email("mail.rebind.test", smtp_plain.port, allow_private=False).send(alert_message())

    assert failure.value.permanent is False
    assert jail.refused == [(PUBLIC, smtp_plain.port)] and smtp_plain.received == []
    assert resolver.count("mail.rebind.test") == 1


def test_smtp_to_a_pinned_name_is_delivered_after_one_lookup(smtp_plain, resolver):
    resolver.answer("mail.test", ["127.0.0.1"], ["10.0.0.1"])

    email("mail.test", smtp_plain.port, allow_private=True).send(alert_message())

    assert len(smtp_plain.received) == 1 and resolver.count("mail.test") == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_smtp_tls_verifies_the_name_not_the_pinned_address(smtp_cert, trust_smtp_cert,
                                                           resolver, security):
    resolver.answer("localhost", ["127.0.0.1"])
    resolver.answer("unnamed.test", ["127.0.0.1"])  # the certificate names 127.0.0.1 only
    with smtp_server(cert=smtp_cert, implicit_tls=security == "tls") as mailbox:
        with pytest.raises(TransportError) as failure:
            email("unnamed.test", mailbox.port, allow_private=True,
                  security=security).send(alert_message())
        assert failure.value.permanent is True and "not trusted" in failure.value.message
        assert mailbox.received == []
        # The name the certificate does hold goes through (no auth: none needed to refuse).
        if security == "tls":
            email("localhost", mailbox.port, allow_private=True,
                  security=security).send(alert_message())
            assert len(mailbox.received) == 1
