"""A stand-in for Jira's REST API on loopback (pytest-httpserver) that checks what Herald sends.

Either Cloud (v3: Basic auth with email + API token, descriptions and
comments in ADF, POST /search/jql) or Data Center (v2: a Bearer personal
access token, plain text, POST /search). It keeps issues with a small
workflow (To Do -> In Progress -> Done / Won't Fix, Done -> Reopen), answers
JQL by the dedup label or custom field, and refuses what Jira refuses: wrong
credentials (401), a text where ADF is due or the reverse (400), a missing
required field (400 with Jira's message), an unknown transition (400).
`fail_next(status, headers)` makes the next call answer that error.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug import Request, Response

EMAIL = "herald-bot@example.com"
API_TOKEN = "ATATT3xFfGF0-cloud-token-0123456789"
PAT = "NjQ5ODQ2NzE5MjI2OkdatacenterPAT0123456789"
HERALD_ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"
PROJECT = "OPS"

STATUSES = {
    "To Do": "new", "In Progress": "indeterminate", "Done": "done", "Won't Fix": "done",
}
WORKFLOW = {  # status -> [(transition id, name, to)]
    "To Do": [("11", "Start", "In Progress"), ("31", "Done", "Done"),
              ("41", "Won't Fix", "Won't Fix")],
    "In Progress": [("31", "Done", "Done"), ("41", "Won't Fix", "Won't Fix")],
    "Done": [("51", "Reopen", "To Do")],
    "Won't Fix": [("51", "Reopen", "To Do")],
}


def jira_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Issue:
    id: str
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    resolutiondate: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # transitions taken, by name


@dataclass
class JiraStandIn:
    httpserver: Any
    cloud: bool = True
    # Fields the project's create screen requires, with Jira's message.
    required: dict[str, str] = field(default_factory=dict)
    workflow: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: {k: list(v) for k, v in WORKFLOW.items()}
    )
    issues: dict[str, Issue] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Seconds a search takes: two senders racing both search before either creates.
    search_delay: float = 0.0
    _failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(10001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.httpserver.url_for("/").rstrip("/")

    @property
    def api(self) -> str:
        return f"/rest/api/{'3' if self.cloud else '2'}"

    def install(self) -> JiraStandIn:
        self.httpserver.expect_request(re.compile(r"^/rest/api/.*")).respond_with_handler(
            self._handle
        )
        return self

    def receiver_settings(self, **config: Any) -> tuple[dict, dict]:
        """(config, secrets) of a receiver pointed at this stand-in."""
        base = {"base_url": self.base_url, "api_version": "3" if self.cloud else "2",
                "project_key": PROJECT}
        if self.cloud:
            return {**base, "email": EMAIL, **config}, {"api_token": API_TOKEN}
        return {**base, **config}, {"personal_access_token": PAT}

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._failures.append((status, headers or {}))

    def move(self, key: str, status: str) -> None:
        """A person moves the issue in Jira's UI."""
        issue = self.issues[key]
        issue.status = status
        issue.resolutiondate = jira_now() if STATUSES[status] == "done" else None

    def only_issue(self) -> Issue:
        assert len(self.issues) == 1, f"{len(self.issues)} issues: {list(self.issues)}"
        return next(iter(self.issues.values()))

    # -- handling -------------------------------------------------------------
    def _error(self, status: int, messages=(), errors=None, headers=None) -> Response:
        body = {"errorMessages": list(messages), "errors": errors or {}}
        return Response(json.dumps(body), status=status, headers=headers or {},
                        content_type="application/json")

    def _json(self, body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.cloud:
            good = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
            return header == f"Basic {good}"
        return header == f"Bearer {PAT}"

    def _text_ok(self, value: Any) -> bool:
        if self.cloud:
            return (isinstance(value, dict) and value.get("type") == "doc"
                    and value.get("version") == 1 and isinstance(value.get("content"), list))
        return isinstance(value, str)

    def _handle(self, request: Request) -> Response:
        if self.search_delay and request.path.endswith(("/search", "/search/jql")):
            time.sleep(self.search_delay)  # outside the lock: searches overlap
        with self._lock:
            self.calls.append((request.method, request.path))
            if self._failures:
                status, headers = self._failures.pop(0)
                return self._error(status, ["Rate limit exceeded."] if status == 429
                                   else ["Internal server error"], headers=headers)
            if not request.path.startswith(self.api + "/"):
                self.problems.append(f"wrong API version: {request.path}")
                return self._error(404, ["No such API version here"])
            if not self._authorised(request):
                return Response("Unauthorized", status=401)
            path = request.path.removeprefix(self.api)
            body = request.get_json(silent=True) if request.data else None
            return self._route(request.method, path, body, request)

    def _route(self, method: str, path: str, body: Any, request: Request) -> Response:
        search = "/search/jql" if self.cloud else "/search"
        if method == "GET" and path == "/myself":
            return self._json({"accountId": HERALD_ACCOUNT} if self.cloud
                              else {"name": "herald-bot", "key": "JIRAUSER10100"})
        if method == "POST" and path == search:
            return self._search(body or {})
        if method == "POST" and path == "/issue":
            return self._create(body or {})
        match = re.fullmatch(r"/issue/([A-Z]+-\d+)(/comment|/transitions)?", path)
        if not match or match.group(1) not in self.issues:
            return self._error(
                404, ["Issue does not exist or you do not have permission to see it."]
            )
        issue = self.issues[match.group(1)]
        if match.group(2) == "/comment" and method == "POST":
            return self._comment(issue, body or {})
        if match.group(2) == "/transitions" and method == "GET":
            return self._json({"transitions": [
                {"id": tid, "name": name, "to": {"name": to, "statusCategory": {
                    "key": STATUSES[to]}}} for tid, name, to in self.workflow[issue.status]]})
        if match.group(2) == "/transitions" and method == "POST":
            return self._transition(issue, body or {})
        if match.group(2) is None and method == "GET":
            return self._json(self._view(issue))
        return self._error(405, [f"{method} not allowed"])

    def _view(self, issue: Issue) -> dict[str, Any]:
        fields = {**issue.fields, "status": {"name": issue.status, "statusCategory": {
            "key": STATUSES[issue.status]}}, "resolutiondate": issue.resolutiondate}
        return {"id": issue.id, "key": issue.key, "fields": fields}

    def _search(self, body: dict) -> Response:
        jql = body.get("jql") or ""
        if not isinstance(body.get("fields"), list):
            self.problems.append("search without a fields list")
        project = re.search(r'project = "([^"]+)"', jql)
        label = re.search(r'labels = "([^"]+)"', jql)
        custom = re.search(r'cf\[(\d+)\] ~ "\\"([^"\\]+)\\""', jql)
        skipped = re.search(r"status NOT IN \(([^)]*)\)", jql)
        if project is None or (label is None and custom is None):
            return self._error(400, [f"Error in the JQL Query: {jql[:80]}"])
        skip = set(re.findall(r'"((?:[^"\\]|\\.)*)"', skipped.group(1))) if skipped else set()
        skip = {s.replace("\\'", "'") for s in skip}
        found = []
        for issue in sorted(self.issues.values(), key=lambda i: -int(i.id)):
            if issue.fields["project"]["key"] != project.group(1) or issue.status in skip:
                continue
            if label and label.group(1) not in issue.fields.get("labels", []):
                continue
            if custom and custom.group(2) not in str(
                    issue.fields.get(f"customfield_{custom.group(1)}", "")):
                continue
            found.append(self._view(issue))
        return self._json({"issues": found} if self.cloud
                          else {"issues": found, "total": len(found), "startAt": 0})

    def _create(self, body: dict) -> Response:
        fields = body.get("fields") or {}
        errors = {name: message for name, message in self.required.items() if name not in fields}
        if (fields.get("project") or {}).get("key") != PROJECT:
            errors["project"] = "project is required"
        if not (fields.get("issuetype") or {}).get("name"):
            errors["issuetype"] = "issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters, on one line."
        if "description" in fields and not self._text_ok(fields["description"]):
            errors["description"] = ("Operation value must be an Atlassian Document"
                                     if self.cloud else "Operation value must be a string")
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label must not contain spaces."
        if errors:
            return self._error(400, errors=errors)
        number = next(self._ids)
        key = f"{PROJECT}-{number - 10000}"
        self.issues[key] = Issue(id=str(number), key=key, fields=fields)
        return self._json({"id": str(number), "key": key,
                           "self": f"{self.base_url}{self.api}/issue/{number}"}, status=201)

    def _comment(self, issue: Issue, body: dict) -> Response:
        if not self._text_ok(body.get("body")):
            return self._error(400, errors={"comment": "Comment body is not valid"
                                            + (" ADF" if self.cloud else " text")})
        issue.comments.append(body)
        return self._json({"id": str(len(issue.comments)), "body": body["body"]}, status=201)

    def _transition(self, issue: Issue, body: dict) -> Response:
        wanted = str((body.get("transition") or {}).get("id"))
        chosen = next((t for t in self.workflow[issue.status] if t[0] == wanted), None)
        if chosen is None:
            return self._error(400, [f"Transition id '{wanted}' is not valid for this issue."])
        issue.history.append(chosen[1])
        self.move(issue.key, chosen[2])
        return Response(status=204)


def comment_text(comment: dict[str, Any]) -> str:
    """A comment's text, whichever API wrote it."""
    body = comment["body"]
    if isinstance(body, str):
        return body
    return "\n".join(node.get("text", "") for paragraph in body["content"]
                     for node in paragraph.get("content", []))
