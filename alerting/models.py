"""Alerts and alert groups, in each tenant's own schema."""

from django.contrib.postgres.indexes import GinIndex
from django.db import models

from alerting.fields import EncryptedJSONField, PlainJSONField
from receivers.severity import severity_rank


class AlertStatus(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertGroup(models.Model):
    """One Alertmanager group (its groupKey), with its latest known state."""

    group_key = models.TextField(unique=True)
    receiver = models.CharField(max_length=255, help_text="Alertmanager receiver name.")
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    group_labels = models.JSONField(default=dict)
    common_labels = models.JSONField(default=dict)
    common_annotations = models.JSONField(default=dict)
    external_url = models.TextField(blank=True)
    firing_count = models.PositiveIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    truncated_alerts = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Counts the group's incidents: firing again after a resolve starts the
    # next one. An action link names the incident it was sent for, so it
    # cannot act on a later one (escalation.links).
    incident = models.PositiveIntegerField(default=1, db_default=1)
    last_payload = PlainJSONField(
        help_text="The last webhook body as received, kept for the audit trail."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True, db_default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(
        max_length=200,
        blank=True,
        db_default="",
        help_text="Who resolved it by hand; empty when Alertmanager did.",
    )

    class Meta:
        indexes = [models.Index(fields=["status", "-last_seen_at"])]

    def __str__(self) -> str:
        return self.group_key


class Alert(models.Model):
    """One alert, upserted by fingerprint.

    The previous status and startsAt are kept by the upsert itself so that
    ingest can tell, race-free, whether this request changed the alert's state.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=16, choices=AlertStatus.choices)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    generator_url = models.TextField(blank=True)
    suppressed = models.BooleanField(
        default=False, db_default=False,
        help_text="Firing, but a silence held its notification back; notified when it ends.",
    )
    silenced_by = models.ForeignKey(
        "alerting.Silence",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="silenced_alerts",
        help_text="The silence that suppressed this alert's last notification.",
    )
    previous_status = models.CharField(max_length=16, blank=True)
    previous_starts_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "-last_seen_at"]),
            models.Index(fields=["-starts_at"]),
            GinIndex(fields=["labels"], opclasses=["jsonb_path_ops"], name="alert_labels_gin"),
        ]

    def __str__(self) -> str:
        return self.labels.get("alertname", self.fingerprint)


class Severity(models.IntegerChoices):
    """A route's minimum: the vocabulary's ranks; "any" (0) takes alerts without a severity too."""

    NONE = severity_rank("none"), "any"
    INFO = severity_rank("info"), "info"
    WARNING = severity_rank("warning"), "warning"
    ERROR = severity_rank("error"), "error"
    CRITICAL = severity_rank("critical"), "critical"


class Route(models.Model):
    """Who hears about which alerts: a tree, walked as Alertmanager walks its routes.

    Top-level routes (no parent) are tried in order; a route whose matchers
    and minimum severity fit an alert tries its children in order, and is
    itself the match when none of them matched. Among siblings the first
    match ends the search unless it says `continue_matching`. The default
    routes take what no top-level route took. alerting.routing has the rules.
    """

    name = models.CharField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        # A subtree only ever matches inside its parent: it goes with it.
        on_delete=models.CASCADE,
        related_name="children",
        help_text="Tried only for alerts this route matches, before it; empty: top level.",
    )
    position = models.PositiveIntegerField(
        default=0, db_index=True, help_text="Order among the routes of the same parent."
    )
    matchers = models.TextField(
        blank=True, help_text='Alertmanager matchers: severity="critical", team=~"db|web"'
    )
    min_severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, default=Severity.NONE
    )
    continue_matching = models.BooleanField(
        default=False, help_text="Also try the routes after this one (of the same parent)."
    )
    is_default = models.BooleanField(
        default=False, help_text="Takes the alerts that no top-level route matched."
    )
    receivers = models.ManyToManyField("receivers.Receiver", blank=True, related_name="routes")
    inherit_receivers = models.BooleanField(
        default=True,
        help_text="With no receivers of its own, a nested route notifies its parent's; "
        "off: nobody (an Alertmanager receiver without integrations).",
    )
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text="Started when this route is a match (not inherited by nested routes).",
    )
    team = models.ForeignKey(
        "escalation.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text="Pages this team by its escalation policy, when the route names no policy.",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="route_not_its_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SilenceKind(models.TextChoices):
    ONCE = "once", "Once (from start to end)"
    WEEKLY = "weekly", "Every week (maintenance window)"


class Silence(models.Model):
    """Alerts matching it are stored but nobody is notified while it is active."""

    matchers = models.TextField(help_text='Alertmanager matchers: instance=~"db-.*"')
    kind = models.CharField(max_length=8, choices=SilenceKind.choices, default=SilenceKind.ONCE)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.JSONField(
        default=list, blank=True, help_text="Weekly windows: 0 = Monday … 6 = Sunday."
    )
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(
        null=True, blank=True, help_text="Before the start: the window runs past midnight."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    comment = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.matchers} ({self.get_kind_display()})"


class IngestSourceKind(models.TextChoices):
    GRAFANA = "grafana", "Grafana Alerting webhook"
    PAGERDUTY_EVENTS = "pagerduty_events", "PagerDuty Events API v2"
    GENERIC_JSON = "generic_json", "Generic JSON"


class IngestSource(models.Model):
    """A sender other than Alertmanager, bound to one of the tenant's ingest keys.

    The binding is by the key's prefix (tenants.IngestKey.prefix, its first
    ten characters, shown in the admin): the key itself lives in the shared
    schema and only its hash is stored, so the request's key, once
    authenticated, finds its source by `key[:10]` and the endpoint's kind.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=IngestSourceKind.choices)
    ingest_key_prefix = models.CharField(
        max_length=12,
        help_text="The prefix of the ingest key this source posts with (e.g. hk_AbC1234).",
    )
    config = models.JSONField(
        default=dict, blank=True, help_text="Settings of the source's kind; nothing secret."
    )
    secrets = EncryptedJSONField(
        default=dict, blank=True, help_text="Secrets of the source's kind (Grafana's HMAC secret)."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ingest_key_prefix", "kind"], name="ingest_source_one_per_key_and_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
