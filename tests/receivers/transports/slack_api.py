"""A stand-in for Slack's Web API on loopback (pytest-httpserver) that checks what Herald sends.

It answers chat.postMessage and chat.update as Slack does (`ok`, `channel`,
`ts`), refuses what Slack would refuse (a wrong token, a missing channel or
ts, text over 40,000 characters, more than 50 blocks, a button value over
2,000 characters, a header over 150) and keeps every call for the test to
read. `fail` makes the next call of a method answer an error of Slack's. It
also takes the replies sent to a click's response_url (/actions/...).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

TOKEN = "xoxb-1111111111-2222222222-abcdefABCDEF0123456789ab"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

TEXT_LIMIT = 40_000
MAX_BLOCKS = 50
BUTTON_VALUE_LIMIT = 2_000
HEADER_LIMIT = 150
SECTION_LIMIT = 3_000


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class SlackApi:
    httpserver: Any
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict
    )
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return self.httpserver.url_for("/api")

    @property
    def response_url(self) -> str:
        return self.httpserver.url_for("/actions/T1/123/abc")

    def install(self) -> SlackApi:
        for method in ("chat.postMessage", "chat.update"):
            self.httpserver.expect_request(f"/api/{method}", method="POST").respond_with_handler(
                lambda request, method=method: self._answer(method, request)
            )
        self.httpserver.expect_request("/actions/T1/123/abc", method="POST").respond_with_handler(
            self._reply
        )
        return self

    def fail(self, method: str, error: str, *, status: int = 200,
             headers: dict[str, str] | None = None) -> None:
        self._failures.setdefault(method, []).append(
            (status, {"ok": False, "error": error}, headers or {})
        )

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def _problem(self, text: str) -> Response:
        self.problems.append(text)
        return Response(json.dumps({"ok": False, "error": "invalid_arguments", "why": text}),
                        status=200, content_type="application/json")

    def _reply(self, request: Request) -> Response:
        with self._lock:
            self.replies.append(json.loads(request.get_data()))
        return Response("ok")

    def _answer(self, method: str, request: Request) -> Response:
        with self._lock:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return Response(json.dumps({"ok": False, "error": "invalid_auth"}),
                                content_type="application/json")
            if not request.content_type.startswith("application/json"):
                return self._problem("not JSON")
            body = json.loads(request.get_data())
            call = Call(method, body, dict(request.headers))
            self.calls.append(call)
            if self._failures.get(method):
                status, call.answer, headers = self._failures[method].pop(0)
                return Response(json.dumps(call.answer), status=status, headers=headers,
                                content_type="application/json")
            if problem := self._shape_problem(method, body):
                return self._problem(problem)
            ts = body["ts"] if method == "chat.update" else f"1700000000.{next(self._ts):06d}"
            call.answer = {"ok": True, "channel": body["channel"], "ts": ts}
            return Response(json.dumps(call.answer), content_type="application/json")

    @staticmethod
    def _shape_problem(method: str, body: dict[str, Any]) -> str:
        if not body.get("channel"):
            return "no channel"
        if method == "chat.update" and not body.get("ts"):
            return "chat.update without ts"
        text = body.get("text", "")
        if not text and not body.get("blocks"):
            return "no text"
        if len(text) > TEXT_LIMIT:
            return f"text of {len(text)} characters"
        blocks = body.get("blocks") or []
        if len(blocks) > MAX_BLOCKS:
            return f"{len(blocks)} blocks"
        for block in blocks:
            if block["type"] == "header" and len(block["text"]["text"]) > HEADER_LIMIT:
                return "header too long"
            if block["type"] == "section" and len(block["text"]["text"]) > SECTION_LIMIT:
                return "section too long"
            for element in block.get("elements", []):
                if len(element.get("value", "")) > BUTTON_VALUE_LIMIT:
                    return "button value too long"
        return ""
