from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiversConfig(AppConfig):
    name = "receivers"
    verbose_name = _("Receivers")

    def ready(self) -> None:
        from celery.signals import worker_ready, worker_shutdown

        from receivers.delivery.relay import delivery_relay_start, delivery_relay_stop
        from receivers.redaction import install_log_redaction

        install_log_redaction()
        # Each worker process runs a delivery relay; one of them leads and listens.
        worker_ready.connect(lambda **_: delivery_relay_start(), weak=False)
        worker_shutdown.connect(lambda **_: delivery_relay_stop(), weak=False)
