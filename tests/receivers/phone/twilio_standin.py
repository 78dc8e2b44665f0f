"""A stand-in for Twilio's REST API on loopback, and Twilio's callbacks signed as Twilio signs.

It checks what Twilio checks (Basic auth with the account SID and auth
token, the form's required fields) and answers as Twilio does: 201 with the
resource's `sid`, or Twilio's error JSON. `sign` computes X-Twilio-Signature
with the twilio package's algorithm (HMAC-SHA1 of the URL and sorted fields,
keyed by the auth token).
"""

from __future__ import annotations

import base64
import itertools
import json
from urllib.parse import parse_qs
from xml.etree import ElementTree

import requests
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32
FROM = "+15005550006"
PERSON = "+4915112345678"
REQUIRED = {"Messages": ("From", "To", "Body"), "Calls": ("From", "To", "Twiml")}


def twilio_config(httpserver, **config) -> dict:
    return {"account_sid": SID, "from_number": FROM, "api_url": httpserver.url_for("/"), **config}


def sign(url: str, form: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def post_signed(url: str, form: dict, *, token: str = TOKEN, signature: str | None = None,
                tamper: dict | None = None) -> requests.Response:
    """POST a callback as Twilio would; `tamper` changes fields after signing."""
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(url, form, token)}
    if signature == "":
        headers = {}
    return requests.post(url, data={**form, **(tamper or {})}, headers=headers, timeout=10)


class TwilioApi:
    """Records every create; answers the next ones with `fail(...)`'s error while it lasts."""

    def __init__(self, httpserver) -> None:
        self.created: list[tuple[str, dict[str, str], str]] = []
        self.refused: list[str] = []
        self._errors: list[tuple[int, dict, dict]] = []
        self._numbers = itertools.count(1)
        for resource in REQUIRED:
            httpserver.expect_request(
                f"/2010-04-01/Accounts/{SID}/{resource}.json", method="POST"
            ).respond_with_handler(lambda request, resource=resource: self._create(resource,
                                                                                   request))

    def fail(self, status: int, code: int, message: str, headers: dict | None = None) -> None:
        self._errors.append((status, {"code": code, "message": message, "status": status},
                             headers or {}))

    def of(self, resource: str) -> list[dict[str, str]]:
        return [form for kind, form, _ in self.created if kind == resource]

    def sids(self, resource: str) -> list[str]:
        return [sid for kind, _, sid in self.created if kind == resource]

    def _create(self, resource: str, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            self.refused.append("auth")
            return _error(401, 20003, "Authenticate")
        if request.content_type != "application/x-www-form-urlencoded":
            self.refused.append("content type")
            return _error(400, 20001, "form expected")
        form = {key: values[0] for key, values in parse_qs(request.get_data(as_text=True)).items()}
        missing = [name for name in REQUIRED[resource] if not form.get(name)]
        if missing:
            self.refused.append(f"missing {missing}")
            return _error(400, 21604, f"A '{missing[0]}' is required.")
        if self._errors:
            status, body, headers = self._errors.pop(0)
            return Response(json.dumps(body), status=status, headers=headers,
                            content_type="application/json")
        prefix = "CA" if resource == "Calls" else "SM"
        sid = f"{prefix}{next(self._numbers):032x}"
        self.created.append((resource, form, sid))
        return Response(json.dumps({"sid": sid, "status": "queued", "to": form["To"]}), status=201,
                        content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return Response(json.dumps({"code": code, "message": message, "status": status}),
                    status=status, content_type="application/json")


def twiml(text: str) -> ElementTree.Element:
    """TwiML Herald made in the test, parsed to look inside."""
    return ElementTree.fromstring(text)  # noqa: S314 - Herald's own output, not untrusted input
