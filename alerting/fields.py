"""Model fields Herald's models share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from alerting.encryption import SecretUnreadable, decrypt, encrypt


class PlainJSONField(models.JSONField):
    """JSON in PostgreSQL's json type: the text as written, checked, not rebuilt.

    For large documents that are written on every ingest and read whole, never
    queried inside: building jsonb from a hundred alerts costs PostgreSQL about
    a millisecond each time, and json keeps the text as it came (key order,
    spacing), which an audit trail wants.
    """

    def db_type(self, connection):
        return "json"

    def from_db_value(self, value, expression, connection):
        if value is None or not isinstance(value, str):
            return value  # psycopg decodes json itself (Django asks only jsonb as text)
        return super().from_db_value(value, expression, connection)


class _Unreadable:
    """What an instance holds for a value no configured key decrypts.

    It keeps the stored ciphertext, so the value is written back unchanged
    if it is ever saved; reading the attribute raises SecretUnreadable.
    """

    __slots__ = ("stored",)

    def __init__(self, stored: Any) -> None:
        self.stored = stored

    def __repr__(self) -> str:
        return "<unreadable secret>"


class _EncryptedAttribute(DeferredAttribute):
    # A data descriptor (it has __set__), so that reading a loaded value
    # passes through __get__ rather than straight to the instance's __dict__.
    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if isinstance(value, _Unreadable):
            raise SecretUnreadable(
                f"{type(instance)._meta.label}.{self.field.name} of #{instance.pk}: "
                "no key in HERALD_ENCRYPTION_KEYS decrypts it"
            )
        return value


class _EncryptedMixin:
    """Encrypted at rest with HERALD_ENCRYPTION_KEYS (alerting.encryption).

    Loading a row never fails: a value no key decrypts is held as
    `_Unreadable`, and only using it raises SecretUnreadable, so a list of
    receivers still shows and `rotate_secrets` can name what it cannot read.
    Saving such an instance raises too (Model.save reads the attribute):
    nothing overwrites a secret it could not read.
    """

    descriptor_class = _EncryptedAttribute
    # Which texts of a value are Fernet tokens: `tokens(value, change)` gives
    # the value with `change` applied to each (the field's whole text, or a
    # JSON document's leaves).
    tokens: Callable[[Any, Callable[[str], Any]], Any]

    def stored_decrypt(self, stored: Any, *, legacy: bool = False) -> Any:
        return self.tokens(stored, lambda token: decrypt(token, legacy=legacy))

    def stored_encrypt(self, value: Any) -> Any:
        return self.tokens(value, encrypt)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return self.stored_decrypt(value)
        except SecretUnreadable:
            return _Unreadable(value)

    def get_prep_value(self, value):
        if isinstance(value, _Unreadable):
            return value.stored
        value = super().get_prep_value(value)
        return None if value is None else self.stored_encrypt(value)


def _whole(value: Any, change: Callable[[str], Any]) -> Any:
    return change(value if isinstance(value, str) else str(value))


def _leaves(value: Any, change: Callable[[str], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _leaves(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_leaves(item, change) for item in value]
    if value is None:
        return None
    return _whole(value, change)


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """A text, stored as one Fernet token."""

    tokens = staticmethod(_whole)


class EncryptedCharField(EncryptedTextField):
    """An EncryptedTextField whose forms limit its length (the column is text)."""

    def formfield(self, **kwargs):
        return models.CharField.formfield(self, **kwargs)


class EncryptedJSONField(_EncryptedMixin, models.JSONField):
    """A JSON document whose keys stay readable and whose leaves are Fernet tokens.

    Leaves are stored as text, as the field library did (a number comes back
    as a string); null stays null.
    """

    tokens = staticmethod(_leaves)

    def from_db_value(self, value, expression, connection):
        document = models.JSONField.from_db_value(self, value, expression, connection)
        return super().from_db_value(document, expression, connection)


def encrypted_fields(model: type[models.Model]) -> list[Any]:
    """The model's encrypted fields."""
    return [field for field in model._meta.concrete_fields if isinstance(field, _EncryptedMixin)]


def encrypted_value_readable(instance: models.Model, field_name: str) -> bool:
    """Does a configured key decrypt this instance's value? (Never raises.)"""
    attname = instance._meta.get_field(field_name).attname
    return not isinstance(instance.__dict__.get(attname), _Unreadable)


def encrypted_value_recover(instance: models.Model, field_name: str) -> tuple[Any, bool]:
    """The value, also from the old scheme, and whether it came from there.

    For the upgrade and `rotate_secrets` only; raises SecretUnreadable when
    neither a configured key nor the old scheme reads it.
    """
    field = instance._meta.get_field(field_name)
    value = instance.__dict__.get(field.attname)
    if not isinstance(value, _Unreadable):
        return value, False
    return field.stored_decrypt(value.stored, legacy=True), True
