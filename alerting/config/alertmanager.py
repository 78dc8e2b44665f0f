"""An alertmanager.yml turned into Herald receivers and routes (pure).

Receivers: each `*_configs` entry Herald has a channel for becomes one
Herald receiver (named after the Alertmanager receiver, with the kind and a
number when it has several); which keys a channel takes, and how, the
channel declares (receivers.transports.alertmanager). Routes: Alertmanager's tree is flattened into
Herald's ordered list: a node's children come before the node itself (a
child that matches takes the alert first), each carrying its ancestors'
matchers, and the root becomes the default route. Everything that does not
map (Go templates, proxies, time intervals, nested grouping, …) is reported,
never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alerting.config.loading import plain, yaml_parse
from alerting.config.schema import ConfigDocument, ReceiverSpec, RouteSpec, canonical_matchers
from alerting.matchers import Matcher, MatchType, parse_matcher
from receivers.transports import SettingsError, alertmanager_mappings, settings_class
from receivers.transports.alertmanager import INGEST_PATH, AlertmanagerMapping

__all__ = ["INGEST_PATH", "AlertmanagerConfigError", "AlertmanagerImport", "alertmanager_import"]

# Fields every integration has; the channels' mappings say what else they read.
_COMMON = ("send_resolved", "http_config")


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
        mappings = alertmanager_mappings()
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
                if key != "name" and (key not in mappings):
                    self.note(f"receiver {name}", f"{key} is not supported by Herald; not imported")
            for key, index, config in entries:
                if key not in mappings:
                    continue
                same_kind = sum(1 for other, _, _ in entries if other == key)
                integration = key.removesuffix("_configs")
                herald_name = name if len(entries) == 1 else f"{name}-{integration}"
                if same_kind > 1:
                    herald_name += f"-{index + 1}"
                where = f"receiver {name}, {key}[{index}]"
                kind, mapping = mappings[key]
                spec = self._receiver(kind, mapping, herald_name, dict(config or {}), where)
                if spec is not None:
                    specs.append(spec)
                    self.names[name].append(spec.name)
        return specs

    def _receiver(
        self, kind: str, mapping: AlertmanagerMapping, name: str, config: dict[str, Any],
        where: str,
    ) -> ReceiverSpec | None:
        for field_name in config:
            if field_name in mapping.templated:
                self.note(where, f"{field_name} is not imported (Alertmanager's templates are "
                                 "Go templates; Herald's own templates apply)")
            elif field_name in mapping.ignored:
                self.note(where, mapping.ignored[field_name])
            elif field_name.endswith("_file"):
                self.note(where, f"{field_name}: the secret is in a file on the Alertmanager "
                                 "host; set it on the Herald receiver by hand")
            elif (
                field_name == "http_config" and field_name not in mapping.reads
                and config[field_name]
            ):
                self.note(where, "http_config is not imported (Herald's outbound HTTP "
                                 "settings are server-wide)")
            elif field_name not in (*mapping.reads, *_COMMON):
                self.note(where, f"{field_name} is not imported")
        if config.get("send_resolved", mapping.send_resolved_default) is False:
            self.note(where, "send_resolved is false; Herald sends resolved notifications too")
        imported = mapping.mapper(config, self.globals)
        for text in imported.notes:
            self.note(where, text)
        if not imported.imported:
            return None
        secrets = {k: str(v) for k, v in imported.secrets.items() if v not in (None, "")}
        settings = {k: v for k, v in imported.config.items() if v not in (None, "", [], {})}
        try:
            settings_class(kind).parse(config=settings, secrets=secrets)
        except SettingsError as exc:
            self.note(where, f"not imported: {exc}")
            return None
        return ReceiverSpec(name=name[:100], kind=kind, config=settings, secrets=secrets)

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
