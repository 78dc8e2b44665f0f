"""People who get paged: a tenant member's profile, contact methods and notification rules.

A person is a member of the tenant (tenants.TenantMembership) with a profile
in the tenant's own schema. The user lives in the shared schema, so the link
is by id without a database constraint: a user removed from the server
leaves the person's history behind, and paging checks membership each time.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerting.fields import EncryptedCharField
from receivers.models import Language
from receivers.transports.registry import contact_kind_choices


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class Person(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text=_("The member of this tenant this profile belongs to."),
    )
    display_name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC", help_text=_("e.g. Europe/Berlin."))
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    # The secret of the person's own on-call iCal URL (escalation.models.schedules).
    calendar_token = EncryptedCharField(
        max_length=200, default=new_calendar_token, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name


class ContactMethod(models.Model):
    """One way to reach a person: a kind (a channel that carries pages) and an address.

    Never paged before `verified_at` is set (email: the confirmation link; a
    phone number: the code sent to it).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_methods")
    # The channels that declare a contact kind, read at each use, as Receiver.kind.
    kind = models.CharField(max_length=32, choices=contact_kind_choices)
    address = models.CharField(max_length=320)
    label = models.CharField(max_length=100, blank=True, help_text='e.g. "work", "personal".')
    # Set by a configuration file whose address was an ${ENV_VAR} reference: an
    # export writes the reference back, never the address it stood for.
    address_reference = models.CharField(max_length=320, blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    # A phone number's code (escalation.people.codes): only its keyed hash is
    # kept, until it expires or is used up by wrong attempts.
    verification_code_hash = models.CharField(max_length=64, blank=True, default="",
                                              db_default="", editable=False)
    verification_code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_attempts = models.PositiveSmallIntegerField(default=0, db_default=0,
                                                             editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        ordering = ["person", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "address"], name="one_contact_method_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class NotificationRule(models.Model):
    """'When paged: email at once, SMS after 5 minutes if not acknowledged.'"""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.CASCADE, related_name="notification_rules"
    )
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text=_("Minutes after the page starts, if nobody acknowledged by then.")
    )

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["person", "delay_minutes", "id"]

    def __str__(self) -> str:
        return f"{self.contact_method} after {self.delay_minutes} min"


class TeamRole(models.TextChoices):
    MEMBER = "member"
    LEAD = "lead"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams",
        help_text=_("Started for alerts of routes that target this team."),
    )
    members = models.ManyToManyField(Person, through="TeamMember", related_name="teams")
    # Round robin ("the next person of the team in turn"): the position paged
    # last, advanced under the team's row lock.
    round_robin_last = models.IntegerField(default=-1, editable=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=8, choices=TeamRole.choices, default=TeamRole.MEMBER)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order for round robin."))

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "person"], name="one_membership_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.team} ({self.role})"


__all__ = [
    "ContactMethod",
    "NotificationRule",
    "Person",
    "Team",
    "TeamMember",
    "TeamRole",
]
