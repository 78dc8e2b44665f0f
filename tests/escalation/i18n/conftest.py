"""These tests open pages in French and German: the language middleware leaves the
request's language active in the thread, so each test hands the default back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    yield
    translation.activate(settings.LANGUAGE_CODE)
