"""A stand-in Telegram Bot API on loopback (pytest-httpserver) and what tests send the bot."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug import Request, Response

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SECRET = "s3cret-Of-the_webhook-0123456789abcdefABCDEF"
CHAT = -1001234567890
TEXT_LIMIT = 4_096
CALLBACK_DATA_LIMIT = 64
ANSWER_LIMIT = 200


class BotApi:
    """Answers as Telegram does and checks each request's shape and limits.

    Every call is kept in `calls` as (method, body); a request breaking one
    of Telegram's limits is answered 400, as Telegram would.
    """

    def __init__(self, httpserver) -> None:
        self.httpserver = httpserver
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.next_message_id = 100
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        httpserver.expect_request(
            re.compile(rf"^/bot{TOKEN}/\w+$"), method="POST"
        ).respond_with_handler(self._handle)

    def fail_next(self, method: str, status: int, description: str, **parameters) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).append((status, body))

    def of(self, method: str) -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == method]

    def _problem(self, method: str, body: dict[str, Any]) -> str:
        if method in ("sendMessage", "editMessageText"):
            text = body.get("text")
            if not isinstance(text, str) or not text:
                return "Bad Request: message text is empty"
            if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
                return "Bad Request: message is too long"
            if "chat_id" not in body:
                return "Bad Request: chat_id is empty"
        if method == "editMessageText" and not isinstance(body.get("message_id"), int):
            return "Bad Request: message identifier is not specified"
        for row in (body.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data", "")
                if not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                    return "Bad Request: BUTTON_DATA_INVALID"
        if method == "answerCallbackQuery":
            if not body.get("callback_query_id"):
                return "Bad Request: query is too old and response timeout expired"
            if len(body.get("text", "")) > ANSWER_LIMIT:
                return "Bad Request: MESSAGE_TOO_LONG"
        return ""

    def _handle(self, request: Request) -> Response:
        method = request.path.rsplit("/", 1)[1]
        if request.mimetype != "application/json":
            return _json(400, {"ok": False, "description": "Bad Request: not JSON"})
        body = json.loads(request.data)
        self.calls.append((method, body))
        if self.failures.get(method):
            status, answer = self.failures[method].pop(0)
            return _json(status, answer)
        if problem := self._problem(method, body):
            return _json(400, {"ok": False, "error_code": 400, "description": problem})
        if method == "sendMessage":
            self.next_message_id += 1
            message: dict[str, Any] = {
                "message_id": self.next_message_id, "date": 0, "text": body["text"],
                "chat": {"id": body["chat_id"], "type": "supergroup"},
            }
            if "message_thread_id" in body:
                message["message_thread_id"] = body["message_thread_id"]
                message["is_topic_message"] = True
            return _json(200, {"ok": True, "result": message})
        if method == "editMessageText":
            return _json(200, {"ok": True, "result": {
                "message_id": body["message_id"], "chat": {"id": body["chat_id"]},
                "text": body["text"],
            }})
        return _json(200, {"ok": True, "result": True})


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def telegram_config(httpserver, **config) -> dict[str, Any]:
    return {"chat_id": CHAT, "api_url": httpserver.url_for("/"), **config}


def user(user_id: int = 7001, username: str = "alice_sre") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": username.title(), "username": username}


def button_update(data: str, *, who: dict[str, Any] | None = None,
                  query_id: str = "q-1") -> dict[str, Any]:
    return {"update_id": 10, "callback_query": {
        "id": query_id, "from": who or user(), "data": data, "chat_instance": "1",
        "message": {"message_id": 101, "chat": {"id": CHAT, "type": "supergroup"}},
    }}


def command_update(text: str, *, who: dict[str, Any] | None = None,
                   chat_id: int = CHAT, private: bool = False) -> dict[str, Any]:
    who = who or user()
    return {"update_id": 11, "message": {
        "message_id": 55, "from": who, "text": text, "date": 0,
        "chat": {"id": who["id"] if private else chat_id,
                 "type": "private" if private else "supergroup"},
    }}
