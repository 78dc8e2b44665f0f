from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """Escalation policies, levels and acknowledgement (issue 6 lands here)."""

    name = "escalation"
