"""An alertmanager.yml turned into Herald receivers and routes (pure).

Receivers: each `*_configs` entry Herald has a channel for becomes one
Herald receiver (named after the Alertmanager receiver, with the kind and a
number when it has several); which keys a channel takes, and how, the
channel declares (receivers.transports.alertmanager). Routes: Alertmanager's tree becomes
Herald's tree node for node (own matchers, `continue`, nested routes, receivers
inherited where Alertmanager inherits them), and the root becomes the default
route: Herald then routes every label set as Alertmanager does (checked against
amtool in tests/config/test_amtool_routing.py). Everything that does not map
(Go templates, proxies, time intervals, nested grouping, …) is reported, never
silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alerting.config.loading import plain, yaml_parse
from alerting.config.schema import ConfigDocument, ReceiverSpec, RouteSpec, canonical_matchers
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
    # Each Alertmanager receiver's Herald receivers (none for one without integrations).
    receiver_names: dict[str, list[str]] = field(default_factory=dict)


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
        if imported.kind and imported.kind in mapping.other_kinds:
            kind = imported.kind
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
        """The tree as Herald's: each Alertmanager route a Herald route with its own matchers,
        its `continue` and its children; the root the default route (the match when no
        top-level route matched, as in Alertmanager)."""
        for key in ("mute_time_intervals", "active_time_intervals"):
            if root.get(key):
                self.note("route", f"{key} is not imported; use Herald silences (weekly windows)")
        receiver = str(root.get("receiver", ""))
        group_by = root.get("group_by")
        routes = [
            spec
            for index, child in enumerate(root.get("routes") or [])
            if (spec := self._route(child, (index,), receiver, group_by, top=True)) is not None
        ]
        self._known(receiver, "route")
        routes.append(RouteSpec(
            name="am-default", default=True, receivers=list(self.names.get(receiver, [])),
        ))
        return routes

    def _route(
        self, node: dict[str, Any], path: tuple[int, ...], inherited: str, group_by: Any,
        *, top: bool,
    ) -> RouteSpec | None:
        where = "route" + "".join(f".routes[{i}]" for i in path)
        matchers = self._node_matchers(node, where)
        if matchers is None:
            return None
        if node.get("group_by") is not None and node.get("group_by") != group_by:
            self.note(where, f"group_by {node.get('group_by')} is Alertmanager's grouping; the "
                             "snippet forwards everything to Herald grouped by the root's")
        for key in ("mute_time_intervals", "active_time_intervals"):
            if node.get(key):
                self.note(where, f"{key} is not imported; use Herald silences (weekly windows)")
        own = node.get("receiver")
        receiver = str(own) if own else inherited
        if own:
            self._known(receiver, where)
        # A nested route without a receiver inherits its parent's, in Herald as in
        # Alertmanager; Herald's top-level routes have no parent to inherit from,
        # so they name the root's receivers themselves.
        receivers = list(self.names.get(receiver, [])) if own or top else None
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", receiver) or "none"
        children = [
            spec
            for index, child in enumerate(node.get("routes") or [])
            if (spec := self._route(child, (*path, index), receiver,
                                    node.get("group_by", group_by), top=False)) is not None
        ]
        return RouteSpec(
            name=("am" + "".join(f".{i + 1}" for i in path) + f"-{label}")[:100],
            matchers=matchers,
            continue_matching=bool(node.get("continue", False)),
            receivers=receivers,
            routes=children,
        )

    def _known(self, receiver: str, where: str) -> None:
        if receiver not in self.names:
            self.note(where, f"receiver {receiver!r} is not defined")

    def _node_matchers(self, node: dict[str, Any], where: str) -> list[str] | None:
        texts = [str(text) for text in node.get("matchers") or []]
        texts += [f'{name}="{_escape(value)}"' for name, value in (node.get("match") or {}).items()]
        texts += [
            f'{name}=~"{_escape(value)}"' for name, value in (node.get("match_re") or {}).items()
        ]
        try:
            return canonical_matchers(texts)
        except ValueError as exc:
            nested = len(node.get("routes") or [])
            self.note(where, f"not imported{f' (nor its {nested} nested routes)' if nested else ''}"
                             f": {exc}")
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
        receiver_names=converter.names,
    )
