"""The demo tenant `make run` sets up, so a newcomer sees one alert delivered."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django_tenants.utils import tenant_context

from receivers.models import Receiver
from receivers.services import receiver_create, receiver_secret_set
from tenants.models import IngestKey, Tenant
from tenants.services import ingest_key_create, key_digest, tenant_create

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin"


@dataclass(frozen=True)
class DemoSetup:
    domain: str
    ingest_key: str
    admin_username: str
    admin_password: str


def _kept(name: str) -> str | None:
    path = Path(settings.VAR_DIR) / name
    return path.read_text().strip() if path.exists() else None


def _keep(name: str, value: str) -> None:
    path = Path(settings.VAR_DIR) / name
    path.write_text(value)
    path.chmod(0o600)


def demo_ensure(*, domain: str, sink_url: str) -> DemoSetup:
    """Create (or find again) the demo tenant, its key, receiver and admin login.

    The key and password are kept under `.var/` so every run prints the same.
    """
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first() or tenant_create(
        slug=DEMO_SLUG, name="Demo", domain=domain, allow_private_targets=True
    )

    key = _kept("demo_ingest_key")
    if not key or not IngestKey.objects.filter(key_hash=key_digest(key=key)).exists():
        _, key = ingest_key_create(tenant=tenant, name="demo")
        _keep("demo_ingest_key", key)

    password = _kept("demo_admin_password")
    user = User.objects.filter(username=DEMO_ADMIN).first()
    if user is None or not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user = user or User(username=DEMO_ADMIN, is_staff=True, is_superuser=True)
        user.set_password(password)
        user.save()
        _keep("demo_admin_password", password)

    with tenant_context(tenant):
        receiver = Receiver.objects.filter(name="demo-sink").first()
        if receiver is None:
            receiver_create(name="demo-sink", kind="webhook", secrets={"url": sink_url})
        elif receiver.secrets.get("url") != sink_url:
            receiver_secret_set(receiver=receiver, name="url", value=sink_url)

    return DemoSetup(
        domain=domain, ingest_key=key, admin_username=DEMO_ADMIN, admin_password=password
    )
