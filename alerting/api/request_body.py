"""The ingest request's body as the server hands it over: chunked or not, bounded.

Django reads a body only as long as its Content-Length says, so a chunked
body (Transfer-Encoding, no length) reads as empty. Gunicorn decodes chunked
bodies itself and says so (`wsgi.input_terminated`): then the WSGI input is
the body, ending where the body ends.

A sender that writes its whole body before it reads the answer (Go's
net/http, so Alertmanager) never sees an answer sent on top of a body left
unread: the server closes the connection with data pending, the kernel
resets it, and the sender gets a broken pipe. So what is left of the body is
read and thrown away before answering, in small pieces, within a byte and a
time budget. Past the budget the server closes with the rest unread (such a
sender may see a reset): Herald spends no more on it.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest

# A 413 for up to this much more than the limit reaches the sender; beyond it
# Herald stops reading (a hostile sender cannot make it read gigabytes).
DISCARD_MAX_BYTES = 16 * 1024 * 1024
DISCARD_MAX_SECONDS = 5.0
_PIECE = 64 * 1024


def chunked_input(request: HttpRequest) -> Any | None:
    """The WSGI input of a chunked body the server decodes; None for any other request."""
    meta = request.META
    if "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    if meta.get("CONTENT_LENGTH") or not meta.get("wsgi.input_terminated"):
        return None  # the server does not promise an end: reading could block for ever
    return meta["wsgi.input"]


def chunked_body_expose(request: HttpRequest) -> bool:
    """Let `request.body` read a chunked body, up to one byte past the limit; True if chunked.

    Django then refuses what is over the limit as for a Content-Length
    (RequestDataTooBig, answered 413).
    """
    stream = chunked_input(request)
    if stream is None:
        return False
    request._stream = LimitedStream(stream, settings.HERALD_INGEST_MAX_BODY_BYTES + 1)
    return True


def _unread(request: HttpRequest) -> tuple[Any, int | None]:
    """The stream holding the rest of the body, and how much is left if known."""
    stream = chunked_input(request)
    if stream is not None:
        return stream, None
    limited = getattr(request, "_stream", None)
    if not isinstance(limited, LimitedStream):
        return None, 0  # read into `request.body` already
    return limited, max(0, limited.limit - limited._pos)


def unread_body_discard(request: HttpRequest) -> bool:
    """Read and drop what is left of the body; False if it was over the budget."""
    stream, left = _unread(request)
    if stream is None or left == 0:
        return True
    if left is not None and left > DISCARD_MAX_BYTES:
        return False
    sock = request.META.get("gunicorn.socket")
    prior = sock.gettimeout() if isinstance(sock, socket.socket) else None
    deadline = time.monotonic() + DISCARD_MAX_SECONDS
    read = 0
    try:
        while read <= DISCARD_MAX_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if isinstance(sock, socket.socket):
                sock.settimeout(remaining)  # one slow piece cannot outlast the budget
            piece = stream.read(_PIECE)
            if not piece:
                return True
            read += len(piece)
        return False
    except (OSError, ValueError):
        return False  # the sender went away, or sent a broken chunk: nothing to save
    finally:
        if isinstance(sock, socket.socket):
            sock.settimeout(prior)
