"""Ingest body limits as a sender that writes the whole body first sees them, under gunicorn.

Alertmanager (Go's net/http) writes the whole request before it reads the
answer. A 413 sent while the body is still coming must still reach it, and
a chunked body (no Content-Length) must be read, not taken for empty.
`make run`'s own server (runherald: gunicorn) answers, on loopback.
"""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.factories import WebhookPayloadFactory
from tests.runherald import private_var_dir, running_herald

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def herald():
    with private_var_dir("body-limits") as var_dir, running_herald(var_dir) as running:
        url = urlsplit(re.search(r"Ingest URL:\s+(\S+)", running.banner).group(1))
        key = re.search(r"Ingest key:\s+(\S+)", running.banner).group(1)
        yield running.port, url, key


def post_raw(herald, body: bytes, *, chunked: bool = False) -> tuple[int, bytes]:
    """Write the request and its whole body, and only then read the answer."""
    port, url, key = herald
    headers = [
        f"POST {url.path} HTTP/1.1",
        f"Host: {url.netloc}",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if chunked:
        size = 64 * 1024
        pieces = [body[i:i + size] for i in range(0, len(body), size)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode() + body)  # all of it first
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def test_a_6_mib_body_gets_a_413_the_sender_reads(herald):
    payload = WebhookPayloadFactory()
    payload["commonAnnotations"] = {"description": "x" * (6 * 1024 * 1024)}

    status, body = post_raw(herald, json.dumps(payload).encode())

    assert status == 413 and b"limit" in body


def test_a_chunked_6_mib_body_gets_a_413_too(herald):
    payload = WebhookPayloadFactory()
    payload["commonAnnotations"] = {"description": "x" * (6 * 1024 * 1024)}

    status, _ = post_raw(herald, json.dumps(payload).encode(), chunked=True)

    assert status == 413


def test_a_chunked_payload_within_the_limit_is_ingested(herald):
    status, body = post_raw(herald, json.dumps(WebhookPayloadFactory()).encode(), chunked=True)

    assert status == 200, body
    assert b'"alerts":1' in body


def test_a_sender_announcing_a_gigabyte_is_not_read_to_the_end(herald):
    port, url, key = herald
    head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {2**30}\r\n\r\n").encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + b"[" * 65536)
        try:
            while sock.recv(65536):
                pass
        except ConnectionResetError:
            pass  # past the discard budget the rest is left unread: a reset is fair

    assert time.monotonic() - started < 5  # Herald gave up on it at once
