"""Alerts and alert groups, in each tenant's own schema."""

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerting import flapping
from alerting.fields import EncryptedJSONField, PlainJSONField
from receivers.severity import severity_rank


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("firing")
    RESOLVED = "resolved", _("resolved")


class AlertGroup(models.Model):
    """One Alertmanager group (its groupKey), with its latest known state."""

    group_key = models.TextField(unique=True, verbose_name=_("group key"))
    receiver = models.CharField(
        max_length=255, help_text=_("Alertmanager receiver name."),
        verbose_name=_("receiver"),
    )
    status = models.CharField(max_length=16, choices=AlertStatus.choices, verbose_name=_("status"))
    group_labels = models.JSONField(default=dict, verbose_name=_("group labels"))
    common_labels = models.JSONField(default=dict, verbose_name=_("common labels"))
    common_annotations = models.JSONField(default=dict, verbose_name=_("common annotations"))
    external_url = models.TextField(blank=True, verbose_name=_("external url"))
    firing_count = models.PositiveIntegerField(default=0, verbose_name=_("firing count"))
    resolved_count = models.PositiveIntegerField(default=0, verbose_name=_("resolved count"))
    truncated_alerts = models.PositiveIntegerField(default=0, verbose_name=_("truncated alerts"))
    first_seen_at = models.DateTimeField(verbose_name=_("first seen at"))
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"))
    # Counts the group's incidents: firing again after a resolve starts the
    # next one. An action link names the incident it was sent for, so it
    # cannot act on a later one (escalation.links).
    incident = models.PositiveIntegerField(default=1, db_default=1, verbose_name=_("incident"))
    last_payload = PlainJSONField(
        help_text=_("The last webhook body as received, kept for the audit trail."),
        verbose_name=_("last payload"),
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledged_by = models.CharField(
        max_length=200, blank=True, db_default="",
        verbose_name=_("acknowledged by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.CharField(
        max_length=200,
        blank=True,
        db_default="",
        help_text=_("Who resolved it by hand; empty when Alertmanager did."),
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")
        indexes = [models.Index(fields=["status", "-last_seen_at"])]

    def __str__(self) -> str:
        return self.group_key


class Alert(models.Model):
    """One alert, upserted by fingerprint.

    The previous status and startsAt are kept by the upsert itself so that
    ingest can tell, race-free, whether this request changed the alert's state.
    """

    fingerprint = models.CharField(max_length=64, unique=True, verbose_name=_("fingerprint"))
    group = models.ForeignKey(
        AlertGroup, on_delete=models.CASCADE, related_name="alerts",
        verbose_name=_("group"),
    )
    status = models.CharField(max_length=16, choices=AlertStatus.choices, verbose_name=_("status"))
    labels = models.JSONField(default=dict, verbose_name=_("labels"))
    annotations = models.JSONField(default=dict, verbose_name=_("annotations"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ends at"))
    generator_url = models.TextField(blank=True, verbose_name=_("generator url"))
    suppressed = models.BooleanField(
        default=False, db_default=False,
        help_text=_("Firing, but a silence held its notification back; notified when it ends."),
        verbose_name=_("suppressed"),
    )
    silenced_by = models.ForeignKey(
        "alerting.Silence",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="silenced_alerts",
        help_text=_("The silence that suppressed this alert's last notification."),
        verbose_name=_("silenced by"),
    )
    previous_status = models.CharField(max_length=16, blank=True, verbose_name=_("previous status"))
    previous_starts_at = models.DateTimeField(
        null=True, blank=True,
        verbose_name=_("previous starts at"),
    )
    first_seen_at = models.DateTimeField(verbose_name=_("first seen at"))
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"))
    # --- flapping (H4: alerting.flapping, alerting.noise) ---
    flapping = models.BooleanField(
        _("flapping"), default=False, db_default=False,
        help_text=_("Changed state more often than its route allows within the route's window."),
    )
    flapping_since = models.DateTimeField(_("flapping since"), null=True, blank=True)
    # Its last state changes (epoch seconds), at most the threshold + 1.
    flap_changes = models.JSONField(
        default=list, db_default=models.Value([], output_field=models.JSONField())
    )
    flap_held = models.PositiveIntegerField(
        _("changes held"), default=0, db_default=0,
        help_text=_("State changes whose notifications wait for the flapping summary."),
    )
    flap_held_since = models.DateTimeField(null=True, blank=True)
    # Receivers whose notifications were held: the summary goes to them.
    flap_receivers = models.JSONField(
        default=list, db_default=models.Value([], output_field=models.JSONField())
    )
    # --- end flapping ---

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["status", "-last_seen_at"]),
            models.Index(fields=["-starts_at"]),
            GinIndex(fields=["labels"], opclasses=["jsonb_path_ops"], name="alert_labels_gin"),
            # noise control's tick (H4): the few alerts flapping or holding changes
            models.Index(fields=["id"], name="alert_flapping_or_held",
                         condition=models.Q(flapping=True) | models.Q(flap_held__gt=0)),
        ]

    def __str__(self) -> str:
        return self.labels.get("alertname", self.fingerprint)


class Severity(models.IntegerChoices):
    """A route's minimum: the vocabulary's ranks; "any" (0) takes alerts without a severity too."""

    NONE = severity_rank("none"), _("any")
    INFO = severity_rank("info"), _("info")
    WARNING = severity_rank("warning"), _("warning")
    ERROR = severity_rank("error"), _("error")
    CRITICAL = severity_rank("critical"), _("critical")


class Route(models.Model):
    """Who hears about which alerts: a tree, walked as Alertmanager walks its routes.

    Top-level routes (no parent) are tried in order; a route whose matchers
    and minimum severity fit an alert tries its children in order, and is
    itself the match when none of them matched. Among siblings the first
    match ends the search unless it says `continue_matching`. The default
    routes take what no top-level route took. alerting.routing has the rules.
    """

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        # A subtree only ever matches inside its parent: it goes with it.
        on_delete=models.CASCADE,
        related_name="children",
        help_text=_("Tried only for alerts this route matches, before it; empty: top level."),
        verbose_name=_("parent"),
    )
    position = models.PositiveIntegerField(
        default=0, db_index=True, help_text=_("Order among the routes of the same parent."),
        verbose_name=_("position"),
    )
    matchers = models.TextField(
        blank=True, help_text=_('Alertmanager matchers: severity="critical", team=~"db|web"'),
        verbose_name=_("matchers"),
    )
    min_severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, default=Severity.NONE, verbose_name=_("min severity")
    )
    continue_matching = models.BooleanField(
        default=False, help_text=_("Also try the routes after this one (of the same parent)."),
        verbose_name=_("continue matching"),
    )
    is_default = models.BooleanField(
        default=False, help_text=_("Takes the alerts that no top-level route matched."),
        verbose_name=_("default route"),
    )
    receivers = models.ManyToManyField(
        "receivers.Receiver", blank=True, related_name="routes", verbose_name=_("receivers")
    )
    inherit_receivers = models.BooleanField(
        default=True,
        help_text=_("With no receivers of its own, a nested route notifies its parent's; "
                    "off: nobody (an Alertmanager receiver without integrations)."),
        verbose_name=_("inherit receivers"),
    )
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text=_("Started when this route is a match (not inherited by nested routes)."),
        verbose_name=_("escalation policy"),
    )
    team = models.ForeignKey(
        "escalation.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text=_("Pages this team by its escalation policy, when the route names no policy."),
        verbose_name=_("team"),
    )
    # --- flapping (H4: alerting.flapping; defaults in docs/noise-control.md) ---
    flap_threshold = models.PositiveSmallIntegerField(
        _("flap threshold"),
        default=flapping.DEFAULT_THRESHOLD, db_default=flapping.DEFAULT_THRESHOLD,
        validators=[MinValueValidator(2), MaxValueValidator(flapping.MAX_THRESHOLD)],
        help_text=_("An alert that changes state more often than this within the window "
                    "is flapping."),
    )
    flap_window = models.PositiveIntegerField(
        _("flap window (seconds)"),
        default=flapping.DEFAULT_WINDOW_SECONDS, db_default=flapping.DEFAULT_WINDOW_SECONDS,
        validators=[MinValueValidator(flapping.MIN_WINDOW_SECONDS),
                    MaxValueValidator(flapping.MAX_WINDOW_SECONDS)],
    )
    flap_hold = models.BooleanField(
        _("hold flapping alerts"), default=False, db_default=False,
        help_text=_("While an alert flaps, hold its notifications and send one summary "
                    "per window instead."),
    )
    # --- end flapping ---

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="route_not_its_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SilenceKind(models.TextChoices):
    ONCE = "once", _("Once (from start to end)")
    WEEKLY = "weekly", _("Every week (maintenance window)")


class Silence(models.Model):
    """Alerts matching it are stored but nobody is notified while it is active."""

    matchers = models.TextField(
        help_text=_('Alertmanager matchers: instance=~"db-.*"'),
        verbose_name=_("matchers"),
    )
    kind = models.CharField(
        max_length=8, choices=SilenceKind.choices, default=SilenceKind.ONCE,
        verbose_name=_("kind"),
    )
    starts_at = models.DateTimeField(null=True, blank=True, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ends at"))
    weekdays = models.JSONField(
        default=list, blank=True, help_text=_("Weekly windows: 0 = Monday … 6 = Sunday."),
        verbose_name=_("weekdays"),
    )
    window_start = models.TimeField(null=True, blank=True, verbose_name=_("window start"))
    window_end = models.TimeField(
        null=True, blank=True, help_text=_("Before the start: the window runs past midnight."),
        verbose_name=_("window end"),
    )
    time_zone = models.CharField(max_length=64, default="UTC", verbose_name=_("time zone"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    created_by = models.CharField(max_length=200, blank=True, verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("silence")
        verbose_name_plural = _("silences")

    def __str__(self) -> str:
        return f"{self.matchers} ({self.get_kind_display()})"


class IngestSourceKind(models.TextChoices):
    GRAFANA = "grafana", _("Grafana Alerting webhook")
    PAGERDUTY_EVENTS = "pagerduty_events", _("PagerDuty Events API v2")
    GENERIC_JSON = "generic_json", _("Generic JSON")


class IngestSource(models.Model):
    """A sender other than Alertmanager, bound to one of the tenant's ingest keys.

    The binding is by the key's prefix (tenants.IngestKey.prefix, its first
    ten characters, shown in the admin): the key itself lives in the shared
    schema and only its hash is stored, so the request's key, once
    authenticated, finds its source by `key[:10]` and the endpoint's kind.
    """

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(max_length=32, choices=IngestSourceKind.choices, verbose_name=_("kind"))
    ingest_key_prefix = models.CharField(
        max_length=12,
        help_text=_("The prefix of the ingest key this source posts with (e.g. hk_AbC1234)."),
        verbose_name=_("ingest key prefix"),
    )
    config = models.JSONField(
        default=dict, blank=True, help_text=_("Settings of the source's kind; nothing secret."),
        verbose_name=_("config"),
    )
    secrets = EncryptedJSONField(
        default=dict, blank=True,
        help_text=_("Secrets of the source's kind (Grafana's HMAC secret)."),
        verbose_name=_("secrets"),
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ingest source")
        verbose_name_plural = _("ingest sources")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ingest_key_prefix", "kind"], name="ingest_source_one_per_key_and_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


# Noise control's rates and baselines (H4: alerting.storms), in a module of their own.
from alerting.noise_models import NoiseRate, NoiseSeason  # noqa: E402, F401
