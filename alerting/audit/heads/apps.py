from django.apps import AppConfig


class AuditHeadsConfig(AppConfig):
    """The audit chains' checkpoints and the operators' chain, in the shared schema
    (a shared app)."""

    name = "alerting.audit.heads"
    label = "audit_heads"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"
