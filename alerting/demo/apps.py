from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "alerting.demo"
    label = "demo"
    verbose_name = "Demo sink"
