from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    """Escalation policies, levels and acknowledgement (issue 6 lands here)."""

    name = "escalation"
    verbose_name = _("Escalation")
