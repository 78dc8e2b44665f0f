"""The README's configuration example is the sample the tests hold valid."""

from __future__ import annotations

import re

from django.conf import settings

from alerting.config.loading import config_load
from tests.config.test_validation import SAMPLES


def test_the_readme_example_is_the_valid_sample():
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme[readme.index("## Configuration as code"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)

    from_readme = config_load(example)
    sample = config_load((SAMPLES / "valid.yaml").read_text())

    assert from_readme.problems == []
    assert from_readme.document == sample.document
