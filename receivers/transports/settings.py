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
from django.utils.translation import gettext as _
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
        raise ValueError(_("must be an http:// or https:// URL"))
    return value


def _secret_http_url(value: SecretStr) -> SecretStr:
    _http_url(value.get_secret_value())
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError(_("must be an email address")) from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
SecretUrl = Annotated[SecretStr, AfterValidator(_secret_http_url)]
EmailAddress = Annotated[str, AfterValidator(_email)]

def _problem(error: Mapping[str, Any]) -> str:
    """What is wrong with a setting, in the active language: pydantic's common errors are
    Herald's own sentences; a validator's message is already a translated one."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "missing":
        return _("is required")
    if kind == "extra_forbidden":
        return _("is not a setting of this kind of receiver")
    if kind == "string_too_long":
        return _("has at most %(max)s characters") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("has at least %(min)s characters") % {"min": ctx.get("min_length")}
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bounds = {
            "greater_than": _("must be greater than %(limit)s"),
            "greater_than_equal": _("must be at least %(limit)s"),
            "less_than": _("must be less than %(limit)s"),
            "less_than_equal": _("must be at most %(limit)s"),
        }
        limit = next((ctx[key] for key in ("gt", "ge", "lt", "le") if key in ctx), "")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # "at most 60", not "60.0"
        return bounds[kind] % {"limit": limit}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("must be a whole number")
    if kind in ("float_parsing", "float_type"):
        return _("must be a number")
    if kind in ("bool_parsing", "bool_type"):
        return _("must be true or false")
    if kind == "string_type":
        return _("must be text")
    if kind == "literal_error":
        return _("must be one of %(choices)s") % {"choices": ctx.get("expected", "")}
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
                errors[name] = _("is a secret: store it in the receiver's secrets, not its config")
        values = {**config}
        for name, value in secrets.items():
            prefix = next((p for p in cls.secret_maps if name.startswith(p)), None)
            if prefix is not None and len(name) > len(prefix):
                values.setdefault(cls.secret_maps[prefix], {})[name[len(prefix) :]] = value
            elif name in cls.secret_maps.values():
                errors[name] = _("is stored one secret per entry: %(prefix)s<name>") % {
                    "prefix": _prefix_of(cls, name)}
            elif name in secret_names:
                values[name] = value
            else:
                errors[name] = _("is not a secret of this kind of receiver")
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
