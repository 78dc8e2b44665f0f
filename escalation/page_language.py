"""The language of a page Herald shows a person from a link (ack, action, confirmation).

A link names its person, so the page speaks the person's profile language; a
link that names nobody (a channel's) keeps the language the request chose
(the language middleware: Accept-Language, else the tenant's default).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from django.utils import translation

from escalation.models import Person

_LANGUAGES = ("en", "fr", "de")


def person_language(*, person_id: int | None) -> str | None:
    """The person's profile language, or None when the page names nobody known."""
    if person_id is None:
        return None
    language = Person.objects.filter(id=person_id).values_list("language", flat=True).first()
    return language if language in _LANGUAGES else None


def page_language(*, person_id: int | None) -> AbstractContextManager:
    """Renders what follows in the person's language (in the tenant's schema), if known."""
    language = person_language(person_id=person_id)
    return translation.override(language) if language else nullcontext()
