"""A channel is one module: what it declares is all Herald needs to render, check and import it.

The story: someone adds a carrier-pigeon channel. They write one Transport
class and its default templates, register it, and, without touching any
other module, Herald renders its messages, sends them, checks a
configuration file that uses it (parts, template overrides, vendor limits),
and imports it from an alertmanager.yml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.core.management import call_command
from pydantic import Field

from alerting.config.alertmanager import alertmanager_import
from alerting.config.loading import config_load
from alerting.config.validation import config_validate
from receivers.forms import receiver_form_class
from receivers.message_rendering import message_render
from receivers.messages import AlertMessage
from receivers.models import MessageTemplate, Receiver
from receivers.template_context import LANGUAGES
from receivers.template_samples import sample_message
from receivers.transports import (
    TRANSPORTS,
    PartLimit,
    SendResult,
    Transport,
    alertmanager_mappings,
    channel_declaration_problems,
    channel_registered,
    settings_class,
)
from receivers.transports.alertmanager import (
    AlertmanagerMapping,
    ImportedReceiver,
    not_imported,
)
from receivers.transports.settings import ChannelSettings, SecretUrl

ROOT = Path(__file__).resolve().parents[2]


class PigeonSettings(ChannelSettings):
    long_text_settings = frozenset({"loft_notes"})

    url: SecretUrl = Field(description="The loft's intake URL.")
    loft_notes: str = Field("", description="For the loft keeper, several lines.")


def pigeon_from_alertmanager(entry: Any, globals: Any) -> ImportedReceiver:
    url = entry.get("loft_url") or globals.get("pigeon_loft_url")
    if not url:
        return not_imported("no loft_url")
    return ImportedReceiver(secrets={"url": url})


def pigeon_channel(templates_dir: Path) -> type[Transport]:
    """The whole channel, as its module would hold it: settings, payload, parts, limits, import."""

    class PigeonTransport(Transport):
        kind = "pigeon"
        label = "Carrier pigeon"
        settings_class = PigeonSettings
        parts = ("leg_band", "scroll")
        html_parts = frozenset({"scroll"})
        # A pigeon's leg band holds very little.
        part_limits = {"leg_band": PartLimit("Pigeon (leg band)", 12)}
        alertmanager = (
            AlertmanagerMapping(
                key="pigeon_configs",
                mapper=pigeon_from_alertmanager,
                send_resolved_default=True,
                reads=("loft_url",),
                templated=("message",),
            ),
        )

        def send(self, message: AlertMessage) -> SendResult:
            rendered = self.render(message)
            response = self.post(self.settings.secret("url"), json=dict(rendered.parts))
            return SendResult(http_status=response.status_code)

    PigeonTransport.templates_dir = templates_dir
    for language in LANGUAGES:
        folder = templates_dir / "pigeon" / language
        folder.mkdir(parents=True)
        (folder / "leg_band.j2").write_text("[{{ language }}] {{ alertname }} {{ status }}")
        (folder / "scroll.j2").write_text("<b>{{ common_annotations.summary }}</b>")
    return PigeonTransport


@pytest.fixture
def pigeon(tmp_path):
    with channel_registered(pigeon_channel(tmp_path / "templates")) as transport:
        yield transport
    assert "pigeon" not in TRANSPORTS


def test_a_registered_channel_renders_from_its_own_templates(pigeon):
    rendered = message_render(channel="pigeon", message=sample_message(), language="fr")

    assert rendered["leg_band"].startswith("[fr] ")
    # The scroll is declared HTML: the sample's summary is escaped, the markup kept.
    assert rendered["scroll"].startswith("<b>") and rendered["scroll"].endswith("</b>")


@pytest.mark.django_db
def test_a_registered_channel_needs_no_migration(pigeon):
    # Receiver.kind's choices are the registry's, read at each use: the model
    # offers the new kind, and the migration state (the function) is unchanged.
    assert ("pigeon", "Carrier pigeon") in Receiver._meta.get_field("kind").choices
    assert "pigeon" in dict(MessageTemplate._meta.get_field("channel").choices)
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_a_registered_channel_sends_through_the_shared_http_path(pigeon, httpserver):
    httpserver.expect_oneshot_request("/loft", method="POST").respond_with_data("coo")
    transport = pigeon(config={}, secrets={"url": httpserver.url_for("/loft")},
                       allow_private=True)

    assert transport.send(sample_message()).http_status == 200
    [(request, _)] = httpserver.log
    assert set(json.loads(request.data)) == {"leg_band", "scroll"}


def test_the_admin_form_of_a_registered_channel_follows_its_settings_class(pigeon):
    form = receiver_form_class("pigeon")()

    assert isinstance(form.fields["url"].widget, forms.PasswordInput)
    assert isinstance(form.fields["loft_notes"].widget, forms.Textarea)


PIGEON_CONFIG = """\
receivers:
  - name: loft
    kind: pigeon
    secrets: {url: "http://127.0.0.1:9/loft"}
templates:
  - channel: pigeon
    part: scroll
    source: "{{ alertname }}"
routes:
  - name: everything
    default: true
    receivers: [loft]
"""


def _problems(text: str, level: str) -> list[str]:
    loaded = config_load(text)
    problems = loaded.problems or config_validate(
        loaded=loaded, level=level, env={}, allow_private=True
    )
    return [problem.format() for problem in problems]


def test_a_configuration_file_may_use_a_registered_channel(pigeon):
    assert _problems(PIGEON_CONFIG, "standard") == []
    # An override of a part the pigeon does not have is refused at its place.
    wrong_part = PIGEON_CONFIG.replace("part: scroll", "part: title")
    assert any("'title' is not a part of pigeon messages (leg_band, scroll)" in problem
               for problem in _problems(wrong_part, "basic"))


def test_the_paranoid_level_holds_rendered_parts_to_the_channels_declared_limits(pigeon):
    problems = _problems(PIGEON_CONFIG, "paranoid")

    assert any("the 'leg_band' renders to" in p and "Pigeon (leg band) allows 12" in p
               for p in problems), problems


def test_an_unregistered_kind_is_refused_by_the_configuration_file():
    problems = _problems(PIGEON_CONFIG, "basic")

    assert any("receivers[0].kind: Input should be 'webhook', 'slack'" in p for p in problems)


ALERTMANAGER_YML = """\
global:
  pigeon_loft_url: http://loft.example/intake
route:
  receiver: birds
receivers:
  - name: birds
    pigeon_configs:
      - message: '{{ .CommonLabels.alertname }}'
      - loft_url: http://other-loft.example/intake
"""


def test_an_alertmanager_receiver_of_a_registered_channel_imports(pigeon):
    imported = alertmanager_import(text=ALERTMANAGER_YML, herald_url="https://herald.example")

    receivers = imported.document.receivers
    assert [(r.name, r.kind, r.secrets) for r in receivers] == [
        ("birds-pigeon-1", "pigeon", {"url": "http://loft.example/intake"}),
        ("birds-pigeon-2", "pigeon", {"url": "http://other-loft.example/intake"}),
    ]
    assert any("pigeon_configs[0]: message is not imported" in note for note in imported.notes)


def test_without_the_channel_the_same_alertmanager_receiver_is_reported_not_imported():
    imported = alertmanager_import(text=ALERTMANAGER_YML, herald_url="https://herald.example")

    assert imported.document.receivers == []
    assert "receiver birds: pigeon_configs is not supported by Herald; not imported" in (
        imported.notes
    )


def test_a_channel_that_leaves_a_piece_undeclared_is_refused(tmp_path):
    incomplete = pigeon_channel(tmp_path)
    incomplete.part_limits = {"beak": PartLimit("Pigeon (beak)", 1)}
    (tmp_path / "pigeon" / "de" / "scroll.j2").unlink()

    assert channel_declaration_problems(incomplete) == [
        "PigeonTransport: the limit of 'beak' is for no part of it",
        f"PigeonTransport: no default template {tmp_path}/pigeon/de/scroll.j2",
    ]
    with pytest.raises(ValueError, match="no default template"), channel_registered(incomplete):
        pass


# Channels Alertmanager has no receiver for (it cannot text or call through Twilio).
NOT_IN_ALERTMANAGER = frozenset({"twilio", "servicenow"})


@pytest.mark.parametrize("kind", list(TRANSPORTS))
def test_every_channel_declares_every_piece(kind):
    transport = TRANSPORTS[kind]

    assert channel_declaration_problems(transport) == []
    assert transport.label and settings_class(kind) is transport.settings_class
    # Each renders from parts but the webhook, which sends Alertmanager's JSON.
    assert bool(transport.parts) == (kind != "webhook")
    # Its own *_configs key, or another channel's entries that import as it
    # (slack_configs posting to chat.postMessage import as slack_app).
    imports_as = {owner for owner, _ in alertmanager_mappings().values()} | {
        other for _, mapping in alertmanager_mappings().values() for other in mapping.other_kinds
    }
    if kind not in NOT_IN_ALERTMANAGER:
        assert kind in imports_as, f"{kind} imports from no Alertmanager receiver"


# The modules that used to hold a table per channel; they ask the registry now.
FORMER_TABLES = [
    "receivers/message_rendering.py",
    "receivers/template_checks.py",
    "receivers/template_preview.py",
    "alerting/sample_send.py",
    "receivers/models.py",
    "receivers/admin/receiver_admin.py",
    "receivers/admin/message_template_admin.py",
    "receivers/forms.py",
    "alerting/config/alertmanager.py",
    "alerting/config/schema.py",
    "alerting/config/validation.py",
    "alerting/config/export.py",
]


@pytest.mark.parametrize("path", FORMER_TABLES)
def test_no_module_outside_the_channels_names_a_channel(path):
    source = (ROOT / path).read_text()
    kinds = "|".join(kind for kind in TRANSPORTS if kind != "webhook")
    named = re.findall(rf"""["'](?:{kinds})(?:_configs)?["']""", source)

    assert named == [], f"{path} names channels: {named}"
