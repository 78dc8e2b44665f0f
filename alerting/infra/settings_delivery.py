"""Settings of the worker's side: delivery, fair workers and tenants' templates.

Read from the environment, with working defaults; `alerting.infra.settings`
imports them all (Django reads the names from there).
"""

import os

# --- Delivery (issue 5) ---
# Circuit breaker per receiver: open after this many failures in a row
# (timeouts, connection errors, 5xx), probe once after the cool-down.
HERALD_BREAKER_FAILURE_THRESHOLD = int(os.environ.get("HERALD_BREAKER_FAILURE_THRESHOLD", "5"))
HERALD_BREAKER_COOLDOWN_SECONDS = float(os.environ.get("HERALD_BREAKER_COOLDOWN_SECONDS", "60"))
# A failed delivery's next attempt: attempt n waits a random time up to this
# * 2^(n-1) seconds (full jitter), at most 600 s; a vendor's Retry-After wins.
HERALD_DELIVERY_BACKOFF_BASE_SECONDS = float(
    os.environ.get("HERALD_DELIVERY_BACKOFF_BASE_SECONDS", "2")
)
# Messages per tenant and per receiver (a receiver may set its own), in the
# `limits` notation; notifications over them are folded into one digest.
HERALD_TENANT_DELIVERY_RATE_LIMIT = os.environ.get(
    "HERALD_TENANT_DELIVERY_RATE_LIMIT", "1200/minute"
)
HERALD_RECEIVER_RATE_LIMIT = os.environ.get("HERALD_RECEIVER_RATE_LIMIT", "60/minute")
# Later notifications of one group to one receiver within this window go out
# as one message (the first one is never held back). 0 turns grouping off.
HERALD_GROUP_WINDOW_SECONDS = float(os.environ.get("HERALD_GROUP_WINDOW_SECONDS", "5"))
# Phone pages: at most this many SMS and calls to one contact
# method in any 15 minutes; pages over it are held and counted in one
# summary SMS (receivers/delivery/phone_limits.py).
HERALD_PHONE_SMS_PER_15_MIN = int(os.environ.get("HERALD_PHONE_SMS_PER_15_MIN", "5"))
HERALD_PHONE_CALLS_PER_15_MIN = int(os.environ.get("HERALD_PHONE_CALLS_PER_15_MIN", "3"))
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
# How a transaction that writes notifications wakes a worker: "notify"
# (PostgreSQL NOTIFY, heard by the relay in a worker: no broker publish in
# the request, no broker hop before the send) or "broker" (a Celery task on
# commit). Sweeps and retries always use the broker (receivers/delivery/wake.py).
HERALD_DELIVERY_WAKE = os.environ.get("HERALD_DELIVERY_WAKE", "notify").strip().lower()
if HERALD_DELIVERY_WAKE not in ("notify", "broker"):
    raise ValueError(f"HERALD_DELIVERY_WAKE must be notify or broker, not {HERALD_DELIVERY_WAKE!r}")
# Threads of a worker's relay that run woken tenants' deliveries in place;
# when all are busy, a wake goes to the broker as a task instead.
HERALD_RELAY_THREADS = int(os.environ.get("HERALD_RELAY_THREADS", "4"))
# The relay's own connection (LISTEN needs a session): set it to reach
# PostgreSQL past a transaction-pooling PgBouncer. Empty: Django's database.
HERALD_RELAY_DATABASE_URL = os.environ.get("HERALD_RELAY_DATABASE_URL", "")
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
