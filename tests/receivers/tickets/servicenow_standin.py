"""A loopback stand-in for ServiceNow's Table API on `incident`, on pytest-httpserver.

It keeps incidents in memory and answers as an instance does: {"result": ...}
on success, {"error": {"message", "detail"}, "status": "failure"} otherwise.
It refuses what ServiceNow refuses: a wrong credential (401), an incident
without short_description (the mandatory field), a Resolved state without
close_code and close_notes (the close-info data policy), any change of a
Closed or Canceled incident (403, the write ACL), an unknown field, a state
outside the choice list, impact or urgency outside 1..3.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

USER = "herald.integration"
PASSWORD = "s3cret-Pa55word!"
TABLE = "/api/now/table/incident"
FIELDS = frozenset({
    "short_description", "description", "correlation_id", "correlation_display", "impact",
    "urgency", "assignment_group", "caller_id", "category", "state", "close_code",
    "close_notes", "work_notes", "assigned_to",
})  # fmt: skip
STATES = frozenset({"1", "2", "3", "6", "7", "8"})
CLOSE_CODES = frozenset({"Solution provided", "Workaround provided", "Resolved by caller"})


def _failure(status: int, message: str, detail: str = "") -> Response:
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _result(result: Any, status: int = 200) -> Response:
    return Response(json.dumps({"result": result}), status=status,
                    content_type="application/json")


@dataclass
class StandInServiceNow:
    server: HTTPServer
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    work_notes: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # Answers given before the stand-in's own: (status, headers, body) per call.
    queued: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    # Seconds each lookup takes: room for a second worker's lookup to run meanwhile.
    lookup_seconds: float = 0.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(rf"^{TABLE}(/[0-9a-f]{{32}})?$")).respond_with_handler(
            self._handle
        )

    @property
    def instance_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"instance_url": self.instance_url, "username": USER, **extra}

    def resolve_by_hand(self, sys_id: str, *, at: datetime) -> None:
        """A person resolved the incident in ServiceNow at `at`."""
        self.incidents[sys_id].update(state="6", resolved_at=at.strftime("%Y-%m-%d %H:%M:%S"))

    def _handle(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        if self.queued:
            status, headers, body = self.queued.pop(0)
            return Response(body, status=status, headers=headers,
                            content_type="application/json")
        if request.headers.get("Authorization") != "Basic " + base64.b64encode(
            f"{USER}:{PASSWORD}".encode()
        ).decode():
            return _failure(401, "User Not Authenticated",
                            "Required to provide Auth information")
        sys_id = request.path.removeprefix(TABLE).strip("/")
        if request.method == "GET":
            return self._get(request, sys_id)
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _failure(400, "Exception while reading request", "Invalid JSON")
        if not isinstance(body, dict) or set(body) - FIELDS:
            return _failure(400, "Invalid field", f"unknown fields: {sorted(set(body) - FIELDS)}")
        if request.method == "POST" and not sys_id:
            return self._create(body)
        if request.method == "PATCH" and sys_id:
            return self._update(sys_id, body)
        return _failure(405, "Method not Supported", request.method)

    def _view(self, record: dict[str, Any], fields: str | None) -> dict[str, Any]:
        if not fields:
            return dict(record)
        return {name: record.get(name, "") for name in fields.split(",")}

    def _get(self, request: Request, sys_id: str) -> Response:
        fields = request.args.get("sysparm_fields")
        if sys_id:
            if sys_id not in self.incidents:
                return _failure(404, "No Record found",
                                "Record doesn't exist or ACL restricts the record retrieval")
            return _result(self._view(self.incidents[sys_id], fields))
        query = request.args.get("sysparm_query", "")
        time.sleep(self.lookup_seconds)
        match = re.fullmatch(r"correlation_id=([0-9a-f]+)\^ORDERBYDESCsys_created_on", query)
        if not match:
            return _failure(400, "Invalid query", query[:100])
        found = [r for r in self.incidents.values() if r["correlation_id"] == match[1]]
        found.sort(key=lambda record: record["sys_created_on"], reverse=True)
        limit = int(request.args.get("sysparm_limit", "10000"))
        return _result([self._view(record, fields) for record in found[:limit]])

    def _checked(self, body: dict[str, Any]) -> Response | None:
        for name in ("impact", "urgency"):
            if name in body and body[name] not in {"1", "2", "3"}:
                return _failure(400, f"Invalid value for {name}", str(body[name])[:20])
        if "state" in body and body["state"] not in STATES:
            return _failure(400, "Invalid state", str(body["state"])[:20])
        return None

    def _create(self, body: dict[str, Any]) -> Response:
        if refusal := self._checked(body):
            return refusal
        if not str(body.get("short_description") or "").strip():
            return _failure(400, "Data Policy Exception: ",
                            "The following fields are mandatory: Short description")
        number = next(self._ids)
        sys_id = f"{number:032x}"
        notes = body.pop("work_notes", None)
        record = {
            "sys_id": sys_id, "number": f"INC{number:07d}", "state": "1", "resolved_at": "",
            "assigned_to": "", "close_code": "", "close_notes": "", "description": "",
            "sys_created_on": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}.{number:06d}",
            "sys_updated_by": USER, **body,
        }
        self.incidents[sys_id] = record
        self.work_notes[sys_id] = [notes] if notes else []
        return _result(dict(record), status=201)

    def _update(self, sys_id: str, body: dict[str, Any]) -> Response:
        record = self.incidents.get(sys_id)
        if record is None:
            return _failure(404, "No Record found", "Record doesn't exist")
        if record["state"] in {"7", "8"}:
            return _failure(403, "Operation Failed", "ACL Exception Update Failed due to security "
                            "constraints: the incident is closed")
        if refusal := self._checked(body):
            return refusal
        state = body.get("state", record["state"])
        if state in {"6", "7"} and record["state"] not in {"6", "7"}:
            close_code = body.get("close_code") or record["close_code"]
            if close_code not in CLOSE_CODES or not (body.get("close_notes")
                                                     or record["close_notes"]):
                return _failure(400, "Data Policy Exception: ",
                                "The following fields are mandatory: Resolution code, "
                                "Resolution notes")
            record["resolved_at"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
        if state in {"1", "2", "3"} and record["state"] == "6":
            record["resolved_at"] = ""
        notes = body.pop("work_notes", None)
        if notes:
            self.work_notes[sys_id].append(notes)
        record.update(body, sys_updated_by=USER)
        return _result(dict(record))
