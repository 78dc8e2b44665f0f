"""The validation levels, each including the ones before it.

basic     YAML and the schema (routes nest as a tree: defaults on top and alone, at
          most MAX_DEPTH deep), names unique (a route's in the whole tree), each
          receiver's settings fit its kind,
          no target the outbound guard refuses (private networks unless allowed,
          URL spellings that parsers read differently)
standard  references resolve (receivers, fallbacks and policies named exist, no
          fallback cycle, ${ENV_VAR}s are set) and templates compile; schedules'
          coverage gaps and unbalanced rotations in the next 12 weeks are warnings
          (validation_coverage.py)
strict    every secret an ${ENV_VAR} reference (no plain text), nothing
          secret-looking in plain config; coverage gaps and unbalanced rotations
          are errors
paranoid  every template rendered in the sandbox against sample alerts, and
          rendered parts within the vendors' limits (validation_paranoid.py)

People, teams, schedules and targets are checked by validation_oncall.py at
basic and standard.

Pure but for the targets' DNS lookups (one per host, only when private targets
are not allowed). A name that does not resolve now is a warning, not an error:
DNS may lag a deploy, and every send checks the target again.

Whether private targets are allowed is the tenant's to say. Without a tenant
(`allow_private=None`: a file checked in CI) a private or loopback target is
a warning; spellings that parsers read differently stay errors, as they are
refused for every tenant. Deploying always has a tenant, and refuses.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from alerting.config.envrefs import env_name_for, env_resolve, has_reference
from alerting.config.loading import LoadedConfig, Path, Problem, position_of
from alerting.config.schema import ConfigDocument, ReceiverSpec, fallback_cycles, route_entries
from alerting.config.sources import source_env_name
from alerting.config.validation_coverage import CoverageChecks
from alerting.config.validation_oncall import OnCallChecks
from alerting.config.validation_paranoid import ParanoidChecks
from receivers.services import receiver_targets_check
from receivers.template_checks import template_source_check
from receivers.template_limits import TemplateError
from receivers.transports import SettingsError, settings_class

LEVELS = ("basic", "standard", "strict", "paranoid")
# The guard's words for a tenant that refuses private targets; there is none here.
_TENANT_CLAUSE = ", which this tenant is not allowed to send to"
_SECRET_LOOKING = re.compile(r"authorization|token|api[-_]?key|secret|password|passwd", re.I)


def config_validate(
    *,
    loaded: LoadedConfig,
    level: str,
    env: Mapping[str, str],
    allow_private: bool | None = False,
    known: ConfigDocument | None = None,
    members: set[str] | None = None,
    coverage_from: datetime | None = None,
) -> list[Problem]:
    """Every problem of the file at `level`; `known` stands in for sections the file leaves out.

    `allow_private=None`: no tenant says whether private targets are allowed.
    `members`: the usernames of the tenant's members (None: no tenant to ask).
    `coverage_from`: where the 12 weeks of schedule coverage start (now).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return problems
    rank = LEVELS.index(level)
    checks = _Checks(loaded, document, env, known or ConfigDocument(), members,
                     coverage_from or datetime.now(UTC))
    problems += checks.basic(resolve=rank >= 1, allow_private=allow_private)
    problems += checks.oncall_basic()
    if rank >= 1:
        problems += checks.standard()
        problems += checks.oncall_standard()
        # The engine runs over the schedules that have no errors of their own.
        broken = {
            problem.path[1] for problem in problems
            if problem.severity == "error" and problem.path[:1] == ("schedules",)
            and len(problem.path) > 1
        }
        problems += checks.coverage(severity="error" if rank >= 2 else "warning", skip=broken)
    if rank >= 2:
        problems += checks.strict()
    if rank >= 3:
        problems += checks.paranoid()
    return problems


def document_targets_check(
    *, document: ConfigDocument, env: Mapping[str, str], allow_private: bool
) -> list[Problem]:
    """The outbound guard's problems with a document that comes from no file (an import),
    each at its receiver's setting (receivers[i].secrets.url)."""
    checks = _Checks(LoadedConfig(document=document), document, env, ConfigDocument())
    problems = []
    for index, receiver in enumerate(document.receivers or []):
        problems += checks._targets(index, receiver, allow_private=allow_private)
    return problems


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(problem.severity == "error" for problem in problems)


@dataclasses.dataclass
class _Checks(ParanoidChecks, OnCallChecks, CoverageChecks):
    loaded: LoadedConfig
    document: ConfigDocument
    env: Mapping[str, str]
    known: ConfigDocument
    members: set[str] | None = None
    coverage_from: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))

    def at(self, path: Path, message: str, severity: str = "error") -> Problem:
        return self.loaded.at(path, message, severity)

    # --- basic -------------------------------------------------------------

    def basic(self, *, resolve: bool, allow_private: bool | None) -> list[Problem]:
        problems = self._duplicates()
        for index, receiver in enumerate(self.document.receivers or []):
            problems += self._receiver_settings(index, receiver, resolve=resolve)
            problems += self._targets(index, receiver, allow_private=allow_private)
        return problems

    def _duplicates(self) -> list[Problem]:
        """Names once per section; a route's name once in the whole tree (nested ones too)."""
        problems = []
        keyed = {
            "receivers": lambda spec: spec.name,
            "routes": lambda spec: spec.name,
            "escalation_policies": lambda spec: spec.name,
            "templates": lambda spec: (spec.channel, spec.language, spec.part),
            "people": lambda spec: spec.username,
            "teams": lambda spec: spec.name,
            "schedules": lambda spec: spec.name,
        }
        for section, key in keyed.items():
            if section == "routes":
                placed = [(e.path, e.spec) for e in route_entries(self.document.routes)]
            else:
                specs = getattr(self.document, section) or []
                placed = [((section, index), spec) for index, spec in enumerate(specs)]
            seen: dict[Any, Path] = {}
            for path, spec in placed:
                value = key(spec)
                if value in seen:
                    first = Problem(path=seen[value], message="").dotted
                    problems.append(self.at(path, f"{value!r} is defined twice (first at {first})"))
                seen.setdefault(value, path)
        return problems

    def _receiver_settings(
        self, index: int, receiver: ReceiverSpec, *, resolve: bool
    ) -> list[Problem]:
        """The kind's own checks on config and secrets.

        Unresolved references cannot be checked for shape; at `standard` they
        are resolved from the environment first (and missing ones reported).
        """
        problems = []
        base: Path = ("receivers", index)
        secrets: dict[str, str] = {}
        unchecked: set[str] = set()
        for name, value in receiver.secrets.items():
            if not has_reference(value):
                secrets[name] = value
            elif resolve:
                resolved, missing = env_resolve(value, self.env)
                for variable in missing:
                    problems.append(self.at((*base, "secrets", name),
                                            f"environment variable {variable} is not set"))
                secrets[name] = resolved
                if missing:
                    unchecked.add(name)
            else:
                secrets[name] = ""
                unchecked.add(name)
        try:
            settings_class(receiver.kind).parse(config=receiver.config, secrets=secrets)
        except SettingsError as exc:
            for name, problem in exc.errors.items():
                top = name.split(".")[0]
                if top in unchecked:
                    continue
                if top in receiver.secrets:
                    path: Path = (*base, "secrets", top)
                elif top in receiver.config:
                    path = (*base, "config", *_split(name))
                else:
                    path, problem = base, f"{name} {problem}"
                problems.append(self.at(path, problem))
        return problems

    # --- standard ----------------------------------------------------------

    def standard(self) -> list[Problem]:
        problems = []
        receivers = self._names("receivers")
        policies = self._names("escalation_policies")
        for entry in route_entries(self.document.routes):
            route = entry.spec
            for position, name in enumerate(route.receivers or []):
                problems += self._reference((*entry.path, "receivers", position), name,
                                            receivers, "receiver")
            if route.escalation_policy:
                problems += self._reference((*entry.path, "escalation_policy"),
                                            route.escalation_policy, policies, "escalation policy")
        for index, policy in enumerate(self.document.escalation_policies or []):
            for level_index, level in enumerate(policy.levels):
                for position, name in enumerate(level.receivers):
                    path = ("escalation_policies", index, "levels", level_index, "receivers",
                            position)
                    problems += self._reference(path, name, receivers, "receiver")
        for index, receiver in enumerate(self.document.receivers or []):
            if receiver.fallback:
                problems += self._reference(("receivers", index, "fallback"), receiver.fallback,
                                            receivers, "receiver")
        problems += self._fallback_cycles()
        for index, template in enumerate(self.document.templates or []):
            try:
                template_source_check(
                    channel=template.channel, part=template.part, source=template.source
                )
            except TemplateError as exc:
                problems.append(self._template_problem(index, exc))
        return problems

    def _fallback_cycles(self) -> list[Problem]:
        """A cycle would hand a notification round; each is reported once, with its path."""
        specs = self.document.receivers or []
        first = {}
        for index, spec in enumerate(specs):
            first.setdefault(spec.name, index)
        graph = {spec.name: spec.fallback for spec in specs}
        return [
            self.at(("receivers", first[cycle[0]], "fallback"),
                    f"fallback cycle: {' → '.join(cycle)}")
            for cycle in fallback_cycles(graph)
        ]

    def _names(self, section: str) -> set[str] | None:
        specs = getattr(self.document, section)
        if specs is None:
            specs = getattr(self.known, section)
        return None if specs is None else {spec.name for spec in specs}

    def _reference(self, path: Path, name: str, names: set[str] | None, what: str):
        if names is None:
            return [self.at(path, f"{what} {name!r} not checked: the file has no such section",
                            "warning")]
        if name not in names:
            return [self.at(path, f"no {what} named {name!r}")]
        return []

    def _template_problem(self, index: int, exc: TemplateError, prefix: str = "") -> Problem:
        path: Path = ("templates", index, "source")
        line, column = position_of(self.loaded.raw, path)
        # A block scalar (`source: |`) starts on the line after its key.
        if line is not None and exc.line:
            line += exc.line
        return Problem(path=path, message=f"{prefix}{exc}", line=line, column=column)

    # --- strict ------------------------------------------------------------

    def strict(self) -> list[Problem]:
        problems = []
        for index, receiver in enumerate(self.document.receivers or []):
            base: Path = ("receivers", index)
            names = settings_class(receiver.kind).secret_names()
            for name in names:
                value = receiver.secrets.get(name)
                if value is not None and not has_reference(value):
                    hint = env_name_for(receiver=receiver.name, secret=name)
                    problems.append(self.at((*base, "secrets", name),
                                            f"plain-text secret: reference an environment "
                                            f"variable instead, e.g. ${{{hint}}}"))
            problems += self._secret_looking_config(base, receiver.config)
        for index, source in enumerate(self.document.sources or []):
            for name, value in source.secrets.items():
                if not has_reference(value):
                    hint = source_env_name(source=source.name, secret=name)
                    problems.append(self.at(("sources", index, "secrets", name),
                                            f"plain-text secret: reference an environment "
                                            f"variable instead, e.g. ${{{hint}}}"))
        return problems

    def _secret_looking_config(self, base: Path, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        for header in (config.get("headers") or {}) if isinstance(config, Mapping) else {}:
            if _SECRET_LOOKING.search(str(header)):
                problems.append(self.at((*base, "config", "headers", header),
                                        "looks like a secret in plain config: use the "
                                        "receiver's secrets (e.g. authorization)"))
        return problems

    def _targets(self, index: int, receiver: ReceiverSpec, *, allow_private: bool | None):
        """The outbound guard's verdict on the receiver's targets, as deploying would meet it.

        ${ENV_VAR} references are resolved whatever the level (a missing one is
        reported at standard); applying checks the resolved values again.
        """
        base: Path = ("receivers", index)
        secrets = {}
        for name, value in receiver.secrets.items():
            resolved, missing = env_resolve(value, self.env)
            if not missing:
                secrets[name] = resolved
        settings = {"kind": receiver.kind, "config": dict(receiver.config), "secrets": secrets}
        # Refused even where private targets are allowed: refused for every tenant.
        always_refused = set()
        if allow_private is None:
            always_refused = {
                problem.setting
                for problem in receiver_targets_check(**settings, allow_private=True)
                if problem.refused
            }
        problems = []
        for problem in receiver_targets_check(**settings, allow_private=bool(allow_private)):
            section = "secrets" if problem.setting in receiver.secrets else "config"
            path: Path = (*base, section, problem.setting)
            if problem.refused and allow_private is None and (
                problem.setting not in always_refused
            ):
                reason = problem.message.removesuffix(_TENANT_CLAUSE)
                problems.append(self.at(path, "not checked against a tenant: pass --tenant or "
                                              f"--allow-private ({reason})", "warning"))
            elif problem.refused:
                problems.append(self.at(path, f"unsafe target: {problem.message}"))
            else:
                problems.append(self.at(path, f"not checked now: {problem.message}; every "
                                              "send checks it again", "warning"))
        return problems


def _split(name: str) -> tuple[str | int, ...]:
    return tuple(int(part) if part.isdigit() else part for part in name.split("."))
