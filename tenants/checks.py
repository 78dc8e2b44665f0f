"""Production mode (neither HERALD_DEBUG nor HERALD_DEMO): what Herald must not serve
without. `runherald` and gunicorn's start (alerting/infra/gunicorn_conf.py) refuse
to start with these problems; `manage.py check --deploy` lists them. Development
commands (makemigrations, shell, tests) are not held up."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


def production_problems() -> list[Error]:
    if not settings.HERALD_PRODUCTION:
        return []
    errors = []
    if not settings.HERALD_BASE_URL_SET:
        errors.append(Error(
            "HERALD_BASE_URL is not set: acknowledge links and password reset mails would "
            "point at http://127.0.0.1:8000.",
            hint="Set HERALD_BASE_URL to Herald's public URL as people reach it, e.g. "
            "https://herald.example.com (behind the proxy), or run with --demo.",
            id="herald.E001",
        ))
    if not (settings.HERALD_METRICS_BEARER_TOKEN or settings.HERALD_METRICS_BASIC_AUTH):
        errors.append(Error(
            "/metrics has no credentials: it names tenants and receivers.",
            hint="Set HERALD_METRICS_BEARER_TOKEN or HERALD_METRICS_BASIC_AUTH "
            "(user:password) and give the same to Prometheus' scrape config.",
            id="herald.E002",
        ))
    return errors


def production_problems_text() -> str:
    return "\n".join(f"{error.id}: {error.msg}\n  {error.hint}" for error in production_problems())


@register(deploy=True)
def production_settings_check(app_configs=None, **kwargs) -> list[Error]:
    return production_problems()
