"""An alertmanager.yml turned into Herald receivers and routes (pure).

Receivers: each `*_configs` entry Herald has a channel for becomes one
Herald receiver (named after the Alertmanager receiver, with the kind and a
number when it has several). Routes: Alertmanager's tree is flattened into
Herald's ordered list: a node's children come before the node itself (a
child that matches takes the alert first), each carrying its ancestors'
matchers, and the root becomes the default route. Everything that does not
map (Go templates, proxies, time intervals, nested grouping, …) is reported,
never silently dropped.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from alerting.config.loading import plain, yaml_parse
from alerting.config.schema import ConfigDocument, ReceiverSpec, RouteSpec, canonical_matchers
from alerting.matchers import Matcher, MatchType, parse_matcher
from receivers.transports import SettingsError, settings_class
from receivers.transports.opsgenie import API_URLS
from receivers.transports.pagerduty import EVENTS_URL
from receivers.transports.telegram import API_URL as TELEGRAM_API_URL

INGEST_PATH = "/api/v1/alertmanager/"
# Alertmanager's own defaults for send_resolved, per integration.
_SEND_RESOLVED_DEFAULT = {
    "slack_configs": False, "email_configs": False, "pagerduty_configs": True,
    "webhook_configs": True, "opsgenie_configs": True, "telegram_configs": True,
    "discord_configs": True, "msteams_configs": True, "msteamsv2_configs": True,
}
# Fields whose value is a Go template: Herald renders its own (Jinja2) templates.
_TEMPLATED = {
    "slack_configs": ("title", "title_link", "text", "pretext", "fallback", "footer", "color",
                      "fields", "actions", "callback_id", "image_url", "thumb_url"),
    "email_configs": ("html", "text", "headers"),
    "pagerduty_configs": ("description", "details", "severity", "class", "component", "group",
                          "links", "images", "client_url"),
    "opsgenie_configs": ("message", "description", "details", "entity", "actions", "note",
                         "priority", "source"),
    "telegram_configs": ("message",),
    "discord_configs": ("title", "message", "content"),
    "msteams_configs": ("title", "summary", "text"),
    "msteamsv2_configs": ("title", "text"),
}
_COMMON = ("send_resolved", "http_config")
# Fields the mappers below read.
_MAPPED = {
    "slack_configs": ("api_url", "api_url_file"),
    "email_configs": ("to", "from", "smarthost", "auth_username", "auth_password",
                      "auth_password_file", "require_tls", "tls_config"),
    "pagerduty_configs": ("routing_key", "routing_key_file", "service_key", "service_key_file",
                          "url", "client", "source"),
    "webhook_configs": ("url", "url_file", "timeout"),
    "opsgenie_configs": ("api_key", "api_key_file", "api_url", "responders", "tags"),
    "telegram_configs": ("api_url", "bot_token", "bot_token_file", "chat_id", "message_thread_id"),
    "discord_configs": ("webhook_url", "webhook_url_file", "username", "avatar_url"),
    "msteams_configs": ("webhook_url", "webhook_url_file"),
    "msteamsv2_configs": ("webhook_url", "webhook_url_file"),
}


class AlertmanagerConfigError(ValueError):
    """The file is not an Alertmanager configuration that can be read."""


@dataclass
class AlertmanagerImport:
    document: ConfigDocument
    notes: list[str] = field(default_factory=list)
    snippet: str = ""


@dataclass
class _Converter:
    globals: dict[str, Any]
    herald_url: str
    notes: list[str] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)  # AM receiver -> Herald receivers

    def note(self, where: str, text: str) -> None:
        self.notes.append(f"{where}: {text}")

    # --- receivers -----------------------------------------------------------

    def receivers(self, receivers: list[dict[str, Any]]) -> list[ReceiverSpec]:
        specs: list[ReceiverSpec] = []
        for receiver in receivers:
            name = str(receiver.get("name", ""))
            self.names[name] = []
            entries = [
                (key, index, config)
                for key, configs in receiver.items()
                if key.endswith("_configs")
                for index, config in enumerate(configs or [])
            ]
            for key in receiver:
                if key != "name" and (key not in _MAPPERS):
                    self.note(f"receiver {name}", f"{key} is not supported by Herald; not imported")
            for key, index, config in entries:
                if key not in _MAPPERS:
                    continue
                same_kind = sum(1 for other, _, _ in entries if other == key)
                integration = key.removesuffix("_configs")
                herald_name = name if len(entries) == 1 else f"{name}-{integration}"
                if same_kind > 1:
                    herald_name += f"-{index + 1}"
                where = f"receiver {name}, {key}[{index}]"
                spec = self._receiver(key, herald_name, dict(config or {}), where)
                if spec is not None:
                    specs.append(spec)
                    self.names[name].append(spec.name)
        return specs

    def _receiver(self, key: str, name: str, config: dict[str, Any], where: str):
        kind, mapper = _MAPPERS[key]
        for field_name in config:
            if field_name in _TEMPLATED.get(key, ()):
                self.note(where, f"{field_name} is not imported (Alertmanager's templates are "
                                 "Go templates; Herald's own templates apply)")
            elif key == "slack_configs" and field_name == "channel":
                self.note(where, "channel is not imported: a Slack incoming webhook posts to the "
                                 "channel it was created for")
            elif field_name.endswith("_file"):
                self.note(where, f"{field_name}: the secret is in a file on the Alertmanager "
                                 "host; set it on the Herald receiver by hand")
            elif field_name == "http_config" and key != "webhook_configs" and config[field_name]:
                self.note(where, "http_config is not imported (Herald's outbound HTTP "
                                 "settings are server-wide)")
            elif field_name not in (*_MAPPED[key], *_COMMON):
                self.note(where, f"{field_name} is not imported")
        if config.get("send_resolved", _SEND_RESOLVED_DEFAULT[key]) is False:
            self.note(where, "send_resolved is false; Herald sends resolved notifications too")
        result = mapper(self, config, where)
        if result is None:
            return None
        settings, secrets = result
        secrets = {k: str(v) for k, v in secrets.items() if v not in (None, "")}
        settings = {k: v for k, v in settings.items() if v not in (None, "", [], {})}
        try:
            settings_class(kind).parse(config=settings, secrets=secrets)
        except SettingsError as exc:
            self.note(where, f"not imported: {exc}")
            return None
        return ReceiverSpec(name=name[:100], kind=kind, config=settings, secrets=secrets)

    def _http_config(self, config: dict[str, Any], where: str) -> str:
        """The Authorization header value from http_config, if any; the rest is reported."""
        http = dict(config.get("http_config") or {})
        authorization = ""
        if auth := http.pop("authorization", None):
            authorization = f"{auth.get('type', 'Bearer')} {auth.get('credentials', '')}".strip()
            if auth.get("credentials_file"):
                self.note(where, "http_config.authorization.credentials_file: set the "
                                 "authorization secret by hand")
        if basic := http.pop("basic_auth", None):
            pair = f"{basic.get('username', '')}:{basic.get('password', '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        if token := http.pop("bearer_token", None):
            authorization = f"Bearer {token}"
        for other in http:
            self.note(where, f"http_config.{other} is not imported (Herald's outbound HTTP "
                             "settings are server-wide)")
        return authorization

    # --- routes ----------------------------------------------------------------

    def routes(self, root: dict[str, Any]) -> list[RouteSpec]:
        routes: list[RouteSpec] = []
        for key in ("mute_time_intervals", "active_time_intervals"):
            if root.get(key):
                self.note("route", f"{key} is not imported; use Herald silences (weekly windows)")
        self._flatten(root, [], str(root.get("receiver", "")), (), False, routes,
                      root.get("group_by"))
        return routes

    def _flatten(self, node, matchers, receiver, path, forced_continue, routes, group_by):
        where = "route" + "".join(f".routes[{i}]" for i in path)
        own = self._node_matchers(node, where)
        if own is None:
            return
        matchers = matchers + own
        receiver = str(node.get("receiver", receiver))
        if path and node.get("group_by") is not None and node.get("group_by") != group_by:
            self.note(where, f"group_by {node.get('group_by')} is Alertmanager's grouping; the "
                             "snippet forwards everything to Herald grouped by the root's")
        for key in ("mute_time_intervals", "active_time_intervals"):
            if path and node.get(key):
                self.note(where, f"{key} is not imported; use Herald silences (weekly windows)")
        keeps_going = bool(node.get("continue", False))
        children = node.get("routes") or []
        if path and keeps_going and children:
            self.note(where, "continue on a route with child routes is approximated: its "
                             "children also let later routes match")
        for index, child in enumerate(children):
            self._flatten(child, matchers, receiver, (*path, index),
                          forced_continue or (bool(path) and keeps_going), routes,
                          node.get("group_by", group_by))
        # The root is Herald's default route, which no other route's alerts reach anyway.
        own_entry = self._excluding_children(node, matchers, children, where) if path else []
        if own_entry is None:
            return  # a child without matchers takes every alert: this route never does
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", receiver) or "none"
        name = ("am" + "".join(f".{i + 1}" for i in path) + f"-{label}")[:100]
        if receiver not in self.names:
            self.note(where, f"receiver {receiver!r} is not defined")
        routes.append(RouteSpec(
            name="am-default" if not path else name,
            matchers=own_entry,
            continue_matching=bool(path) and (keeps_going or forced_continue),
            default=not path,
            receivers=list(self.names.get(receiver, [])),
        ))

    def _excluding_children(self, node, matchers, children, where) -> list[str] | None:
        """The node's own matchers, plus "not what a child takes" where Herald can say it.

        In Alertmanager a route handles an alert only if none of its children
        matched it. A child with one matcher is excluded by its negation; a
        child with several cannot be (a negated conjunction is no matcher list).
        """
        if not node.get("routes"):
            return matchers
        extra: list[str] = []
        for index, child in enumerate(children):
            own = self._node_matchers(child, f"{where}.routes[{index}]", report=False)
            if own is None:
                continue
            if not own:
                return None
            if len(own) == 1:
                extra.append(str(_negated(parse_matcher(own[0]))))
            else:
                self.note(where, f"alerts its child route {index + 1} takes may also reach "
                                 "this route's receivers (its several matchers cannot be "
                                 "negated in one Herald route)")
        return matchers + extra

    def _node_matchers(
        self, node: dict[str, Any], where: str, *, report: bool = True
    ) -> list[str] | None:
        texts = [str(text) for text in node.get("matchers") or []]
        texts += [f'{name}="{_escape(value)}"' for name, value in (node.get("match") or {}).items()]
        texts += [
            f'{name}=~"{_escape(value)}"' for name, value in (node.get("match_re") or {}).items()
        ]
        try:
            return canonical_matchers(texts)
        except ValueError as exc:
            if report:
                self.note(where, f"not imported: {exc}")
            return None

    # --- the snippet ---------------------------------------------------------

    def snippet(self, root: dict[str, Any]) -> str:
        lines = ["route:", "  receiver: herald"]
        if root.get("group_by"):
            lines.append("  group_by: [" + ", ".join(str(v) for v in root["group_by"]) + "]")
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if root.get(key):
                lines.append(f"  {key}: {root[key]}")
        lines += [
            "receivers:",
            "  - name: herald",
            "    webhook_configs:",
            f"      - url: {self.herald_url.rstrip('/')}{INGEST_PATH}",
            "        send_resolved: true",
            "        http_config:",
            "          authorization:",
            "            type: Bearer",
            "            credentials: <the tenant's ingest key: manage.py create_key ingest>",
        ]
        return "\n".join(lines) + "\n"


_NEGATION = {
    MatchType.EQUAL: MatchType.NOT_EQUAL, MatchType.NOT_EQUAL: MatchType.EQUAL,
    MatchType.REGEX: MatchType.NOT_REGEX, MatchType.NOT_REGEX: MatchType.REGEX,
}


def _negated(matcher: Matcher) -> Matcher:
    return Matcher.create(matcher.name, _NEGATION[matcher.type], matcher.value)


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def _split_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def _seconds(value: Any) -> float | None:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", str(value or "").strip())
    if not found:
        return None
    number, unit = float(found[1]), found[2]
    return {"ms": number / 1000, "s": number, "m": number * 60}[unit]


# --- one mapper per integration: (Herald config, Herald secrets), or None -----


def _slack(c: _Converter, config: dict[str, Any], where: str):
    url = config.get("api_url") or c.globals.get("slack_api_url")
    if not url:
        c.note(where, "not imported: no api_url (nor global slack_api_url)")
        return None
    return {}, {"url": url}


def _email(c: _Converter, config: dict[str, Any], where: str):
    g = c.globals
    smarthost = str(config.get("smarthost") or g.get("smtp_smarthost") or "")
    host, _, port = smarthost.rpartition(":") if ":" in smarthost else (smarthost, "", "")
    require_tls = config.get("require_tls", g.get("smtp_require_tls", True))
    security = "tls" if port == "465" else ("starttls" if require_tls else "none")
    if config.get("tls_config"):
        c.note(where, "tls_config is not imported (Herald verifies against the system CAs)")
    return (
        {
            "host": host, "port": int(port) if port.isdigit() else None, "security": security,
            "username": config.get("auth_username") or g.get("smtp_auth_username") or "",
            "from_address": config.get("from") or g.get("smtp_from"),
            "to": _split_list(config.get("to")),
        },
        {"password": config.get("auth_password") or g.get("smtp_auth_password")},
    )


def _pagerduty(c: _Converter, config: dict[str, Any], where: str):
    if not config.get("routing_key"):
        if config.get("service_key"):
            c.note(where, "not imported: service_key is an Events API v1 key; Herald uses "
                          "Events API v2: create a v2 integration and use its routing key")
        else:
            c.note(where, "not imported: no routing_key")
        return None
    url = config.get("url") or c.globals.get("pagerduty_url") or EVENTS_URL
    source = str(config.get("source") or "")
    if "{{" in source:
        c.note(where, "source is a Go template; not imported")
        source = ""
    return (
        {"events_url": url if url.rstrip("/") != EVENTS_URL else None,
         "client": config.get("client"), "source": source},
        {"routing_key": config["routing_key"]},
    )


def _webhook(c: _Converter, config: dict[str, Any], where: str):
    url = str(config.get("url") or "")
    if not url:
        c.note(where, "not imported: no url")
        return None
    if INGEST_PATH in url:
        c.note(where, "not imported: it already posts to Herald")
        return None
    timeout = _seconds(config.get("timeout"))
    settings = {"timeout_seconds": min(timeout, 60) if timeout else None}
    return settings, {"url": url, "authorization": c._http_config(config, where)}


def _opsgenie(c: _Converter, config: dict[str, Any], where: str):
    api_key = config.get("api_key") or c.globals.get("opsgenie_api_key")
    if not api_key:
        c.note(where, "not imported: no api_key (nor global opsgenie_api_key)")
        return None
    api_url = str(config.get("api_url") or c.globals.get("opsgenie_api_url") or "").rstrip("/")
    region = "eu" if api_url == API_URLS["eu"] else "us"
    responders = []
    for responder in config.get("responders") or []:
        kind = str(responder.get("type", ""))
        if kind not in ("team", "user", "escalation", "schedule"):
            c.note(where, f"responder type {kind!r} is not imported")
            continue
        responders.append({
            "type": kind, **{k: str(responder[k]) for k in ("id", "name", "username")
                             if responder.get(k)},
        })
    tags = _split_list(config.get("tags"))
    if any("{{" in tag for tag in tags):
        c.note(where, "tags are a Go template; not imported")
        tags = []
    return (
        {"region": region, "api_url": api_url if api_url not in (*API_URLS.values(), "") else None,
         "responders": responders, "tags": tags},
        {"api_key": api_key},
    )


def _telegram(c: _Converter, config: dict[str, Any], where: str):
    api_url = config.get("api_url") or c.globals.get("telegram_api_url")
    return (
        {"chat_id": config.get("chat_id"), "message_thread_id": config.get("message_thread_id"),
         "api_url": api_url if api_url and api_url.rstrip("/") != TELEGRAM_API_URL else None},
        {"bot_token": config.get("bot_token")},
    )


def _discord(c: _Converter, config: dict[str, Any], where: str):
    return (
        {"username": config.get("username"), "avatar_url": config.get("avatar_url")},
        {"url": config.get("webhook_url")},
    )


def _msteams(c: _Converter, config: dict[str, Any], where: str):
    c.note(where, "Office 365 connector webhooks are retired; Herald posts Adaptive Cards to a "
                  "Teams Workflows URL: check that this URL is one")
    return {}, {"url": config.get("webhook_url")}


def _msteamsv2(c: _Converter, config: dict[str, Any], where: str):
    return {}, {"url": config.get("webhook_url")}


_MAPPERS = {
    "slack_configs": ("slack", _slack),
    "email_configs": ("email", _email),
    "pagerduty_configs": ("pagerduty", _pagerduty),
    "webhook_configs": ("webhook", _webhook),
    "opsgenie_configs": ("opsgenie", _opsgenie),
    "telegram_configs": ("telegram", _telegram),
    "discord_configs": ("discord", _discord),
    "msteams_configs": ("msteams", _msteams),
    "msteamsv2_configs": ("msteams", _msteamsv2),
}


def alertmanager_import(*, text: str, herald_url: str) -> AlertmanagerImport:
    """Herald's receivers and routes for an alertmanager.yml, what did not map, and the
    snippet that points that Alertmanager at Herald instead."""
    raw, problems = yaml_parse(text)
    if problems:
        raise AlertmanagerConfigError(problems[0].format())
    data = plain(raw)
    if not isinstance(data, dict) or not isinstance(data.get("route"), dict):
        raise AlertmanagerConfigError("not an Alertmanager configuration: no route")
    converter = _Converter(globals=dict(data.get("global") or {}), herald_url=herald_url)
    receivers = converter.receivers(list(data.get("receivers") or []))
    routes = converter.routes(data["route"])
    for key in ("inhibit_rules", "time_intervals", "mute_time_intervals", "templates"):
        if data.get(key):
            converter.note(key, "not imported (no Herald equivalent; see silences and templates)")
    return AlertmanagerImport(
        document=ConfigDocument(receivers=receivers, routes=routes),
        notes=converter.notes,
        snippet=converter.snippet(data["route"]),
    )
