"""What the outbound guard refuses, as pure rules: URL spellings and addresses.

No I/O here: resolving a name and connecting to the address that was checked
live in receivers/transports/http.py (HTTP) and email.py (SMTP).

Why so strict about spellings: a guard is only as good as its agreement with
the client that connects. `http://127.0.0.1:80\\@1.1.1.1/` is 1.1.1.1 to
urllib.parse and 127.0.0.1 to urllib3; `http://0x7f.1/` is a name to some
parsers and 127.0.0.1 to inet_aton. So a URL is read by the parser requests
uses (urllib3's `parse_url`, after requests' own preparation), and whatever two
parsers might read differently is refused outright: backslashes, user info,
percent signs, whitespace and control characters, non-canonical numeric hosts,
non-ASCII hosts that are not clean IDNA. Errors never repeat the URL: it may
hold a token.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from receivers.transports.errors import TransportError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# WHATWG reads a host whose last label is a number (decimal, octal or hex) as
# IPv4, and inet_aton accepts 127.1 or 2130706433: only a.b.c.d is let through.
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# Unicode categories refused anywhere in a URL: controls, format characters
# (zero-width, bidi), and separators (any kind of space).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def _refused(problem: str) -> TransportError:
    return TransportError(f"the receiver URL {problem}", permanent=True)


@dataclass(frozen=True)
class UrlTarget:
    """Where an http(s) URL points, as the HTTP client will read it."""

    scheme: str
    host: str  # ASCII (IDNA A-labels), lower case; an IPv6 literal without brackets
    port: int
    explicit_port: bool

    @property
    def host_header(self) -> str:
        """The Host header the client would send for this URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.explicit_port else host


def url_target(url: str) -> UrlTarget:
    """The target of an http(s) URL, or TransportError (permanent) naming what is refused."""
    if not isinstance(url, str) or not url:
        raise _refused("is not an http(s) URL")
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in url):
        raise _refused("contains whitespace or control characters")
    if "\\" in url:
        raise _refused("contains a backslash")
    match = _SCHEME.match(url)
    if match is None or match.group(1).lower() not in DEFAULT_PORTS:
        raise _refused("is not an http(s) URL")
    scheme = match.group(1).lower()
    authority = re.split(r"[/?#]", url[match.end():], maxsplit=1)[0]
    if "@" in authority:
        raise _refused("has user info (user:password@): keep credentials in the secrets")
    if "%" in authority:
        # %5C, %40, %2E or a zone id (%25eth0): each parser decodes these its own way.
        raise _refused("has a percent-encoded character in its host or port")
    host, port_text = _split_authority(authority)
    port = _port(port_text, scheme)
    target = UrlTarget(
        scheme=scheme, host=host_name_check(host), port=port, explicit_port=bool(port_text)
    )
    _same_as_the_client(url, target)
    return target


def _split_authority(authority: str) -> tuple[str, str]:
    if authority.startswith("["):
        end = authority.find("]")
        rest = authority[end + 1:] if end > 0 else "x"
        if rest and not rest.startswith(":"):
            raise _refused("has a malformed IPv6 host")
        return authority[: end + 1], rest[1:]
    if authority.count(":") > 1:
        raise _refused("has a malformed host or port")
    host, _, port_text = authority.partition(":")
    return host, port_text


def _port(text: str, scheme: str) -> int:
    if not text:
        return DEFAULT_PORTS[scheme]
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise _refused("has an invalid port")
    return int(text)


def host_name_check(host: str) -> str:
    """The ASCII form of a host name or IP literal, or TransportError (permanent).

    Shared by URLs and SMTP hosts: an IPv6 literal may come bracketed or not;
    a non-ASCII name must encode cleanly as IDNA 2008 (the way urllib3 does);
    a host that looks numeric must be a plain dotted IPv4 address.
    """
    if not host:
        raise TransportError("the receiver's host is empty", permanent=True)
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in host):
        raise TransportError("the receiver's host contains whitespace or control characters",
                             permanent=True)
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare:
        if "%" in bare:
            raise TransportError("the receiver's host has an IPv6 zone id, which is not "
                                 "supported", permanent=True)
        try:
            return ipaddress.IPv6Address(bare).compressed
        except ValueError:
            raise TransportError("the receiver's host is not a valid IPv6 address",
                                 permanent=True) from None
    if bare != host:
        raise TransportError("the receiver's host is not a valid IPv6 address", permanent=True)
    if not host.isascii():
        try:
            host = idna.encode(host.lower(), strict=True, std3_rules=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise TransportError("the receiver's host is not a valid international domain "
                                 "name", permanent=True) from None
    host = host.lower()
    labels = host.removesuffix(".").split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise TransportError("the receiver's host is a numeric address that is not "
                                 "written a.b.c.d", permanent=True) from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise TransportError("the receiver's host is not a valid host name", permanent=True)
    return host


def _same_as_the_client(url: str, target: UrlTarget) -> None:
    """Refuse a URL that requests (or the urllib3 under it) reads differently from us.

    requests prepares the URL with urllib3's parse_url and IDNA (UTS 46), then
    picks the connection pool with urllib.parse: all three must agree.
    """
    prepared = requests.models.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
        parsed = parse_url(prepared.url)
    except (requests.RequestException, LocationParseError, ValueError, UnicodeError):
        raise _refused("cannot be read by the HTTP client") from None
    split = urlsplit(prepared.url)
    hosts = {(parsed.host or "").strip("[]").lower(), (split.hostname or "").lower()}
    if parsed.auth is not None or split.username is not None:
        raise _refused("has user info (user:password@): keep credentials in the secrets")
    if len(hosts) != 1 or _canonical(hosts.pop()) != target.host:
        raise _refused("is read differently by different URL parsers")
    if (parsed.port or DEFAULT_PORTS[target.scheme]) != target.port:
        raise _refused("is read differently by different URL parsers")


def _canonical(host: str) -> str:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


# --- addresses -------------------------------------------------------------------------

def _networks(*pairs: tuple[str, str]) -> tuple[tuple[ipaddress._BaseNetwork, str], ...]:
    return tuple((ipaddress.ip_network(network), label) for network, label in pairs)


# Order matters where ranges nest: the first match names the reason.
_IPV4_REFUSED = _networks(
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
)
_IPV6_REFUSED = _networks(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible"),
    ("::ffff:0:0:0/96", "IPv4-translated"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001:2::/48", "benchmarking"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignment"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def host_name_refusal(host: str) -> str | None:
    """Why a (checked, ASCII) host name is not public before any lookup, or None.

    localhost and its subdomains are loopback by definition (RFC 6761), whatever
    a resolver might answer for them.
    """
    if host.removesuffix(".") == "localhost" or host.removesuffix(".").endswith(".localhost"):
        return "loopback"
    return None


def address_refusal(address: str | IPAddress) -> str | None:
    """Why an address is not public (e.g. "loopback"), or None for a public one.

    An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) is
    judged by the IPv4 address it reaches. `is_global` is the last word only
    after the explicit ranges, which name the reason and cover what it misses.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        for network, label in _IPV4_REFUSED:
            if ip in network:
                return label
        return None if ip.is_global else "not globally routable"
    if ip.ipv4_mapped is not None:
        return _carried("IPv4-mapped", ip.ipv4_mapped)
    if ip in _NAT64:
        return _carried("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        return _carried("6to4", ip.sixtofour)
    if ip.teredo is not None:
        server, client = ip.teredo
        return _carried("Teredo", server) or _carried("Teredo", client)
    for network, label in _IPV6_REFUSED:
        if ip in network:
            return label
    if ip not in _GLOBAL_UNICAST:
        return "reserved"
    return None if ip.is_global else "not globally routable"


def _carried(form: str, ipv4: ipaddress.IPv4Address) -> str | None:
    reason = address_refusal(ipv4)
    return f"{form} form of a {reason} address" if reason else None
