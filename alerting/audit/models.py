"""The audit log: append-only and MAC-chained, in each tenant's own schema."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditSource(models.TextChoices):
    ADMIN = "admin", _("admin")
    API = "api", _("api")
    COMMAND = "command", _("command")
    SYSTEM = "system", _("system")
    # Someone acting from a message: an action link, later a chat button.
    LINK = "link", _("link")
    CHAT = "chat", _("chat")


class ChainedAuditEntry(models.Model):
    """The columns of one chained entry, shared by every chain: each tenant's
    (`AuditEntry`) and the operators' in the shared schema
    (alerting/audit/heads/models.py). alerting/audit/chain.py chains and MACs both.

    `hash` covers every other column, `seq` and `previous_hash`, so changing,
    removing or reordering an entry breaks the chain from there on. It is an
    HMAC-SHA256 with the audit key `key_id` names (alerting/audit/keys.py),
    which is not in the database; entries written before the chain was keyed
    have no `key_id` and a plain SHA-256: the legacy segment at its start.
    """

    at = models.DateTimeField(db_index=True, verbose_name=_("at"))
    actor = models.CharField(max_length=200, verbose_name=_("actor"))
    source = models.CharField(max_length=16, choices=AuditSource.choices, verbose_name=_("source"))
    ip = models.CharField(max_length=45, blank=True, verbose_name=_("source IP"))
    action = models.CharField(max_length=64, db_index=True, verbose_name=_("action"))
    object_type = models.CharField(max_length=100, blank=True, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, blank=True, verbose_name=_("object id"))
    object_repr = models.CharField(max_length=300, blank=True, verbose_name=_("object repr"))
    before = models.JSONField(null=True, blank=True, verbose_name=_("before"))
    after = models.JSONField(null=True, blank=True, verbose_name=_("after"))
    previous_hash = models.CharField(max_length=64, verbose_name=_("previous hash"))
    hash = models.CharField(max_length=64, unique=True, verbose_name=_("hash"))
    seq = models.BigIntegerField(
        null=True, blank=True, unique=True, editable=False,
        verbose_name=_("seq"),
    )
    key_id = models.CharField(max_length=16, blank=True, editable=False, verbose_name=_("key id"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"


class AuditEntry(ChainedAuditEntry):
    """One recorded event of a tenant. Never updated or deleted: a trigger refuses both."""

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")


class PendingOutcome(models.Model):
    """Notification outcomes of one delivery batch, written beside its record, not chained yet.

    Delivery writes one row per batch without taking the chain's lock; the
    sealing task turns the rows into chained entries (alerting/audit/seal.py)
    and deletes them, so a row lives for at most the seal interval.
    """

    at = models.DateTimeField(verbose_name=_("at"))
    outcomes = models.JSONField(verbose_name=_("outcomes"))

    class Meta:
        verbose_name = _("pending outcome")
        verbose_name_plural = _("pending outcomes")

    def __str__(self) -> str:
        return f"{len(self.outcomes)} outcomes at {self.at:%Y-%m-%d %H:%M:%S}"
