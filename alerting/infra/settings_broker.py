"""Settings of the broker's side: Celery, the rate limits' counters and Django's cache.

Read from the environment, with working defaults; `alerting.infra.settings`
imports them all (Django reads the names from there).
"""

import os

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


def cache_for(storage_url: str) -> dict:
    """The shared cache (chat requests seen: replays) in the counters' Redis when there is one."""
    if storage_url.startswith(("redis://", "rediss://", "redis+unix://")):
        location = storage_url.replace("redis+unix://", "unix://", 1)
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
                "KEY_PREFIX": "herald"}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}  # per process


CACHES = {"default": cache_for(HERALD_RATE_LIMIT_STORAGE_URL)}
