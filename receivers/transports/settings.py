"""Typed receiver settings: one pydantic model per channel, read from config + secrets.

Non-secret settings live in `Receiver.config`; secrets (annotated `SecretStr`)
live in the encrypted `Receiver.secrets`. A model refuses unknown keys and a
secret stored in the plain config. Errors name the setting and never repeat
its value: a rejected value may be a token.

A mapping of secrets (a webhook's secret headers) is stored one secret per
entry under a prefix, `header:X-Api-Key`, so that every stored secret stays a
string: the admin masks each, config-as-code names each (`secrets:` in YAML,
one ${ENV_VAR} per header), and rotation and audit need no special case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self, get_args
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

Language = Literal["en", "fr", "de"]


class SettingsError(ValueError):
    """Invalid receiver settings; `errors` maps each setting to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in errors.items()))


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


def _secret_http_url(value: SecretStr) -> SecretStr:
    _http_url(value.get_secret_value())
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("must be an email address") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
SecretUrl = Annotated[SecretStr, AfterValidator(_secret_http_url)]
EmailAddress = Annotated[str, AfterValidator(_email)]

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a setting of this kind of receiver",
}


def _problem(error: Mapping[str, Any]) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    return str(error["msg"]).removeprefix("Value error, ")


class ChannelSettings(BaseModel):
    """Settings every channel shares; subclasses add their own."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    language: Language = Field("en", description="Language of the default templates.")
    timeout_seconds: float | None = Field(
        None, gt=0, le=60, description="Read timeout; the server default when empty."
    )

    # Stored-secret prefix -> the dict[str, SecretStr] setting it fills.
    secret_maps: ClassVar[dict[str, str]] = {}
    # Plain mapping -> the secret mapping that its credential-looking entries
    # move to when the admin form is saved (receivers.redaction.header_looks_secret).
    credential_moves: ClassVar[dict[str, str]] = {}
    # Settings the admin edits in a text area: templates, several lines long.
    long_text_settings: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def secret_names(cls) -> tuple[str, ...]:
        return tuple(
            name
            for name, field in cls.model_fields.items()
            if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
        )

    @classmethod
    def parse(
        cls, *, config: Mapping[str, Any], secrets: Mapping[str, Any], saving: bool = False
    ) -> Self:
        """Validate a receiver's stored settings, or raise SettingsError.

        `saving` adds the checks that are too slow for every send (a
        template rendered for every check sample): validators read it from
        their ValidationInfo's context.
        """
        secret_names = cls.secret_names()
        errors: dict[str, str] = {}
        for name in config:
            if name in secret_names:
                errors[name] = "is a secret: store it in the receiver's secrets, not its config"
        values = {**config}
        for name, value in secrets.items():
            prefix = next((p for p in cls.secret_maps if name.startswith(p)), None)
            if prefix is not None and len(name) > len(prefix):
                values.setdefault(cls.secret_maps[prefix], {})[name[len(prefix) :]] = value
            elif name in cls.secret_maps.values():
                errors[name] = f"is stored one secret per entry: {_prefix_of(cls, name)}<name>"
            elif name in secret_names:
                values[name] = value
            else:
                errors[name] = "is not a secret of this kind of receiver"
        try:
            settings = cls.model_validate(values, context={"saving": saving})
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                name = ".".join(str(part) for part in error["loc"]) or "settings"
                errors.setdefault(name, _problem(error))
        if errors:
            raise SettingsError(errors)
        return settings

    @classmethod
    def secret_map_name(cls, setting: str, key: str) -> str:
        """The stored secret of one entry of a secret mapping: 'header:X-Api-Key'."""
        return _prefix_of(cls, setting) + key

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""


def _prefix_of(cls: type[ChannelSettings], setting: str) -> str:
    return next(prefix for prefix, name in cls.secret_maps.items() if name == setting)
