"""The one outbound HTTP path: shared session, timeouts, private-network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from receivers.transports.errors import TransportError

_local = threading.local()


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


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not ip.is_multicast


def guard_url(url: str, *, allow_private: bool) -> str:
    """Refuse URLs that are not http(s), or that resolve into private networks; the host.

    Guards against a receiver being used to reach the cloud metadata service
    or internal hosts. The error never repeats the URL: it may hold a token.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TransportError("the receiver URL is not an http(s) URL", permanent=True)
    guard_host(parts.hostname, parts.port or 443, allow_private=allow_private)
    return parts.hostname


def guard_host(host: str, port: int, *, allow_private: bool) -> None:
    """Refuse a host that resolves into private networks (also used for SMTP)."""
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransportError(f"cannot resolve the receiver's host: {exc.strerror}") from exc
    if not all(_is_public(info[4][0]) for info in infos):
        raise TransportError(
            "the receiver's host resolves to a private or loopback address, "
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
    host = guard_url(url, allow_private=allow_private)
    read_timeout = timeout or settings.HERALD_HTTP_TIMEOUT_SECONDS
    try:
        return _session().post(
            url,
            json=json,
            data=data,
            headers=headers,
            timeout=(min(5.0, read_timeout), read_timeout),
            allow_redirects=False,
            proxies=_proxies(host),
        )
    except requests.Timeout:
        raise TransportError("the receiver did not answer in time") from None
    except requests.ConnectionError:
        raise TransportError("could not connect to the receiver") from None
    except requests.RequestException as exc:
        raise TransportError(f"request failed: {type(exc).__name__}", permanent=True) from None
