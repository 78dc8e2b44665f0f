"""The one outbound HTTP path: shared session, timeouts, the guard, the checked address.

Every send reads the URL the way the client will (receivers/transports/outbound.py),
resolves the host once, refuses it if any of its addresses is not public (unless
the tenant allows private targets), and then connects to an address that was
checked: the connection pool is keyed by that IP, while TLS keeps SNI and the
certificate check on the host name and the Host header stays the name. A second
lookup (DNS rebinding) never happens.

Through a proxy (HTTP(S)_PROXY, minus NO_PROXY) the target is checked the same
way, but the proxy resolves the name on its own and is trusted to: Herald cannot
pin the address a proxy connects to.
"""

from __future__ import annotations

import http.cookiejar
import os
import socket
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from receivers.transports.errors import TransportError
from receivers.transports.outbound import (
    UrlTarget,
    address_refusal,
    host_name_refusal,
    url_target,
)

# A host may answer several addresses; when one cannot be connected to (nothing
# was sent yet), the next is tried, up to this many.
_ADDRESSES_TRIED = 3

_local = threading.local()


@dataclass(frozen=True)
class _Pin:
    host: str
    address: str


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address the guard checked (`request.herald_pin`), not to a new lookup."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pin: _Pin | None = getattr(request, "herald_pin", None)
        if pin is None:
            return host_params, pool_kwargs
        # The pool is keyed by the IP, so a kept-alive connection is reused only
        # for the same checked address; TLS still names and verifies the host.
        host_params = {**host_params, "host": pin.address}
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": pin.host, "assert_hostname": pin.host}
        return host_params, pool_kwargs


def _session() -> requests.Session:
    # One session per thread: connection reuse without sharing a pool's
    # state across threads of the worker.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "Herald/1"
        # requests would re-read the environment on every request (proxies,
        # NO_PROXY, CA bundle, ~/.netrc): about 40 % of a send's CPU, and a
        # ~/.netrc login has no business going to a tenant's URL. The
        # environment is read once per process instead (_ENVIRONMENT).
        session.trust_env = False
        session.verify = _ENVIRONMENT.ca_bundle or True
        # The session is shared by every tenant's sends in this thread: a cookie
        # one tenant's receiver set must never go out with another's request.
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = _PinnedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class _Environment:
    proxies: dict[str, str]
    no_proxy: str
    ca_bundle: str


def _environment() -> _Environment:
    proxies = urllib.request.getproxies_environment()
    return _Environment(
        proxies={scheme: url for scheme, url in proxies.items() if scheme in ("http", "https")},
        no_proxy=proxies.get("no", ""),
        ca_bundle=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or "",
    )


_ENVIRONMENT = _environment()


def _proxies(host: str) -> dict[str, str]:
    """HTTP(S)_PROXY, unless NO_PROXY names the host (the same rules as urllib's)."""
    if not _ENVIRONMENT.proxies or urllib.request.proxy_bypass_environment(
        host, proxies={"no": _ENVIRONMENT.no_proxy}
    ):
        return {}
    return _ENVIRONMENT.proxies


def guard_url(url: str, *, allow_private: bool) -> UrlTarget:
    """The URL's target once its spelling and (unless allowed) its addresses pass.

    Raises TransportError: permanent for a refused URL or address, retryable
    for a name that does not resolve now. The error never repeats the URL.
    """
    target = url_target(url)
    if not allow_private:
        guard_host(target.host, target.port, allow_private=False)
    return target


def guard_host(host: str, port: int, *, allow_private: bool) -> tuple[str, ...]:
    """Resolve `host` once; its addresses, every one of them checked unless `allow_private`.

    `host` is already checked for spelling (outbound.host_name_check). HTTP and
    SMTP connect to one of the returned addresses, never to a second lookup.
    """
    if not allow_private and (reason := host_name_refusal(host)):
        raise _private(reason)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransportError(f"cannot resolve the receiver's host: {exc.strerror}") from None
    except (UnicodeError, OSError):
        raise TransportError("cannot resolve the receiver's host") from None
    addresses = tuple(dict.fromkeys(
        str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)
    ))
    if not addresses:
        raise TransportError("cannot resolve the receiver's host: no IPv4 or IPv6 address")
    if not allow_private:
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise _private(reason)
    return addresses


def _private(reason: str) -> TransportError:
    return TransportError(
        f"the receiver's host resolves to a private or loopback address ({reason}), "
        "which this tenant is not allowed to send to",
        permanent=True,
    )


def http_post(
    url: str,
    *,
    allow_private: bool,
    json: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> requests.Response:
    """POST through the guard: no redirects, bounded in time, to a checked address."""
    return http_request(
        "POST", url, allow_private=allow_private, json=json, data=data, headers=headers,
        timeout=timeout,
    )


def http_request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    json: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    timeout: float | None = None,
) -> requests.Response:
    """Any method through the guard (ticket APIs read with GET and update with PATCH/PUT)."""
    target = url_target(url)
    proxies = _proxies(target.host)
    session = _session()
    prepared = session.prepare_request(
        requests.Request(method, url, json=json, data=data, headers=headers, params=params)
    )
    if proxies:
        # The proxy resolves and connects on its own; the target is still checked here.
        if not allow_private:
            guard_host(target.host, target.port, allow_private=False)
        pins: list[_Pin | None] = [None]
    else:
        addresses = guard_host(target.host, target.port, allow_private=allow_private)
        pins = [_Pin(host=target.host, address=address) for address in addresses]
        # The pool's host is an IP now: the Host header must still be the name
        # (a tenant's own Host header is not honoured: it would not match SNI).
        for name in [name for name in prepared.headers if name.lower() == "host"]:
            del prepared.headers[name]
        prepared.headers["Host"] = target.host_header
    read_timeout = timeout or settings.HERALD_HTTP_TIMEOUT_SECONDS
    try:
        return _send(
            session, prepared, pins[:_ADDRESSES_TRIED],
            timeout=(min(5.0, read_timeout), read_timeout),
            allow_redirects=False,
            proxies=proxies,
        )
    except requests.Timeout:
        raise TransportError("the receiver did not answer in time") from None
    except requests.ConnectionError:
        raise TransportError("could not connect to the receiver") from None
    except requests.RequestException as exc:
        raise TransportError(f"request failed: {type(exc).__name__}", permanent=True) from None


def _send(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    pins: list[_Pin | None],
    **kwargs: Any,
) -> requests.Response:
    for index, pin in enumerate(pins):
        prepared.herald_pin = pin  # type: ignore[attr-defined]  # read by _PinnedAdapter
        try:
            return session.send(prepared, **kwargs)
        except requests.ConnectionError as exc:
            # Only a connection that never opened is safe to try elsewhere: the
            # receiver saw nothing, so nothing can be sent twice.
            if index + 1 == len(pins) or not _never_connected(exc):
                raise
    raise AssertionError("unreachable: pins is never empty")


def _never_connected(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def response_json_object(response: requests.Response) -> dict[str, Any]:
    """A vendor's JSON answer as an object; {} when it is anything else (a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
