from django.apps import AppConfig


class ReceiversConfig(AppConfig):
    name = "receivers"

    def ready(self) -> None:
        from receivers.redaction import install_log_redaction

        install_log_redaction()
