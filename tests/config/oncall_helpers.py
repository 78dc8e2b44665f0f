"""What the on-call configuration tests share: the tenant's members, deploy and export."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection

from tenants.models import TenantMembership
from tests.factories import UserFactory

SAMPLES = Path(__file__).parent / "samples"


def members_of_the_tenant(*usernames: str) -> None:
    """Users of the server who are members of the current tenant (no profile yet)."""
    for username in usernames:
        user = UserFactory(username=username)
        TenantMembership.objects.get_or_create(
            user=user, tenant=connection.tenant, defaults={"role": "member"}
        )


def deploy(path: Path | str, *, dry_run: bool = False) -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("deploy_receivers", str(path), tenant="alpha", dry_run=dry_run,
                     stdout=out, stderr=err)
    except CommandError as exc:
        raise CommandError(f"{exc}\n{err.getvalue()}") from None
    return out.getvalue()


def export() -> str:
    out = StringIO()
    call_command("export_config", tenant="alpha", stdout=out)
    return out.getvalue()
