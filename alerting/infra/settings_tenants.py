"""Settings of many tenants: periodic work by the due-work index, new tenants' schemas.

Read from the environment, with working defaults; `alerting.infra.settings`
imports them all (Django reads the names from there).
"""

import os

# Periodic work visits only the tenants the due-work index names (tenants/due_work.py):
# at most this many per tick, in batches of this size fanned out across the
# workers; every tenant's entries are recomputed every HERALD_DUE_FULL_SWEEP_SECONDS,
# the bound for work written behind the index's back.
HERALD_DUE_TICK_MAX_TENANTS = int(os.environ.get("HERALD_DUE_TICK_MAX_TENANTS", "20000"))
HERALD_DUE_BATCH_SIZE = int(os.environ.get("HERALD_DUE_BATCH_SIZE", "50"))
HERALD_DUE_FULL_SWEEP_SECONDS = int(os.environ.get("HERALD_DUE_FULL_SWEEP_SECONDS", "600"))
HERALD_DUE_REINDEX_BATCH_SIZE = int(os.environ.get("HERALD_DUE_REINDEX_BATCH_SIZE", "200"))
# A new tenant's schema is a copy of a migrated template schema (tenants/schema_clone.py);
# "0": migrate each new schema instead (half a second each).
HERALD_TENANT_SCHEMA_CLONE = os.environ.get("HERALD_TENANT_SCHEMA_CLONE", "1") == "1"
# Clones kept ready by the workers (tenants/spare_schemas.py): a new tenant then
# costs a schema rename, not a clone; "0": no spares, every tenant is cloned.
HERALD_TENANT_SPARE_SCHEMAS = int(os.environ.get("HERALD_TENANT_SPARE_SCHEMAS", "2"))
# `migrate_schemas --executor multiprocessing` migrates this many schemas at once.
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(
    os.environ.get("TENANT_MULTIPROCESSING_MAX_PROCESSES", str(os.cpu_count() or 2))
)
TENANT_MULTIPROCESSING_CHUNKS = int(os.environ.get("TENANT_MULTIPROCESSING_CHUNKS", "50"))
