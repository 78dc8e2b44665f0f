"""Actions people took from messages (chat buttons, action links), as audited."""

from django.utils.translation import gettext_lazy as _

from alerting.audit.models import AuditEntry, AuditSource

# What incident_action_apply records (escalation.actions.Action's values).
ACTION_NAMES = (
    "acknowledge", "unacknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h",
)
ACTION_SOURCES = (AuditSource.CHAT, AuditSource.LINK)


class ActionTaken(AuditEntry):
    """An audit entry of an action taken from chat or a link: read only, never stored apart."""

    class Meta:
        verbose_name = _("action taken from chat and links")
        verbose_name_plural = _("actions taken from chat and links")
        proxy = True
        ordering = ["-id"]


__all__ = ["ACTION_NAMES", "ACTION_SOURCES", "ActionTaken"]
