"""Actions people took from messages (chat buttons, action links), as audited."""

from alerting.audit.models import AuditEntry, AuditSource

# What incident_action_apply records (escalation.actions.Action's values).
ACTION_NAMES = (
    "acknowledge", "unacknowledge", "resolve", "silence_1h", "silence_4h", "silence_24h",
)
ACTION_SOURCES = (AuditSource.CHAT, AuditSource.LINK)


class ActionTaken(AuditEntry):
    """An audit entry of an action taken from chat or a link: read only, never stored apart."""

    class Meta:
        proxy = True
        ordering = ["-id"]
        verbose_name = "action taken from chat and links"
        verbose_name_plural = "actions taken from chat and links"


__all__ = ["ACTION_NAMES", "ACTION_SOURCES", "ActionTaken"]
