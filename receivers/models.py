"""Receivers and the record of every notification sent to them."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerting.fields import EncryptedJSONField, PlainJSONField
from alerting.models import AlertGroup, AlertStatus
from receivers.transports.registry import channel_choices, templated_channel_choices


class Language(models.TextChoices):
    EN = "en", "English"
    FR = "fr", "Français"
    DE = "de", "Deutsch"


class Receiver(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # The registered channels, read at each use (the migration names the function,
    # not the list): a new channel module needs no migration of receivers.
    kind = models.CharField(max_length=32, choices=channel_choices)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(
        default=dict, blank=True, help_text=_("Settings that are not secret.")
    )
    # URLs, tokens and keys: Fernet-encrypted at rest, never shown back once saved.
    secrets = EncryptedJSONField(default=dict, blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=6)
    max_age_seconds = models.PositiveIntegerField(
        default=6 * 3600, help_text=_("Give up retrying a notification this old.")
    )
    rate_limit = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Messages allowed, e.g. '30/minute'; empty uses HERALD_RECEIVER_RATE_LIMIT. "
        "Notifications over it are folded into one digest."),
    )
    fallback = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fallback_for",
        help_text=_("Gets the notification when this receiver's circuit is open or it failed."),
    )
    carries_pages = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("Carries pages to people's contact methods of this channel: "
        "the person's address replaces the receiver's own. Several may carry one "
        "kind (phone numbers: by their settings' country_prefixes, one default)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # No constraint here: which carriers may share a contact kind depends on their
    # settings (receivers.carriers.carrier_conflicts, checked by receiver_save).

    class Meta:
        verbose_name = _("receiver")
        verbose_name_plural = _("receivers")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class NotificationState(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    # Final states whose alerts travel in another notification (`folded_into`):
    FOLDED = "folded", "Folded into a digest (rate limit)"
    MERGED = "merged", "Merged into one message (grouping window)"
    # Final: this receiver could not take it; `failovers` holds the copy for the fallback.
    FAILED_OVER = "failed_over", "Sent through the fallback receiver"
    # Final: a phone page over the person's limit (receivers.delivery.phone_limits),
    # counted in the one summary SMS instead.
    HELD = "held", "Held: over the person's phone limit (in the summary SMS)"


FINAL_STATES = frozenset(
    {
        NotificationState.DELIVERED,
        NotificationState.FAILED,
        NotificationState.FOLDED,
        NotificationState.MERGED,
        NotificationState.FAILED_OVER,
        NotificationState.HELD,
    }
)


class Notification(models.Model):
    """What Herald owes (or owed) one receiver about one alert group.

    Written in the ingest transaction (the outbox); the delivery task works it
    off. Receiver name and channel are copied so history survives a deletion.
    """

    receiver = models.ForeignKey(
        Receiver, null=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    receiver_name = models.CharField(max_length=100)
    channel = models.CharField(max_length=32)
    alert_group = models.ForeignKey(
        AlertGroup, on_delete=models.PROTECT, related_name="notifications"
    )
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    alerts = PlainJSONField(help_text=_("The alerts as notified (Alertmanager's shape)."))
    acknowledgement = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("Tells the channel that someone acknowledged (PagerDuty, Opsgenie)."),
    )
    state = models.CharField(
        max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    is_digest = models.BooleanField(
        default=False, help_text=_("Carries the alerts of notifications over the rate limit.")
    )
    folded_count = models.PositiveIntegerField(
        default=0, help_text=_("Notifications folded or merged into this one.")
    )
    folded_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="folded",
        help_text=_("The digest or grouped message that carried this notification's alerts."),
    )
    failover_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="failovers",
        help_text=_("The notification whose receiver could not take it."),
    )
    # A page to a person: sent through the receiver that carries its channel's
    # pages, to the contact method's address; never grouped, folded or failed over.
    page = models.ForeignKey(
        "escalation.Page", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    contact_method = models.ForeignKey(
        "escalation.ContactMethod", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    recipient_address = models.CharField(
        max_length=320, blank=True, default="", db_default="",
        help_text=_("The person's address, as paged."),
    )
    # The contact method's kind as paged (a phone number's "sms" or "voice"): a carrier that
    # carries several kinds (a phone provider) sends it as that kind.
    contact_kind = models.CharField(max_length=32, blank=True, default="", db_default="")
    # The incident of the group it was about (AlertGroup.incident when written):
    # a chat message's thread is per incident, a re-fire opens a new one.
    incident = models.PositiveIntegerField(null=True, blank=True)
    # What the vendor called the message it made ({"channel": ..., "ts": ...} on
    # Slack), recorded on delivery, so later messages can edit or thread under it.
    vendor_ref = models.JSONField(null=True, blank=True)
    # For an update to pass on (acknowledgement=True): what changed, for channels
    # that update their message in place ("acknowledged", "unacknowledged").
    group_update = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["receiver", "alert_group", "state"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.status} → {self.receiver_name} ({self.state})"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed for good"


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    retry_in_seconds = models.FloatField(
        null=True, blank=True, help_text=_("The backoff chosen after this attempt.")
    )
    # What the provider reported later about what this attempt sent (Twilio's
    # status callback: "delivered", "undelivered", "no-answer", ...).
    provider_status = models.CharField(max_length=32, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["notification", "number"]
        indexes = [models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class CircuitState(models.TextChoices):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open", "Half-open"


class ReceiverCircuit(models.Model):
    """A receiver's circuit breaker, shared by every worker through this row.

    Transitions happen under the row's lock (see receivers.delivery.circuit), so one
    worker at a time probes a half-open circuit.
    """

    receiver = models.OneToOneField(
        Receiver, primary_key=True, on_delete=models.CASCADE, related_name="circuit"
    )
    state = models.CharField(
        max_length=16, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    probe_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("receiver circuit breaker")
        verbose_name_plural = _("receiver circuit breakers")

    def __str__(self) -> str:
        return f"{self.receiver_id}: {self.state}"


class MessageTemplate(models.Model):
    """A tenant's override of one part of a channel's message, in one language.

    Checked on save by `message_template_save` (sandbox, syntax, a sample
    render); the default on disk applies where no override exists.
    """

    # Only channels rendered from parts can have a part overridden (not the webhook).
    channel = models.CharField(max_length=32, choices=templated_channel_choices)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    part = models.CharField(max_length=32, help_text=_("title, body, subject, text, html, …"))
    source = models.TextField(help_text=_("Jinja2, rendered in the sandbox."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "language", "part"], name="one_template_per_part"
            )
        ]
        ordering = ["channel", "language", "part"]

    def __str__(self) -> str:
        return f"{self.channel}/{self.language}/{self.part}"


class PhoneSend(models.Model):
    """One SMS or call Herald let through to a provider: the per-number limit counts
    these, and the month's spend adds up their prices (receivers.delivery.phone_limits)."""

    contact_method = models.ForeignKey(
        "escalation.ContactMethod", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(max_length=32)
    contact_kind = models.CharField(max_length=8)  # "sms" or "voice"
    receiver = models.ForeignKey(Receiver, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    notification = models.ForeignKey(Notification, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # Counted against the person's limit (a first attempt of a page), or not
    # (a retry, the summary SMS, a verification code).
    counted = models.BooleanField(default=True)
    # What it was: "page", "summary" (the held pages' SMS) or "code" (a number's
    # verification code, at most a few a day).
    purpose = models.CharField(max_length=8, default="page", db_default="page")
    price = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("phone send")
        verbose_name_plural = _("phone sends")
        indexes = [models.Index(fields=["contact_method", "contact_kind", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.contact_kind} to {self.address} at {self.sent_at:%Y-%m-%d %H:%M}"


class PhoneSpend(models.Model):
    """What the tenant's phone sends cost in one month (the first day names it)."""

    month = models.DateField(unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    sms_count = models.PositiveIntegerField(default=0)
    call_count = models.PositiveIntegerField(default=0)
    # Sends refused because the month's ceiling was reached, and the first time.
    stopped_count = models.PositiveIntegerField(default=0)
    stopped_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("phone spend of a month")
        verbose_name_plural = _("phone spend by month")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.amount}"


class PhoneSummary(models.Model):
    """The one SMS that tells a person how many pages their limit held back."""

    contact_method = models.ForeignKey("escalation.ContactMethod", on_delete=models.CASCADE,
                                       related_name="+")
    address = models.CharField(max_length=32)
    held_count = models.PositiveIntegerField(default=0)
    first_held_at = models.DateTimeField()
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("phone summary")
        verbose_name_plural = _("phone summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["contact_method"], condition=models.Q(sent_at__isnull=True),
                name="one_pending_phone_summary",
            )
        ]

    def __str__(self) -> str:
        return f"summary of {self.held_count} held pages to {self.address}"
