"""Herald settings, read from the environment (12-factor).

Everything has a working default so a fresh machine needs only Python: with no
DATABASE_URL an embedded PostgreSQL is started under `.var/`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HERALD_VAR_DIR", BASE_DIR / ".var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _local_secret(name: str) -> str:
    """A random value kept in `.var/` for development; production sets the env."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("HERALD_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _local_secret("secret_key")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1,[::1]")
HERALD_DEMO = _env_bool("HERALD_DEMO", False)

# Fernet keys for secrets at rest, newest first: the first encrypts, all decrypt.
# Rotation: prepend a new key, run `manage.py rotate_secrets`, drop the old one.
SALT_KEY = _env_list("HERALD_ENCRYPTION_KEYS") or [_local_secret("encryption_key")]

SHARED_APPS = [
    # Before django_tenants so our create_tenant command takes precedence.
    "tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "alerting.demo",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "alerting",
    "receivers",
    "escalation",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# Hosts that are no tenant's domain (127.0.0.1, the load balancer's name) get
# the public site: ingest, health, metrics and the operators' admin.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
# Set the search_path once per schema switch, not before every query (a round
# trip each). django-tenants forgets it on rollback and savepoint rollback,
# which undo the SET; tests/tenants/test_search_path.py holds it to that.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "tenants.middleware.CachedTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "alerting.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "alerting.urls_public"
WSGI_APPLICATION = "alerting.infra.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    from alerting.infra.embedded import postgres_socket_dir

    DATABASES = {
        "default": {
            "NAME": "postgres",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": postgres_socket_dir(VAR_DIR),
            "PORT": "",
        }
    }
DATABASES["default"].update(
    ENGINE="django_tenants.postgresql_backend",
    CONN_MAX_AGE=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    CONN_HEALTH_CHECKS=True,
)
# Ingest's hot statements run on server-binding cursors (alerting/infra/sql.py),
# which psycopg prepares after this many runs on a connection, sparing
# PostgreSQL their planning; Django's own cursors bind on the client and are
# never prepared. Set it empty behind a pooler in transaction mode that cannot
# keep prepared statements (PgBouncer before 1.21 without
# max_prepared_statements).
_prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
    int(_prepare_threshold) if _prepare_threshold else None
)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing one
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "alerting.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Herald API",
    "DESCRIPTION": "Alertmanager webhook ingest and the tenant read API.",
    "VERSION": "1",
    # Swagger UI served by Herald itself, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alerting.api.schema.error_responses",
    ],
}

# Ingest limits.
HERALD_INGEST_MAX_BODY_BYTES = int(os.environ.get("HERALD_INGEST_MAX_BODY_BYTES", 4 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = HERALD_INGEST_MAX_BODY_BYTES
HERALD_INGEST_KEY_CACHE_SECONDS = float(os.environ.get("HERALD_INGEST_KEY_CACHE_SECONDS", "30"))
# Requests per tenant, in the `limits` notation; a tenant may set its own.
HERALD_INGEST_RATE_LIMIT = os.environ.get("HERALD_INGEST_RATE_LIMIT", "6000/minute")

# Delivery.
HERALD_HTTP_TIMEOUT_SECONDS = float(os.environ.get("HERALD_HTTP_TIMEOUT_SECONDS", "10"))
HERALD_SWEEP_PENDING_AFTER_SECONDS = int(os.environ.get("HERALD_SWEEP_PENDING_AFTER_SECONDS", "60"))
HERALD_SWEEP_INTERVAL_SECONDS = int(os.environ.get("HERALD_SWEEP_INTERVAL_SECONDS", "30"))
# How often due escalation steps and ended silences are looked for.
HERALD_ESCALATION_TICK_SECONDS = int(os.environ.get("HERALD_ESCALATION_TICK_SECONDS", "15"))
# Where links in notifications (acknowledge) point; `make run` sets it.
HERALD_BASE_URL = os.environ.get("HERALD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
HERALD_ACK_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("HERALD_ACK_LINK_MAX_AGE_SECONDS", str(7 * 24 * 3600))
)

# Celery. With no CELERY_BROKER_URL, `make run` starts an embedded Redis and
# passes its URL down; a bare worker falls back to the local Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ACKS_LATE = True
# A broker outage must not hold an ingest request for long: the work is in the
# database already and the sweep enqueues it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # Redis only emulates late acks: it hands unacknowledged messages back
    # after an hour, and kombu crashes the worker trying to restore them
    # over a lost connection. The database is what guarantees delivery
    # here (the sweep re-enqueues lost notifications within a minute, the
    # escalation tick runs due steps), so Redis does not track them.
    # RabbitMQ keeps real late acks.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"ack_emulation": False}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep database connections across tasks (alerting/infra/celery.py drops the broken
# and the old ones instead), and look a task's tenant up once per minute, not
# once per task: a tenant's settings reach the workers within that minute.
CELERY_DB_REUSE_MAX = 1_000_000_000
CELERY_TASK_TENANT_CACHE_SECONDS = 60
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


def counter_storage_for(broker_url: str) -> str:
    """Rate-limit counters live in the broker's Redis when there is one."""
    if broker_url.startswith("redis+socket://"):
        return "redis+unix://" + broker_url.removeprefix("redis+socket://")
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return "memory://"  # per process: with RabbitMQ, set HERALD_RATE_LIMIT_STORAGE_URL


HERALD_RATE_LIMIT_STORAGE_URL = os.environ.get(
    "HERALD_RATE_LIMIT_STORAGE_URL"
) or counter_storage_for(CELERY_BROKER_URL)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "alerting.infra.log_redaction.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HERALD_LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

# --- Admin and audit (issue 7) ---
# The audit log lives in each tenant's schema, beside what it records.
TENANT_APPS.append("alerting.audit")
# The tenant admin site enforces tenant membership and roles (tenants/sites.py).
SHARED_APPS[SHARED_APPS.index("django.contrib.admin")] = "tenants.admin_config.HeraldAdminConfig"
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# --- Operability (issue 8) ---
# /metrics: open unless a bearer token or "user:password" for basic auth is set.
HERALD_METRICS_BEARER_TOKEN = os.environ.get("HERALD_METRICS_BEARER_TOKEN", "")
HERALD_METRICS_BASIC_AUTH = os.environ.get("HERALD_METRICS_BASIC_AUTH", "")
# Readiness: how long the broker and a worker ping may take, and how many
# overdue notifications make the node "not ready" (unset: reported only).
HERALD_HEALTH_TIMEOUT_SECONDS = float(os.environ.get("HERALD_HEALTH_TIMEOUT_SECONDS", "1.5"))
HERALD_HEALTH_MAX_OVERDUE = (
    int(os.environ["HERALD_HEALTH_MAX_OVERDUE"])
    if os.environ.get("HERALD_HEALTH_MAX_OVERDUE")
    else None
)
# Structured logs: HERALD_LOG_FORMAT=json gives one JSON object a line with
# tenant, request id and notification id where known; the redaction filter
# stays on the handler either way.
MIDDLEWARE.insert(MIDDLEWARE.index("tenants.middleware.CachedTenantMiddleware") + 1,
                  "alerting.infra.log_context.RequestContextMiddleware")
LOGGING["filters"]["context"] = {"()": "alerting.infra.log_context.LogContextFilter"}
LOGGING["formatters"]["json"] = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
LOGGING["handlers"]["console"]["filters"] = ["redact", "context"]
if os.environ.get("HERALD_LOG_FORMAT", "plain").strip().lower() == "json":
    LOGGING["handlers"]["console"]["formatter"] = "json"

# --- Delivery (issue 5) ---
# Circuit breaker per receiver: open after this many failures in a row
# (timeouts, connection errors, 5xx), probe once after the cool-down.
HERALD_BREAKER_FAILURE_THRESHOLD = int(os.environ.get("HERALD_BREAKER_FAILURE_THRESHOLD", "5"))
HERALD_BREAKER_COOLDOWN_SECONDS = float(os.environ.get("HERALD_BREAKER_COOLDOWN_SECONDS", "60"))
# Messages per tenant and per receiver (a receiver may set its own), in the
# `limits` notation; notifications over them are folded into one digest.
HERALD_TENANT_DELIVERY_RATE_LIMIT = os.environ.get(
    "HERALD_TENANT_DELIVERY_RATE_LIMIT", "1200/minute"
)
HERALD_RECEIVER_RATE_LIMIT = os.environ.get("HERALD_RECEIVER_RATE_LIMIT", "60/minute")
# Later notifications of one group to one receiver within this window go out
# as one message (the first one is never held back). 0 turns grouping off.
HERALD_GROUP_WINDOW_SECONDS = float(os.environ.get("HERALD_GROUP_WINDOW_SECONDS", "5"))
# How long one attempt holds a notification; 0: twice the HTTP timeout + 5 s.
HERALD_DELIVERY_LEASE_SECONDS = float(os.environ.get("HERALD_DELIVERY_LEASE_SECONDS", "0"))
# Notifications enqueued together go to one task of at most this many: one
# claim and one record for the batch, its sends side by side when the
# receiver is slow (receivers/delivery/threads.py).
HERALD_DELIVERY_BATCH_SIZE = int(os.environ.get("HERALD_DELIVERY_BATCH_SIZE", "25"))
# Fair workers (issue 14): at most this many threads of one worker process
# deliver one tenant at once (receivers/delivery/fairness.py). A task that
# finds its tenant's runners at the cap hands its work over to them and ends
# at once, so a tenant whose receivers are slow or stuck holds at most this
# many of the worker's threads and the other tenants' deliveries stay on
# time. A runner sends a batch side by side once its receiver is slow, so
# the cap bounds threads, not sends. Keep it well under the worker's
# --concurrency (8 in `make run`). 0 turns the cap off.
HERALD_TENANT_MAX_CONCURRENT_SENDS = int(os.environ.get("HERALD_TENANT_MAX_CONCURRENT_SENDS", "4"))
# A runner claims again for at most this long; then it leaves, and a task of
# its own carries on with what is still due (a worker's warm shutdown waits
# for its running tasks).
HERALD_DELIVERY_RUNNER_SECONDS = float(os.environ.get("HERALD_DELIVERY_RUNNER_SECONDS", "5"))
# The queue this installation's tasks go to, so several can share a broker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("HERALD_CELERY_QUEUE", "celery")

# Tenants' templates (issue 14): hard limits on one render, in
# receivers/template_limits.py; the README's security section lists them.
HERALD_TEMPLATE_CPU_SECONDS = float(os.environ.get("HERALD_TEMPLATE_CPU_SECONDS", "0.25"))
HERALD_TEMPLATE_MAX_OUTPUT_CHARS = int(
    os.environ.get("HERALD_TEMPLATE_MAX_OUTPUT_CHARS", "1000000")
)
HERALD_TEMPLATE_MAX_VALUE_SIZE = int(os.environ.get("HERALD_TEMPLATE_MAX_VALUE_SIZE", "1000000"))
HERALD_TEMPLATE_MAX_ITERATIONS = int(os.environ.get("HERALD_TEMPLATE_MAX_ITERATIONS", "100000"))
HERALD_TEMPLATE_MAX_DEPTH = int(os.environ.get("HERALD_TEMPLATE_MAX_DEPTH", "40"))
HERALD_TEMPLATE_MEMORY_MB = int(os.environ.get("HERALD_TEMPLATE_MEMORY_MB", "512"))
# "process": tenants' templates render in child processes that are killed
# when they overrun (receivers/template_runner.py); "thread": in the calling
# thread, under the meter only (no hard stop for one long C-level step).
HERALD_TEMPLATE_ISOLATION = os.environ.get("HERALD_TEMPLATE_ISOLATION", "process")
# Renderer processes per web or worker process, started on first use.
HERALD_TEMPLATE_RENDERERS = int(os.environ.get("HERALD_TEMPLATE_RENDERERS", "4"))
# The admin's live template preview: per user, and at once across the web tier.
HERALD_TEMPLATE_PREVIEW_RATE_LIMIT = os.environ.get(
    "HERALD_TEMPLATE_PREVIEW_RATE_LIMIT", "120/minute"
)
HERALD_TEMPLATE_PREVIEW_CONCURRENCY = int(
    os.environ.get("HERALD_TEMPLATE_PREVIEW_CONCURRENCY", "1")
)
