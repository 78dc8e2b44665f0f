"""The outbound guard's pure rules: how a URL is read, which addresses are not public.

No servers, no lookups: receivers/transports/outbound.py does no I/O.
"""

from __future__ import annotations

import pytest

from receivers.transports.errors import TransportError
from receivers.transports.outbound import address_refusal, host_name_check, url_target

# Spellings that two parsers (or a parser and inet_aton) read differently,
# refused for every tenant, with what the refusal says.
REFUSED_SPELLINGS = {
    "http://127.0.0.1:8080\\@1.1.1.1/": "backslash",
    "http://1.1.1.1\\@127.0.0.1:8080/": "backslash",
    "http://example.com/\\@127.0.0.1/": "backslash",
    "http://127.0.0.1:8080%5C@1.1.1.1/": "user info",
    "http://1.1.1.1@127.0.0.1:8080/": "user info",
    "http://user:pass@hooks.example.com/": "user info",
    "http://@hooks.example.com/": "user info",
    "http://127.0.0.1%2F@1.1.1.1/": "user info",
    "http://ex%61mple.com/": "percent",
    "http://[fe80::1%25eth0]/": "percent",
    "http://[::1%25lo]:8080/": "percent",
    "http://127.0.0.1\t.example.com/": "whitespace or control",
    "http://127.0.0.1\n.example.com/": "whitespace or control",
    "http://hooks.example.com\r\nX-Injected: 1/": "whitespace or control",
    " http://hooks.example.com/": "whitespace or control",
    "http://hooks.example.com /x": "whitespace or control",
    "http://hooks\u200b.example.com/": "whitespace or control",
    "http://hooks.example.com\x00.evil/": "whitespace or control",
    "http://2130706433/": "numeric",
    "http://0x7f.1/": "numeric",
    "http://0x7f000001/": "numeric",
    "http://0177.0.0.1/": "numeric",
    "http://127.1/": "numeric",
    "http://127.0.0.1./": "numeric",
    "http://1.1.1.1.1/": "numeric",
    "http://127\u30020\u30020\u30021/": "international domain name",  # ideographic full stops
    "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/": "international domain",
    "http://\u24dbocalhost/": "international domain name",  # circled l: UTS 46 maps it to l
    "http://-hooks.example.com/": "not a valid host name",
    "http://hooks..example.com/": "not a valid host name",
    "http://a*b.example.com/": "not a valid host name",
    "http://::1/": "malformed",
    "http://[::1/": "malformed IPv6",
    "http://[::1]x/": "malformed IPv6",
    "http://[127.0.0.1]/": "not a valid IPv6",
    "http://hooks.example.com:0/": "invalid port",
    "http://hooks.example.com:65536/": "invalid port",
    "http://hooks.example.com:8o/": "invalid port",
    "http:///hook": "empty",
    "http://:80/hook": "empty",
    "ftp://hooks.example.com/": "not an http(s) URL",
    "file:///etc/passwd": "not an http(s) URL",
    "gopher://127.0.0.1:70/": "not an http(s) URL",
    "http:/hooks.example.com/": "not an http(s) URL",
    "//hooks.example.com/": "not an http(s) URL",
    "hooks.example.com/": "not an http(s) URL",
}


@pytest.mark.parametrize("url", sorted(REFUSED_SPELLINGS))
def test_spellings_that_parsers_read_differently_are_refused(url):
    with pytest.raises(TransportError) as failure:
        url_target(url)
    assert failure.value.permanent is True
    assert REFUSED_SPELLINGS[url] in failure.value.message
    assert "example" not in failure.value.message and "127.0.0.1" not in failure.value.message


@pytest.mark.parametrize(
    ("url", "host", "port", "host_header"),
    [
        ("https://hooks.slack.com/services/T0/B0/x", "hooks.slack.com", 443, "hooks.slack.com"),
        ("HTTP://Hooks.Example.COM:8080/p?q=1#f", "hooks.example.com", 8080,
         "hooks.example.com:8080"),
        ("http://hooks.example.com:/x", "hooks.example.com", 80, "hooks.example.com"),
        ("http://localhost./x", "localhost.", 80, "localhost."),
        ("http://127.0.0.1:9/hook", "127.0.0.1", 9, "127.0.0.1:9"),
        ("http://[::1]:8080/x", "::1", 8080, "[::1]:8080"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1", 80, "[::ffff:7f00:1]"),
        ("https://b\u00fccher.example/x", "xn--bcher-kva.example", 443, "xn--bcher-kva.example"),
        ("https://B\u00dcCHER.example/x", "xn--bcher-kva.example", 443, "xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example/", "xn--bcher-kva.example", 443,
         "xn--bcher-kva.example"),
        ("http://under_score.example/", "under_score.example", 80, "under_score.example"),
        ("https://hooks.example.com/path%5C@1.1.1.1", "hooks.example.com", 443,
         "hooks.example.com"),
        ("https://hooks.example.com/a@b?c=@d", "hooks.example.com", 443, "hooks.example.com"),
    ],
)
def test_plain_urls_are_read_as_the_client_reads_them(url, host, port, host_header):
    target = url_target(url)
    assert (target.host, target.port, target.host_header) == (host, port, host_header)


@pytest.mark.parametrize(
    ("host", "ascii_host"),
    [
        ("smtp.example.com", "smtp.example.com"),
        ("SMTP.Example.com", "smtp.example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("m\u00e4il.example", "xn--mil-qla.example"),
    ],
)
def test_smtp_hosts_are_read_the_same_way(host, ascii_host):
    assert host_name_check(host) == ascii_host


@pytest.mark.parametrize("host", ["", "127.1", "2130706433", "fe80::1%eth0", "a b", "a\\b",
                                  "[127.0.0.1]", "mail.example.com:25"])
def test_smtp_hosts_that_parsers_read_differently_are_refused(host):
    with pytest.raises(TransportError) as failure:
        host_name_check(host)
    assert failure.value.permanent is True


NOT_PUBLIC = {
    "0.0.0.0": "unspecified",  # noqa: S104 (an address classified, nothing bound)
    "0.1.2.3": "unspecified",
    "10.1.2.3": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "169.254.169.254": "link-local",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.0.0.8": "IETF protocol assignment",
    "192.0.2.1": "documentation",
    "192.88.99.1": "6to4 relay anycast",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.19.255.255": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "::": "unspecified",
    "::1": "loopback",
    "::127.0.0.1": "IPv4-compatible",
    "::1.1.1.1": "IPv4-compatible",
    "::ffff:127.0.0.1": "IPv4-mapped form of a loopback address",
    "::ffff:10.0.0.1": "IPv4-mapped form of a private address",
    "::ffff:169.254.169.254": "IPv4-mapped form of a link-local address",
    "::ffff:0:127.0.0.1": "IPv4-translated",
    "64:ff9b::127.0.0.1": "NAT64 form of a loopback address",
    "64:ff9b::a9fe:a9fe": "NAT64 form of a link-local address",
    "64:ff9b::100.64.0.1": "NAT64 form of a carrier-grade NAT address",
    "64:ff9b:1::1.1.1.1": "local-use NAT64",
    "2002:7f00:1::1": "6to4 form of a loopback address",
    "2002:a00:1::": "6to4 form of a private address",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo form of a documentation address",
    "2001:0:a00:1::1": "Teredo form of a private address",
    "100::1": "discard-only",
    "2001:2::1": "benchmarking",
    "2001:10::1": "IETF protocol assignment",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation",
    "5f00::1": "segment routing",
    "fc00::1": "unique local (private)",
    "fd12:3456::1": "unique local (private)",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "4000::1": "reserved",
}


@pytest.mark.parametrize("address", sorted(NOT_PUBLIC))
def test_addresses_that_are_not_public_are_named(address):
    assert address_refusal(address) == NOT_PUBLIC[address]


@pytest.mark.parametrize(
    "address",
    [
        "1.1.1.1",
        "93.184.216.34",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.1",
        "172.32.0.1",
        "198.20.0.1",
        "223.255.255.254",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001:80b::200e",
        "::ffff:1.1.1.1",  # mapped, NAT64 and 6to4 forms reach the IPv4 address they carry
        "64:ff9b::1.1.1.1",
        "2002:101:101::1",
    ],
)
def test_public_addresses_pass(address):
    assert address_refusal(address) is None
