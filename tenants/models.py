"""Shared-schema models: who the tenants are and how their traffic finds them."""

import secrets
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin

from alerting.fields import EncryptedCharField, EncryptedJSONField


def _new_signing_key() -> str:
    return secrets.token_urlsafe(32)


class Tenant(TenantMixin):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    allow_private_targets = models.BooleanField(
        default=False,
        help_text="Allow receivers to send to loopback and private-network addresses.",
    )
    ingest_rate_limit = models.CharField(
        max_length=50,
        blank=True,
        help_text='Ingest requests allowed, e.g. "100/second" or "6000/minute"; '
        "empty for the server's default.",
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="For business hours, e.g. Europe/Berlin."
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members must sign in to this tenant's admin with a TOTP code too "
        "(they enrol an authenticator app at their next login).",
    )
    # Signs the action links in notifications; encrypted, never shown. Rotated
    # by `manage.py rotate_link_keys` (tenants.link_keys).
    link_signing_key = EncryptedCharField(
        max_length=200, default=_new_signing_key, editable=False
    )
    # Keys a rotation replaced, with when ([{"key", "retired_at"}]): they still
    # verify links for HERALD_LINK_KEY_GRACE_SECONDS, then are refused.
    link_signing_keys_retired = EncryptedJSONField(default=list, blank=True, editable=False)
    # Bounds what an API token may silence (alerting/silence_limits.py).
    silence_max_duration = models.DurationField(
        default=timedelta(days=7),
        help_text='Silences made through the API must end within this time from now, '
        'e.g. "7 00:00:00" for 7 days.',
    )
    # Phone sends stop for the rest of the month once their prices reach this
    # (receivers.delivery.phone_limits); empty: no ceiling.
    phone_monthly_spend_ceiling = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text="SMS and calls stop for the rest of the month once their prices (each "
        "phone receiver's price_per_sms and price_per_call) reach this; empty: no ceiling.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


class HashedKey(models.Model):
    """A bearer secret of a tenant; only its SHA-256 is stored.

    Keys are 256-bit random tokens, so a fast hash is as safe as a slow one
    and lets every request be resolved by one indexed lookup.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IngestKey(HashedKey):
    """Lets Alertmanager post alerts into the tenant."""


class ApiScope(models.TextChoices):
    """What an API token may do; a token holds any set of them, none implies another."""

    READ = "read", "read (alerts, groups, silences)"
    ACKNOWLEDGE = "acknowledge", "acknowledge (acknowledge, resolve, silence)"
    WRITE = "write", "write (configuration: weekly silences)"


def _default_scopes() -> list[str]:
    return [ApiScope.READ]


class ApiToken(HashedKey):
    """Lets a tool use the tenant's API within its scopes, until it expires or is revoked."""

    scopes = ArrayField(
        models.CharField(max_length=16, choices=ApiScope.choices), default=_default_scopes
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    # Updated at most once a minute per token (tenants.services.api_token_mark_used).
    last_used_at = models.DateTimeField(null=True, blank=True)

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def actor(self) -> str:
        """How the audit trail and the records it acts on name this token."""
        return f"token:{self.name} ({self.prefix}…)"


class TenantApiToken(ApiToken):
    """The tenant admin's view of its own API tokens (same table)."""

    class Meta:
        proxy = True
        verbose_name = "API token"


class Role(models.TextChoices):
    """What a member may do in a tenant's admin; each includes the one below."""

    ADMIN = "admin", "Admin (everything, incl. members and ingest keys)"
    EDITOR = "editor", "Editor (configuration and actions)"
    AUDITOR = "auditor", "Auditor (read-only, no secrets)"


class TenantMembership(models.Model):
    """A user's role in one tenant. Users are shared; the way into a tenant is this."""

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="tenant_memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}: {self.role}"
