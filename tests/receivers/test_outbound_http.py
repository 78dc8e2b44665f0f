"""The one outbound HTTP path: the environment's proxies, and nothing else of it."""

from __future__ import annotations

import threading

import pytest
from werkzeug import Response

from receivers.transports import http


@pytest.fixture
def environment(monkeypatch):
    """Set proxy variables as a worker would have them at start-up."""

    def configure(**variables: str) -> None:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                     "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        # Read once per process, like at a worker's start.
        monkeypatch.setattr(http, "_ENVIRONMENT", http._environment())

    yield configure


def _post_from_a_new_thread(url: str):
    # Sessions are per thread: a fresh thread sees the configured environment.
    answer = []
    thread = threading.Thread(
        target=lambda: answer.append(http.http_post(url, allow_private=True, data=b"{}"))
    )
    thread.start()
    thread.join()
    return answer[0]


def test_a_send_goes_through_the_environments_proxy(httpserver, environment):
    proxy = httpserver
    proxy.expect_request("/hook", method="POST").respond_with_data("via proxy")
    environment(HTTP_PROXY=proxy.url_for("/"))

    assert _post_from_a_new_thread("http://receiver.example/hook").text == "via proxy"

    request, _ = proxy.log[0]
    assert request.headers["Host"] == "receiver.example"


def test_no_proxy_hosts_are_reached_directly(httpserver, environment):
    httpserver.expect_request("/hook", method="POST").respond_with_data("direct")
    environment(HTTP_PROXY="http://proxy.invalid:3128", NO_PROXY="127.0.0.1,localhost")

    assert _post_from_a_new_thread(httpserver.url_for("/hook")).text == "direct"


def test_netrc_credentials_never_reach_a_receiver(httpserver, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine 127.0.0.1 login admin password hunter2\n"
        "machine localhost login admin password hunter2\n"
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    httpserver.expect_request("/hook").respond_with_handler(
        lambda request: Response(request.headers.get("Authorization", "none"))
    )

    assert _post_from_a_new_thread(httpserver.url_for("/hook")).text == "none"
