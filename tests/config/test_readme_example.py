"""The README's configuration example is the sample the tests hold valid."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand

from alerting.config.loading import config_load
from tenants.management.commands import create_tenant
from tests.config.test_validation import SAMPLES


def test_the_readme_example_is_the_valid_sample():
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme[readme.index("## Configuration as code"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)

    from_readme = config_load(example)
    sample = config_load((SAMPLES / "valid.yaml").read_text())

    assert from_readme.problems == []
    assert from_readme.document == sample.document



def _own_options(command: BaseCommand, name: str) -> set[str]:
    """The long options the command adds, not those every Django command has."""
    def options(of: BaseCommand) -> set[str]:
        parser = of.create_parser("manage.py", name)
        return {o for action in parser._actions for o in action.option_strings if o[:2] == "--"}

    return options(command) - options(BaseCommand())


def test_every_create_tenant_option_is_in_the_readmes_tenants_section():
    readme = (settings.BASE_DIR / "README.md").read_text()
    start = readme.index("## Tenants\n")
    section = readme[start:readme.index("\n## ", start + 1)]

    options = _own_options(create_tenant.Command(), "create_tenant")

    assert "--allow-private-targets" in options
    for option in options:
        assert option in section, f"{option} is not documented under Tenants"
