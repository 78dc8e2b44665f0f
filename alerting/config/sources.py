"""The configuration file's `sources` section: ingest sources, their secrets as ${ENV_VAR}.

    sources:
      - name: grafana-prod
        kind: grafana
        ingest_key_prefix: hk_AbC1234
        config: {timestamp_header: X-Grafana-Alerting-Timestamp}
        secrets: {hmac_secret: "${GRAFANA_HMAC_SECRET}"}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from django.core.exceptions import ValidationError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerting.config.envrefs import env_resolve
from alerting.fields import encrypted_value_readable
from alerting.models import IngestSource
from alerting.sources.services import ingest_source_check

logger = logging.getLogger(__name__)


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["grafana", "pagerduty_events", "generic_json"]
    ingest_key_prefix: str = Field(min_length=1, max_length=12)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    # ${ENV_VAR} references, resolved when applied.
    secrets: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _settings_hold(self) -> Self:
        try:
            ingest_source_check(
                kind=self.kind, ingest_key_prefix=self.ingest_key_prefix,
                config=self.config, secrets=self.secrets,
            )
        except ValidationError as exc:
            raise ValueError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from None
        return self


def source_env_name(*, source: str, secret: str) -> str:
    """The variable an export names for a source's secret: HERALD_SOURCE_<NAME>_<SECRET>."""
    return re.sub(r"[^A-Z0-9]+", "_", f"HERALD_SOURCE_{source}_{secret}".upper()).strip("_")


def source_specs(*, plain_secrets: bool) -> list[SourceSpec]:
    """The tenant's sources as a file states them (secrets as references unless plain)."""
    specs = []
    for source in IngestSource.objects.order_by("name"):
        if encrypted_value_readable(source, "secrets"):
            stored = source.secrets or {}
        else:
            logger.warning("source %r: secrets cannot be decrypted; exported without", source.name)
            stored = {}
        secrets = {
            name: str(value) if plain_secrets
            else "${" + source_env_name(source=source.name, secret=name) + "}"
            for name, value in sorted(stored.items()) if value not in (None, "")
        }
        specs.append(SourceSpec.model_construct(
            name=source.name, kind=source.kind, ingest_key_prefix=source.ingest_key_prefix,
            enabled=source.enabled, config=dict(source.config or {}), secrets=secrets,
        ))
    return specs


def sources_resolve(*, sources: list[SourceSpec], env: Mapping[str, str]) -> list[SourceSpec]:
    """The specs with their ${ENV_VAR} secrets replaced; raises ValueError naming what is unset."""
    resolved = []
    for spec in sources:
        secrets = {}
        for name, value in spec.secrets.items():
            secrets[name], missing = env_resolve(value, env)
            if missing:
                raise ValueError(
                    f"source {spec.name!r}: {', '.join(missing)} not set in the environment"
                )
        resolved.append(spec.model_copy(update={"secrets": secrets}))
    return resolved


def source_apply(*, spec: SourceSpec) -> None:
    source = IngestSource.objects.filter(name=spec.name).first() or IngestSource(name=spec.name)
    source.kind, source.ingest_key_prefix = spec.kind, spec.ingest_key_prefix
    source.enabled, source.config, source.secrets = spec.enabled, spec.config, spec.secrets
    source.save()


def source_remove(*, name: str) -> None:
    IngestSource.objects.filter(name=name).delete()
