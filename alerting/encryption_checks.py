"""System checks: HERALD_ENCRYPTION_KEYS holds Fernet keys, and they read the stored secrets.

The second check reads the database, so Django runs it only where asked
(`manage.py check --database default`) and before `migrate`; web and worker
processes run `encryption_keys_verify` at start (alerting.infra.wsgi,
alerting.infra.celery). Secrets still under the old scheme are a warning,
not an error: `migrate` must be able to run the migration that converts them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from alerting.encryption import encryption_key_problem


@register(Tags.security)
def encryption_keys_are_keys(app_configs=None, **kwargs) -> list:
    keys = list(getattr(settings, "HERALD_ENCRYPTION_KEYS", []))
    if not keys:
        return [Error("HERALD_ENCRYPTION_KEYS is empty.", id="herald.E101")]
    return [
        Error(f"HERALD_ENCRYPTION_KEYS, key {position}: {problem}.", id="herald.E102")
        for position, problem in enumerate(map(encryption_key_problem, keys), start=1)
        if problem
    ]


@register(Tags.database)
def encryption_keys_read_the_secrets(app_configs=None, databases=None, **kwargs) -> list:
    if not databases or encryption_keys_are_keys():
        return []
    from alerting.encryption_services import encrypted_values_unreadable, unreadable_explained

    try:
        found = encrypted_values_unreadable()
    except DatabaseError:
        return []  # no tables yet: nothing is stored
    messages = []
    for item in found:
        text = f"Stored secrets cannot be decrypted: {unreadable_explained([item])}."
        if item.legacy:
            messages.append(Warning(text, id="herald.W103"))
        else:
            messages.append(Error(text, id="herald.E103"))
    return messages
