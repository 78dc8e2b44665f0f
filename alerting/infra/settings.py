"""Herald settings, read from the environment (12-factor).

Everything has a working default so a fresh machine needs only Python: with no
DATABASE_URL an embedded PostgreSQL is started under `.var/`.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

import dj_database_url

from alerting.infra.db_roles import databases_for_command
from alerting.infra.settings_env import env_bool as _env_bool
from alerting.infra.settings_env import env_list as _env_list
from alerting.infra.tenant_databases import tenant_databases_parse, tenant_migrate_urls_parse

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HERALD_VAR_DIR", BASE_DIR / ".var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret(name: str, make=lambda: secrets.token_urlsafe(48)) -> str:
    """A random value kept in `.var/` for development; production sets the env."""
    path = VAR_DIR / name
    if not path.exists():
        value = make()
        path.write_text(value.decode() if isinstance(value, bytes) else value)
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("HERALD_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _local_secret("secret_key")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1,[::1]")
HERALD_DEMO = _env_bool("HERALD_DEMO", False)

# --- Secrets at rest and action links (issue 16; alerting/encryption.py, README "Key rotation").
# Fernet keys, comma-separated, newest first: the first encrypts, all decrypt.
# Independent of DJANGO_SECRET_KEY. Rotation: prepend a new key, run
# `manage.py rotate_secrets`, drop the old one. Development: one kept in .var/.
HERALD_ENCRYPTION_KEYS = _env_list("HERALD_ENCRYPTION_KEYS") or [
    _local_secret("fernet_key", make=lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)))
]
# Before issue 16 HERALD_ENCRYPTION_KEYS held PBKDF2 salts for DJANGO_SECRET_KEY:
# the upgrade (a data migration, rotate_secrets) reads values still stored that
# way with these, the old HERALD_ENCRYPTION_KEYS (development: .var/encryption_key).
HERALD_LEGACY_ENCRYPTION_SALTS = _env_list("HERALD_LEGACY_ENCRYPTION_SALTS") or (
    [(VAR_DIR / "encryption_key").read_text().strip()]
    if (VAR_DIR / "encryption_key").exists() else []
)
# After `manage.py rotate_link_keys`, links signed with the replaced key still
# work for this long (default: as long as a link lives), then are refused.
HERALD_LINK_KEY_GRACE_SECONDS = int(
    os.environ.get("HERALD_LINK_KEY_GRACE_SECONDS", str(7 * 24 * 3600))
)
# --- end of issue 16's secrets block.

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
# Set the search_path once per connection and schema (alerting/infra/tenant_backend),
# not per query or request; forgotten on rollback and savepoint rollback, which
# undo the SET (tests/tenants/test_search_path.py).
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
    ENGINE="alerting.infra.tenant_backend",
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
# Behind PgBouncer in transaction mode (docs/operating.md): the search_path is
# set per transaction, never on the shared session (alerting/infra/pooled_backend),
# no server-side cursors (they outlive a transaction), and no prepared
# statements unless DATABASE_PREPARE_THRESHOLD says so (PgBouncer >= 1.21).
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER == "transaction":
    DATABASES["default"].update(
        ENGINE="alerting.infra.pooled_backend", DISABLE_SERVER_SIDE_CURSORS=True
    )
    if "DATABASE_PREPARE_THRESHOLD" not in os.environ:
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
# Tenants on several PostgreSQL databases (tenants/databases.py, docs/databases.md):
# HERALD_TENANT_DATABASES="eu=postgres://…,us=postgres://…" adds one alias per
# database; a tenant's `database` names the one holding its schema, and every
# set_tenant binds the thread's connection to it. Unset: one database.
DATABASES.update(tenant_databases_parse(
    default=DATABASES["default"], spec=os.environ.get("HERALD_TENANT_DATABASES", "")
))
EXTRA_SET_TENANT_METHOD_PATH = "tenants.databases.connection_bind"
DATABASE_ROUTERS = [
    "tenants.databases.SharedSchemaRouter", "django_tenants.routers.TenantSyncRouter"
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Issue 21: the interface in English, French and German. Each app's catalogue is
# its locale/ folder; `make messages` (manage.py compile_catalogues) compiles them.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
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
    # Silences and schedule overrides both have a `kind`: name each set of choices.
    "ENUM_NAME_OVERRIDES": {
        "OverrideKindEnum": "escalation.models.schedules.OverrideKind",
        "SilenceKindEnum": "alerting.models.SilenceKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alerting.api.schema.error_responses",
    ],
}

# Ingest limits.
HERALD_INGEST_MAX_BODY_BYTES = int(os.environ.get("HERALD_INGEST_MAX_BODY_BYTES", 4 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = HERALD_INGEST_MAX_BODY_BYTES
# How long an unknown ingest key's refusal is remembered per process (issue 16: a
# valid key is remembered until its tenant's configuration version changes, so a
# revoked key is refused at once; see tenants/migrations/0008).
HERALD_INGEST_KEY_CACHE_SECONDS = float(os.environ.get("HERALD_INGEST_KEY_CACHE_SECONDS", "30"))
# Requests per tenant, in the `limits` notation; a tenant may set its own.
HERALD_INGEST_RATE_LIMIT = os.environ.get("HERALD_INGEST_RATE_LIMIT", "6000/minute")

# Delivery.
HERALD_HTTP_TIMEOUT_SECONDS = float(os.environ.get("HERALD_HTTP_TIMEOUT_SECONDS", "10"))
# AWS SNS receivers without access keys send with the server's own AWS credentials
# (environment, instance role) only for these tenant slugs ("*": every tenant).
HERALD_SNS_SERVER_CREDENTIALS_TENANTS = _env_list("HERALD_SNS_SERVER_CREDENTIALS_TENANTS")
HERALD_SWEEP_PENDING_AFTER_SECONDS = int(os.environ.get("HERALD_SWEEP_PENDING_AFTER_SECONDS", "60"))
HERALD_SWEEP_INTERVAL_SECONDS = int(os.environ.get("HERALD_SWEEP_INTERVAL_SECONDS", "30"))
# How often due escalation steps and ended silences are looked for.
HERALD_ESCALATION_TICK_SECONDS = int(os.environ.get("HERALD_ESCALATION_TICK_SECONDS", "15"))
# Periodic work by the due-work index, and new tenants' schemas (issue 22).
from alerting.infra.settings_tenants import *  # noqa: E402, F403

# Where links in notifications (acknowledge) point: the public URL of Herald's
# public site (behind a proxy: the proxy's). Required in production mode;
# runherald takes it from --host/--port when unset (issue 16).
HERALD_BASE_URL_SET = bool(os.environ.get("HERALD_BASE_URL", "").strip())
HERALD_BASE_URL = (
    os.environ.get("HERALD_BASE_URL", "").strip() or "http://127.0.0.1:8000"
).rstrip("/")
HERALD_ACK_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("HERALD_ACK_LINK_MAX_AGE_SECONDS", str(7 * 24 * 3600))
)

# Celery, the rate limits' counters and Django's cache: alerting/infra/settings_broker.py.
from alerting.infra.settings_broker import *  # noqa: E402, F403

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

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
# Reports on the tenant's history (issue 21): SLA targets in its schema.
TENANT_APPS.append("alerting.reports")
# The tenant admin site enforces tenant membership and roles (tenants/sites.py).
SHARED_APPS[SHARED_APPS.index("django.contrib.admin")] = "tenants.admin_config.HeraldAdminConfig"
# --- Audit trail (issue 16) ---
# Each tenant chain's checkpoints live in the shared schema (a shared app).
SHARED_APPS.append("alerting.audit.heads")
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# HMAC-SHA256 keys of the audit chain, newest first: the first signs, all
# verify. Never in the database; rotation: prepend a new key, keep the old.
HERALD_AUDIT_KEYS = _env_list("HERALD_AUDIT_KEYS") or [_local_secret("audit_key")]
# Notification outcomes in the trail (off only to measure what they cost).
HERALD_AUDIT_OUTCOMES = _env_bool("HERALD_AUDIT_OUTCOMES", True)
# How often pending outcomes are chained and each chain's head checkpointed.
HERALD_AUDIT_CHECKPOINT_SECONDS = float(os.environ.get("HERALD_AUDIT_CHECKPOINT_SECONDS", "60"))
# Optional owner roles for migrations (README, audit): migrate_schemas,
# create_tenant and grant_app_role connect with them (db_roles.SCHEMA_COMMANDS),
# the app's role gets DML only and so cannot switch the audit log's trigger off.
# DATABASE_MIGRATE_URL for the first database, HERALD_TENANT_MIGRATE_DATABASES
# ("eu=postgres://owner@…") for the others.
DATABASE_MIGRATE_URL = os.environ.get("DATABASE_MIGRATE_URL", "")
DATABASES.update(databases_for_command(
    DATABASES, argv=sys.argv, migrate_urls={
        **({"default": DATABASE_MIGRATE_URL} if DATABASE_MIGRATE_URL else {}),
        **tenant_migrate_urls_parse(
            spec=os.environ.get("HERALD_TENANT_MIGRATE_DATABASES", ""), databases=DATABASES
        ),
    },
))

# --- Operability (issue 8) ---
# /metrics: a bearer token or "user:password" for basic auth; with neither it is
# closed outside demo mode, and production mode requires one (issue 16).
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

# --- Delivery, fair workers and templates (issues 5, 14, 15): in their own module.
from alerting.infra.settings_delivery import *  # noqa: E402, F403

# Behind a transaction pooler the relay's LISTEN and leadership lock need a
# session of their own: without HERALD_RELAY_DATABASE_URL, wake by the broker.
if (DATABASE_POOLER == "transaction" and not HERALD_RELAY_DATABASE_URL  # noqa: F405
        and "HERALD_DELIVERY_WAKE" not in os.environ):
    HERALD_DELIVERY_WAKE = "broker"

# --- Logins, HTTPS and operations (issue 16) ---
# Production mode: neither HERALD_DEBUG nor HERALD_DEMO. There, HERALD_BASE_URL
# and /metrics credentials are required: runherald and gunicorn's start refuse
# to run without them, `check --deploy` lists them (tenants/checks.py).
HERALD_PRODUCTION = not DEBUG and not HERALD_DEMO
SHARED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp", "csp"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# Lockout, mail, CSP: alerting/infra/settings_logins.py.
from alerting.infra.settings_logins import *  # noqa: E402, F403

MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "django_otp.middleware.OTPMiddleware")
# The viewer's language and time zone: profile, else browser, else tenant (issue 21).
MIDDLEWARE.insert(MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
                  "tenants.middleware_language.TenantLanguageMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "csp.middleware.CSPMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django_prometheus.middleware.PrometheusAfterMiddleware"),
                  "axes.middleware.AxesMiddleware")
# HTTPS: with an https HERALD_BASE_URL, cookies are Secure, HSTS is sent and
# plain http is redirected (health and metrics excepted, for probes inside the
# network). X-Forwarded-Proto is trusted as the request's scheme: only run
# behind a proxy that sets it (and strips a client's own);
# HERALD_TRUST_X_FORWARDED_PROTO=0 when TLS ends at Herald itself.
if HERALD_BASE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HERALD_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("HERALD_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_bool("HERALD_HSTS_PRELOAD", False)
    SECURE_SSL_REDIRECT = _env_bool("HERALD_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health", r"^metrics$"]
    if _env_bool("HERALD_TRUST_X_FORWARDED_PROTO", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [HERALD_BASE_URL, *_env_list("HERALD_CSRF_TRUSTED_ORIGINS")]
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a commitment for the whole domain: opt in with HERALD_HSTS_PRELOAD.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # its INFO lines repeat our audit
# --- end of issue 16's logins block.
