"""Every text of every app's code and templates has a French and a German translation.

The msgids come from Django's makemessages (xgettext) run over each app's
sources, as a translator's update would see them; a catalogue passes when each
one has a non-empty, non-fuzzy msgstr in fr and de.
"""

from __future__ import annotations

import pytest

from alerting.infra.i18n_catalogues import CATALOGUES, TRANSLATED_LANGUAGES, catalogue_missing


@pytest.mark.parametrize(
    ("catalogue", "language"),
    [(spec, language) for spec in CATALOGUES for language in TRANSLATED_LANGUAGES],
    ids=lambda value: getattr(value, "name", value),
)
def test_every_text_of_the_app_is_translated(catalogue, language):
    missing = catalogue_missing(spec=catalogue, language=language)
    assert missing == [], (
        f"{len(missing)} text(s) of {catalogue.name} without a {language} translation in "
        f"{catalogue.locale_dir}/{language}/LC_MESSAGES/django.po "
        f"(manage.py compile_catalogues --update --app {catalogue.name}, then translate): "
        + "; ".join(missing[:20])
    )
