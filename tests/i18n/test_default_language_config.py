"""The tenant's default language in the configuration file: deployed, planned, exported, checked."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.models import Tenant


def _deploy(tmp_path, text: str, *, errors: StringIO | None = None) -> str:
    path = tmp_path / "herald.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("deploy_receivers", str(path), tenant="alpha", stdout=out,
                 stderr=errors if errors is not None else StringIO())
    return out.getvalue()


def _export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()


def test_a_file_sets_the_tenant_default_language_and_the_export_states_it(alpha, tmp_path):
    output = _deploy(tmp_path, "tenant:\n  time_zone: Europe/Paris\n  default_language: fr\n")

    assert "~ tenant/settings (default_language, time_zone)" in output
    assert Tenant.objects.get(slug="alpha").default_language == "fr"
    assert "tenant:\n  time_zone: Europe/Paris\n  default_language: fr\n" in _export()


def test_the_export_states_the_default_language_even_when_english(alpha):
    assert "  default_language: en\n" in _export()


def test_a_language_herald_does_not_speak_is_refused_with_its_place(alpha, tmp_path):
    errors = StringIO()
    with pytest.raises(CommandError, match="nothing applied"):
        _deploy(tmp_path, "tenant:\n  default_language: klingon\n", errors=errors)
    assert ("herald.yaml:2:21: error: tenant.default_language: 'klingon' is not one of "
            "Herald's languages (en, fr, de)") in errors.getvalue()
    assert Tenant.objects.get(slug="alpha").default_language == "en"
