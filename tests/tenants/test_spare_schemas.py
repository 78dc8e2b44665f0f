"""Spare schemas cloned ahead of time: a new tenant renames one (tenants/spare_schemas.py)."""

from __future__ import annotations

import threading
import time

import django_tenants.models
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django_tenants.migration_executors.standard import StandardExecutor
from django_tenants.utils import schema_exists

from tenants import schema_clone, services, spare_schemas
from tenants.due_ticks import tenant_ids_all
from tenants.models import SpareSchema, Tenant
from tenants.schema_clone import TEMPLATE_SCHEMA
from tenants.selectors import tenant_list
from tenants.services import tenant_create
from tenants.spare_schemas import (
    SPARE_PREFIX,
    spare_schema_claim,
    spare_schema_prepare,
    spare_schemas_count,
    spare_schemas_fill,
)
from tests.tenants.test_schema_clone import (
    assert_rows_follow_the_template,
    assert_triggers_run,
    structure,
)


@pytest.fixture
def one_spare(settings, monkeypatch):
    """A pool of one spare; tenant creations enqueue no refill (tests fill by hand)."""
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1
    monkeypatch.setattr(services, "_spare_schemas_refill", lambda: None)
    return spare_schema_prepare


def _functions_naming(schema: str, name: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = %s::regnamespace"
            " AND (strpos(prosrc, %s) > 0 OR strpos(coalesce(array_to_string(proconfig, ' '),"
            " ''), %s) > 0)", [schema, name, name])
        return [row[0] for row in cursor.fetchall()]


def test_a_renamed_spare_is_the_migrated_schema(db, one_spare):
    spare = one_spare()
    tenant = tenant_create(slug="from-spare", name="Spare", domain="from-spare.localhost")
    connection.set_schema_to_public()

    assert not schema_exists(spare) and spare_schemas_count() == 0  # it was the spare
    assert structure(tenant.schema_name) == structure(TEMPLATE_SCHEMA)
    assert_rows_follow_the_template(tenant.schema_name)
    # Nothing spells out the spare's old name; defaults and triggers point into the schema.
    assert _functions_naming(tenant.schema_name, spare) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid"
            " WHERE c.relnamespace = %s::regnamespace"
            " AND pg_get_expr(d.adbin, d.adrelid) LIKE %s", [tenant.schema_name, f"%{spare}%"])
        assert cursor.fetchone()[0] == 0
    assert_triggers_run(tenant)


def test_a_spare_whose_functions_name_it_is_not_pooled(db, one_spare, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE FUNCTION {TEMPLATE_SCHEMA}.probe() RETURNS bigint"  # noqa: S608
                       " LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*)"
                       f" FROM {TEMPLATE_SCHEMA}.django_migrations); END $$")
    monkeypatch.setattr(schema_clone, "_plan", None)  # read the template again

    assert one_spare() is None
    assert spare_schemas_count() == 0


def test_spares_of_an_older_template_are_never_handed_out(db, one_spare, monkeypatch):
    old = one_spare()
    code_migrations = schema_clone._code_migration_count()

    def migrate_template(*args, **kwargs):  # a deploy's new migration, applied to the template
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TEMPLATE_SCHEMA}.alerting_silence ADD COLUMN probe int")
            cursor.execute(f"INSERT INTO {TEMPLATE_SCHEMA}.django_migrations (app, name, applied)"  # noqa: S608
                           " VALUES ('alerting', '9999_probe', now())")

    monkeypatch.setattr(schema_clone, "_code_migration_count", lambda: code_migrations + 1)
    monkeypatch.setattr(schema_clone, "call_command", migrate_template)

    tenant = tenant_create(slug="after-deploy", name="New", domain="after-deploy.localhost")
    connection.set_schema_to_public()

    assert schema_exists(old)  # not renamed: the tenant was cloned from the new template
    assert structure(tenant.schema_name) == structure(TEMPLATE_SCHEMA)
    assert any("alerting_silence.probe" in text for _, text in structure(tenant.schema_name))
    assert spare_schemas_count() == 0

    assert spare_schemas_fill() == 1  # the stale one dropped, a fresh one made
    assert not schema_exists(old)
    (fresh,) = SpareSchema.objects.all()
    assert any("alerting_silence.probe" in text for _, text in structure(fresh.schema_name))


def test_a_failure_after_the_claim_leaves_the_spare(db, one_spare, monkeypatch):
    spare = one_spare()
    claimed = []
    original = services.spare_schema_claim
    monkeypatch.setattr(services, "spare_schema_claim",
                        lambda **kwargs: claimed.append(original(**kwargs)) or claimed[-1])

    with pytest.raises(IntegrityError):  # the domain is alpha's: refused after the claim
        tenant_create(slug="half-made", name="Half", domain="alpha.localhost")

    assert claimed == [True]
    assert schema_exists(spare) and not schema_exists("half_made")
    assert SpareSchema.objects.filter(schema_name=spare).exists()
    assert not Tenant.objects.filter(slug="half-made").exists()


def test_spares_are_not_tenants(db, one_spare, monkeypatch):
    spare = one_spare()
    migrated = []
    monkeypatch.setattr(StandardExecutor, "run_migrations",
                        lambda self, tenants=None: migrated.extend(tenants or []))

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)

    assert "alpha" in migrated and spare not in migrated and TEMPLATE_SCHEMA not in migrated
    schemas = {tenant.schema_name for tenant in tenant_list()}
    assert spare not in schemas
    assert set(Tenant.objects.filter(id__in=tenant_ids_all())
               .values_list("schema_name", flat=True)) == schemas
    with pytest.raises(ValidationError, match="Herald's own schemas"):
        tenant_create(slug=spare.replace("_", "-"), name="Sneaky", domain="sneaky.localhost")


def test_no_spares_when_the_setting_is_zero(db, one_spare, settings):
    spare = one_spare()
    settings.HERALD_TENANT_SPARE_SCHEMAS = 0

    tenant_create(slug="no-pool", name="No pool", domain="no-pool.localhost")
    assert schema_exists(spare)  # cloned, not claimed

    assert spare_schemas_fill() == 0
    assert not schema_exists(spare) and not SpareSchema.objects.exists()


def test_without_cloning_schemas_are_migrated_and_spares_left(db, one_spare, settings,
                                                             monkeypatch):
    spare = one_spare()
    settings.HERALD_TENANT_SCHEMA_CLONE = False
    migrations = []  # django-tenants' own creation; not run here (seconds of migrations)
    monkeypatch.setattr(django_tenants.models, "call_command",
                        lambda *args, **kwargs: migrations.append((args, kwargs)))

    tenant_create(slug="migrated", name="Migrated", domain="migrated.localhost")

    assert [(args, kwargs["schema_name"]) for args, kwargs in migrations] == [
        (("migrate_schemas",), "migrated")]
    assert schema_exists("migrated")  # created empty by django-tenants, then migrated
    assert schema_exists(spare) and spare_schemas_count() == 1


def _in_threads(count: int, work) -> list:
    """`work(index, barrier)` in `count` threads, each on its own connection."""
    barrier = threading.Barrier(count, timeout=20)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return results


def _drop_schemas(*names: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                       [SPARE_PREFIX])
        for name in [row[0] for row in cursor.fetchall()] + list(names):
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("spares", [2, 1])
def test_two_claims_at_once_never_get_the_same_spare(spares, settings, monkeypatch):
    settings.HERALD_TENANT_SPARE_SCHEMAS = spares
    made = {spare_schema_prepare() for _ in range(spares)}
    try:
        def claim(index: int, barrier: threading.Barrier) -> bool:
            with transaction.atomic():
                got = spare_schema_claim(schema_name=f"race_{index}")
                barrier.wait()  # both claims are in flight, neither committed
                return got

        results = _in_threads(2, claim)

        assert sorted(results) == ([True, True] if spares == 2 else [False, True])
        assert [schema_exists(f"race_{i}") for i in range(2)] == results
        assert not any(schema_exists(name) for name in made) and spare_schemas_count() == 0
    finally:
        _drop_schemas("race_0", "race_1")


@pytest.mark.django_db(transaction=True)
def test_two_tenant_creations_at_once_share_one_spare(settings, monkeypatch):
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1
    monkeypatch.setattr(services, "_spare_schemas_refill", lambda: None)
    spare = spare_schema_prepare()
    try:
        def create(index: int, barrier: threading.Barrier) -> str:
            barrier.wait()
            return tenant_create(slug=f"both-{index}", name="Both",
                                 domain=f"both-{index}.localhost").schema_name

        created = _in_threads(2, create)

        assert not schema_exists(spare)
        template = structure(TEMPLATE_SCHEMA)
        assert [structure(name) == template for name in created] == [True, True]
    finally:
        Tenant.objects.filter(slug__startswith="both-").delete()
        _drop_schemas("both_0", "both_1")


def test_a_creation_that_makes_a_schema_refills_the_pool_on_commit(
    db, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from alerting.infra.celery import app
    from tenants.tasks import spare_schemas_fill_task

    settings.HERALD_TENANT_SPARE_SCHEMAS = 1
    sent = []
    monkeypatch.setattr(spare_schemas_fill_task, "apply_async", lambda *a, **k: sent.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        tenant_create(slug="refills", name="Refills", domain="refills.localhost")
    assert sent == [1]
    with django_capture_on_commit_callbacks(execute=True):  # its schema is there: kept
        Tenant.objects.filter(slug="refills").delete()
        tenant_create(slug="refills", name="Refills", domain="refills.localhost")
    assert sent == [1]
    entry = app.conf.beat_schedule["tenant-spare-schemas"]
    assert entry["task"] == spare_schemas_fill_task.name


def _backend_waiting_on_the_fill_lock() -> tuple[int, int] | None:
    """(pid, relation locks it holds) of a backend that waits for the fill lock, if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.pid, (SELECT count(*) FROM pg_locks r WHERE r.pid = w.pid"
            "               AND r.locktype = 'relation' AND r.granted)"
            " FROM pg_locks w WHERE w.locktype = 'advisory' AND NOT w.granted"
            " AND w.objid = %s", [spare_schemas._FILL_LOCK & 0xFFFFFFFF])
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_a_fill_clones_outside_the_fill_lock(settings):
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1
    spare_schema_prepare()  # the template and this process's plan, outside the timing
    SpareSchema.objects.all().delete()  # its schema is left to _drop_schemas
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [spare_schemas._FILL_LOCK])
    try:
        names: list = []
        thread = threading.Thread(target=lambda: (names.append(spare_schema_prepare()),
                                                  connection.close()))
        thread.start()
        deadline = time.monotonic() + 30
        while (waiting := _backend_waiting_on_the_fill_lock()) is None:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        # It waits for the lock with its clone made: it holds the new relations' locks.
        assert waiting[1] > 100
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [spare_schemas._FILL_LOCK])
        thread.join(30)
        assert names != [None] and len(names) == 1
        assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == names
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        _drop_schemas()


@pytest.mark.django_db(transaction=True)
def test_concurrent_fills_never_pool_more_than_the_setting(settings):
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1
    spare_schema_prepare()  # the template ready; then the pool emptied again
    SpareSchema.objects.all().delete()
    _drop_schemas()
    try:
        def fill(index: int, barrier: threading.Barrier) -> str | None:
            barrier.wait()  # both past the first count, then cloning at once
            return spare_schema_prepare()

        results = _in_threads(2, fill)

        (made,) = [name for name in results if name is not None]
        assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [made]
        with connection.cursor() as cursor:  # the other clone was rolled back, not left
            cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                           [SPARE_PREFIX])
            assert [row[0] for row in cursor.fetchall()] == [made]
    finally:
        _drop_schemas()


def test_spares_beyond_the_setting_are_dropped_one_by_one(db, one_spare, settings):
    settings.HERALD_TENANT_SPARE_SCHEMAS = 3
    first, *others = [one_spare() for _ in range(3)]
    settings.HERALD_TENANT_SPARE_SCHEMAS = 1

    assert spare_schemas_fill() == 0  # the oldest kept; the other two dropped
    assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [first]
    assert schema_exists(first) and not any(schema_exists(name) for name in others)
