"""Fixtures of the configuration tests."""

import pytest

from tests.config.sample_env import ENV, ONCALL_ENV


@pytest.fixture
def env(monkeypatch) -> dict[str, str]:
    """The variables every sample file's ${VAR} references name, set for the test."""
    variables = {**ENV, **ONCALL_ENV}
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables
