"""Admin forms: one per receiver kind, built from that kind's typed settings.

Secrets are write-only: their inputs are never filled in, the saved value is
shown masked beside them, and leaving one empty keeps it. Optional secrets get
a "clear" box, the only way to remove one.

An entry of a plain mapping whose name looks like a credential (a webhook
header; see `receivers.redaction.header_looks_secret`) is moved into the
encrypted mapping that the channel's settings class names for it
(`credential_moves`) when the form is saved; the form's `notes` say which, and
the secret mapping's help text lists them (masked) from then on. What else
differs per channel (which settings are long text) is declared there too.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django import forms
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from receivers.models import MessageTemplate, Receiver
from receivers.redaction import header_looks_secret, secret_mask
from receivers.services import (
    message_template_validate,
    receiver_carrier_check,
    receiver_settings_validate,
)
from receivers.transports import ChannelSettings, settings_class

_CREDENTIAL_HELP = (
    " An entry whose name contains auth, token, secret, key, passw, pwd, cookie,"
    " signature, session or credential is moved to the encrypted {secret_map} when saved."
)
_MAPPING_HELP = (
    ' (JSON: {"Name": "value"}) Write-only: saved values are never shown; a name given'
    " here replaces its saved value, a name with an empty value removes it."
)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated and Optional, and whether None was allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            if len(args) != 1:
                return annotation, optional  # e.g. int | str: edited as text
            annotation = args[0]
        else:
            return annotation, optional


def _form_field(name: str, info: FieldInfo, *, model: type[ChannelSettings]) -> forms.Field:
    """The form field of one setting, as the channel's settings class declares it."""
    annotation, _ = _unwrap(info.annotation)
    secret_map = name in model.secret_maps.values()
    required = info.is_required()
    help_text = info.description or ""
    if secret_map:
        return forms.JSONField(
            required=False,
            initial=None,
            widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
            help_text=help_text + _MAPPING_HELP,
        )
    if name in model.credential_moves:
        help_text += _CREDENTIAL_HELP.format(
            secret_map=model.credential_moves[name].replace("_", " ")
        )
    if annotation is SecretStr:
        return forms.CharField(
            required=False,
            strip=True,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            help_text=help_text + " Write-only: leave empty to keep the saved value.",
        )
    if annotation is bool:
        return forms.BooleanField(required=False, help_text=help_text)
    if annotation is int:
        return forms.IntegerField(required=required, help_text=help_text)
    if annotation is float:
        return forms.FloatField(required=required, help_text=help_text)
    if get_origin(annotation) is Literal:
        choices = [(value, value) for value in get_args(annotation)]
        return forms.ChoiceField(choices=choices, required=required, help_text=help_text)
    if get_origin(annotation) in (list, dict):
        return forms.JSONField(required=False, help_text=help_text + " (JSON)")
    widget = forms.Textarea(attrs={"rows": 8}) if name in model.long_text_settings else None
    return forms.CharField(required=required, widget=widget, help_text=help_text)


class ReceiverFormBase(forms.ModelForm):
    kind: str = ""
    setting_names: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()

    class Meta:
        model = Receiver
        fields = ["name", "enabled", "max_attempts"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.kind = self.kind
        # What the save did that the user did not type (a header moved to secrets).
        self.notes: list[str] = []
        saved = self.instance.secrets if self.instance.pk else {}
        saved = saved if isinstance(saved, dict) else {}
        model = settings_class(self.kind)
        defaults = settings_class(self.kind).model_fields
        for name in self.setting_names:
            if name in self.instance.config:
                self.fields[name].initial = self.instance.config[name]
            elif defaults[name].default not in (None, ...):
                self.fields[name].initial = defaults[name].get_default(call_default_factory=True)
        for name in self.secret_names:
            if name in model.secret_maps.values():
                entries = _saved_entries(model, name, saved)
                if entries:
                    listed = ", ".join(
                        f"{key} {secret_mask(str(value))}" for key, value in entries.items()
                    )
                    self.fields[name].help_text += f" Saved: {listed}"
            elif saved.get(name):
                self.fields[name].help_text += f" Saved: {secret_mask(str(saved[name]))}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        model = settings_class(self.kind)
        model_fields = model.model_fields
        maps = set(model.secret_maps.values())
        config: dict[str, Any] = {}
        for name in self.setting_names:
            value = cleaned.get(name)
            default = model_fields[name].get_default(call_default_factory=True)
            if value not in (None, "") and value != default:
                config[name] = value
        secrets = {
            name: cleaned[name]
            for name in self.secret_names
            if cleaned.get(name) and name not in maps
        }
        cleared = [name for name in self.secret_names if cleaned.get(f"clear_{name}")]
        saved = dict(self.instance.secrets) if self.instance.pk else {}
        saved = saved if isinstance(saved, dict) else {}
        for setting in maps:
            if setting in cleared:
                cleared.remove(setting)
                cleared += [
                    model.secret_map_name(setting, key)
                    for key in _saved_entries(model, setting, saved)
                ]
            entries = cleaned.get(setting) or {}
            if not isinstance(entries, dict) or not all(
                isinstance(value, str | None) for value in entries.values()
            ):
                self.add_error(setting, "must be a JSON object of names and text values")
                continue
            _secret_map_put(model, setting, entries, saved=saved, secrets=secrets, cleared=cleared)
        for plain, setting in model.credential_moves.items():
            if plain in config and setting in maps:
                self._move_credentials(model, plain, setting, config, saved, secrets, cleared)
        for name in cleared:
            saved.pop(name, None)
        try:
            receiver_settings_validate(kind=self.kind, config=config, secrets={**saved, **secrets})
        except forms.ValidationError as exc:
            for name, messages in exc.message_dict.items():
                field = name.split(".")[0]
                self.add_error(field if field in self.fields else None, messages)
        if self.instance.carries_pages and not self.errors:
            self._carrier_check(config=config, name=cleaned.get("name") or self.instance.name)
        self.settings_config, self.settings_secrets = config, secrets
        self.cleared_secrets = tuple(cleared)
        return cleaned

    def _carrier_check(self, *, config: dict[str, Any], name: str) -> None:
        """A carrier's new prefixes (or none: the default) must not clash with another's."""
        try:
            receiver_carrier_check(receiver=Receiver(
                pk=self.instance.pk, name=name, kind=self.kind, config=config,
                carries_pages=True,
            ))
        except forms.ValidationError as exc:
            field = "country_prefixes" if "country_prefixes" in self.fields else None
            self.add_error(field, exc.messages)

    def _move_credentials(self, model, plain, setting, config, saved, secrets, cleared) -> None:
        """Credential-looking entries of a plain mapping go to its secret mapping."""
        moved = {key: value for key, value in config[plain].items() if header_looks_secret(key)}
        if not moved:
            return
        kept = {key: value for key, value in config[plain].items() if key not in moved}
        if kept:
            config[plain] = kept
        else:
            del config[plain]
        _secret_map_put(model, setting, moved, saved=saved, secrets=secrets, cleared=cleared)
        names = ", ".join(sorted(moved))
        self.notes.append(
            f"{names}: moved from {plain} to the encrypted {setting.replace('_', ' ')}, "
            "as the name looks like a credential; the value is no longer shown."
        )
        self.fields[setting].help_text += f" Moved here on this save: {names}."


def _saved_entries(model, setting: str, saved: dict[str, Any]) -> dict[str, Any]:
    """The saved entries of a secret mapping, by key ('X-Api-Key': value)."""
    prefix = model.secret_map_name(setting, "")
    return {
        name[len(prefix) :]: value
        for name, value in saved.items()
        if name.startswith(prefix) and len(name) > len(prefix)
    }


def _secret_map_put(model, setting, entries, *, saved, secrets, cleared) -> None:
    """Store entries of a secret mapping; an empty value removes one.

    Header names are case-insensitive: a new spelling replaces the saved one.
    """
    for key, value in entries.items():
        for old in _saved_entries(model, setting, {**saved, **secrets}):
            if old.lower() == key.lower() and old != key:
                cleared.append(model.secret_map_name(setting, old))
                secrets.pop(model.secret_map_name(setting, old), None)
        name = model.secret_map_name(setting, key)
        if value:
            secrets[name] = value
        else:
            cleared.append(name)


def receiver_form_class(kind: str) -> type[ReceiverFormBase]:
    """The admin form for one kind of receiver: only that kind's settings."""
    model = settings_class(kind)
    secret_names = model.secret_names()
    attrs: dict[str, Any] = {
        "kind": kind,
        "secret_names": secret_names,
        "setting_names": tuple(name for name in model.model_fields if name not in secret_names),
    }
    for name, info in model.model_fields.items():
        attrs[name] = _form_field(name, info, model=model)
        if name in secret_names and not info.is_required():
            attrs[f"clear_{name}"] = forms.BooleanField(
                required=False, label=f"Clear {name}", help_text="Remove the saved value."
            )
    return type(f"{kind.title()}ReceiverForm", (ReceiverFormBase,), attrs)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["channel", "language", "part", "source"]
        widgets = {"source": forms.Textarea(attrs={"rows": 16, "cols": 100})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if all(cleaned.get(name) for name in ("channel", "part", "source")):
            try:
                message_template_validate(
                    channel=cleaned["channel"], part=cleaned["part"], source=cleaned["source"]
                )
            except forms.ValidationError as exc:
                self.add_error("source", exc.message_dict["source"])
        return cleaned
