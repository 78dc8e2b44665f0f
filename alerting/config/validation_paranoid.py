"""The paranoid level: every template rendered against sample alerts, within the vendors'
limits, and receivers that nothing uses (a mixin of validation's checks)."""

from __future__ import annotations

import dataclasses

from alerting.config.loading import LoadedConfig, Problem
from alerting.config.schema import ConfigDocument, ReceiverSpec, TemplateSpec, route_entries
from receivers.message_rendering import message_render
from receivers.messages import AlertMessage
from receivers.template_context import template_context
from receivers.template_limits import TemplateError
from receivers.template_render import template_render_source
from receivers.template_samples import sample_message
from receivers.transports import channel_parts, part_is_html, part_limit


class ParanoidChecks:
    """Needs `loaded`, `document`, `at` and `_template_problem` from validation's checks."""

    loaded: LoadedConfig
    document: ConfigDocument

    def paranoid(self) -> list[Problem]:
        problems = []
        templates = self.document.templates or []
        for index, template in enumerate(templates):
            html = part_is_html(template.channel, template.part)
            for label, message in _samples():
                try:
                    template_render_source(
                        template.source, template_context(message=message), html=html
                    )
                except TemplateError as exc:
                    problems.append(self._template_problem(index, exc, f"{label} sample: "))
        for index, receiver in enumerate(self.document.receivers or []):
            problems += self._rendered_limits(index, receiver, templates)
        problems += self._unused_receivers()
        return problems

    def _rendered_limits(
        self, index: int, receiver: ReceiverSpec, templates: list[TemplateSpec]
    ) -> list[Problem]:
        if not channel_parts(receiver.kind):
            return []  # the webhook sends JSON; its body_template was rendered at basic
        language = receiver.config.get("language", "en")
        overrides = {
            (template.language, template.part): template.source
            for template in templates
            if template.channel == receiver.kind
        }
        problems = []
        longest: dict[str, tuple[int, str]] = {}
        for label, sample in _samples():
            message = dataclasses.replace(
                sample, receiver_name=receiver.name, receiver_kind=receiver.kind
            )
            rendered = message_render(
                channel=receiver.kind, message=message, language=language, overrides=overrides
            )
            for problem in rendered.problems:
                problems.append(self.at(("receivers", index), f"{label} sample: {problem}"))
            for part, text in rendered.parts.items():
                if len(text) > longest.get(part, (-1, ""))[0]:
                    longest[part] = (len(text), label)
        for part, (length, label) in longest.items():
            limit = part_limit(receiver.kind, part)
            if limit and length > limit.characters:
                problems.append(self.at(("receivers", index),
                                        f"the '{part}' renders to {length} characters for the "
                                        f"{label} sample; {limit.vendor} allows "
                                        f"{limit.characters} and it would be cut"))
        return problems

    def _unused_receivers(self) -> list[Problem]:
        used = {
            name for entry in route_entries(self.document.routes)
            for name in entry.spec.receivers or []
        }
        used |= {
            name
            for policy in self.document.escalation_policies or []
            for level in policy.levels
            for name in level.receivers
        }
        used |= {
            name
            for policy in self.document.escalation_policies or []
            for level in policy.levels
            for name in (target.receiver for target in level.targets) if name
        }
        # A page carrier is used by every page of its kind.
        used |= {receiver.name for receiver in self.document.receivers or []
                 if receiver.carries_pages}
        if self.document.routes is None and not used:
            return []
        return [
            self.at(("receivers", index), f"receiver {receiver.name!r} is used by no route or "
                                          "escalation policy", "warning")
            for index, receiver in enumerate(self.document.receivers or [])
            if receiver.name not in used and self.document.routes
        ]


def _samples() -> list[tuple[str, AlertMessage]]:
    """Sample alert groups: the admin's firing and resolved ones, and a bare alert
    (no severity, no annotations) that templates assuming more must survive."""
    firing = sample_message(status="firing")
    bare_alert = {
        **firing.alerts[0],
        "labels": {"alertname": "Watchdog"},
        "annotations": {},
        "generatorURL": "",
    }
    bare = dataclasses.replace(
        firing, alerts=[bare_alert], group_labels={}, common_labels={"alertname": "Watchdog"},
        common_annotations={}, external_url="", acknowledge_url="",
    )
    return [("firing", firing), ("resolved", sample_message(status="resolved")), ("bare", bare)]
