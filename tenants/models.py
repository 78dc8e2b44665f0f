"""Shared-schema models: who the tenants are and how their traffic finds them."""

import secrets
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from alerting.fields import EncryptedCharField, EncryptedJSONField

# The interface's languages (settings.LANGUAGES); Person.language offers the same.
LANGUAGE_CHOICES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
LANGUAGE_CODES = tuple(code for code, _name in LANGUAGE_CHOICES)


def _new_signing_key() -> str:
    return secrets.token_urlsafe(32)


class Tenant(TenantMixin):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    allow_private_targets = models.BooleanField(
        _("allow private targets"),
        default=False,
        help_text=_("Allow receivers to send to loopback and private-network addresses."),
    )
    ingest_rate_limit = models.CharField(
        _("ingest rate limit"),
        max_length=50,
        blank=True,
        help_text=_('Ingest requests allowed, e.g. "100/second" or "6000/minute"; '
                    "empty for the server's default."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC",
        help_text=_("For business hours and the admin's dates, e.g. Europe/Berlin."),
    )
    # The admin's language when neither the viewer's profile nor their browser
    # names one of LANGUAGE_CHOICES (tenants.middleware_language).
    default_language = models.CharField(
        _("default language"), max_length=8, choices=LANGUAGE_CHOICES, default="en",
        help_text=_("The admin's language for members whose profile and browser name none "
                    "of Herald's languages."),
    )
    require_two_factor = models.BooleanField(
        _("require two-factor"),
        default=False,
        help_text=_("Members must sign in to this tenant's admin with a TOTP code too "
                    "(they enrol an authenticator app at their next login)."),
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
        _("longest silence"),
        default=timedelta(days=7),
        help_text=_('Silences made through the API must end within this time from now, '
                    'e.g. "7 00:00:00" for 7 days.'),
    )
    # Phone sends stop for the rest of the month once their prices reach this
    # (receivers.delivery.phone_limits); empty: no ceiling.
    phone_monthly_spend_ceiling = models.DecimalField(
        _("monthly phone spend ceiling"),
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("SMS and calls stop for the rest of the month once their prices (each "
                    "phone receiver's price_per_sms and price_per_call) reach this; "
                    "empty: no ceiling."),
    )
    # The database holding the tenant's schema (tenants/databases.py): "default",
    # or an alias of HERALD_TENANT_DATABASES. Set at creation; moved by backup and restore.
    database = models.CharField(
        _("database"), max_length=31, default="default", db_default="default", editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    auto_create_schema = True

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class HashedKey(models.Model):
    """A bearer secret of a tenant; only its SHA-256 is stored.

    Keys are 256-bit random tokens, so a fast hash is as safe as a slow one
    and lets every request be resolved by one indexed lookup.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("prefix"), max_length=12, help_text=_("First characters, to recognise a key.")
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IngestKey(HashedKey):
    """Lets Alertmanager post alerts into the tenant."""

    class Meta:
        verbose_name = _("ingest key")
        verbose_name_plural = _("ingest keys")


class ApiScope(models.TextChoices):
    """What an API token may do; a token holds any set of them, none implies another."""

    READ = "read", _("read (alerts, groups, silences)")
    ACKNOWLEDGE = "acknowledge", _("acknowledge (acknowledge, resolve, silence)")
    WRITE = "write", _("write (configuration: weekly silences)")


def _default_scopes() -> list[str]:
    return [ApiScope.READ]


class ApiToken(HashedKey):
    """Lets a tool use the tenant's API within its scopes, until it expires or is revoked."""

    scopes = ArrayField(
        models.CharField(max_length=16, choices=ApiScope.choices), default=_default_scopes,
        verbose_name=_("scopes"),
    )
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: never.")
    )
    # Updated at most once a minute per token (tenants.services.api_token_mark_used).
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

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
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class Role(models.TextChoices):
    """What a member may do in a tenant's admin; each includes the one below."""

    ADMIN = "admin", _("Admin (everything, incl. members and ingest keys)")
    EDITOR = "editor", _("Editor (configuration and actions)")
    AUDITOR = "auditor", _("Auditor (read-only, no secrets)")


class TenantMembership(models.Model):
    """A user's role in one tenant. Users are shared; the way into a tenant is this."""

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="tenant_memberships",
        verbose_name=_("user"),
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("tenant")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant membership")
        verbose_name_plural = _("tenant memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}: {self.role}"


# The due-work index lives in its own module (issue 22).
from tenants.models_due import DueKind, TenantDueWork  # noqa: E402, F401

# Schemas cloned ahead of time for new tenants (issue 22).
from tenants.models_spare import SpareSchema  # noqa: E402, F401
