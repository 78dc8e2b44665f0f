from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertingConfig(AppConfig):
    name = "alerting"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from celery.signals import worker_ready

        from alerting import encryption_checks  # noqa: F401 - registers the checks
        from alerting.encryption_services import encryption_keys_verify_or_exit

        # Only `celery worker` sends it (not the test suite's in-process worker).
        worker_ready.connect(encryption_keys_verify_or_exit, weak=False)
