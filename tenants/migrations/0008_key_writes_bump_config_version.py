"""Writes on ingest keys and tenants bump the tenant's configuration version.

Ingest remembers, per process, which tenant a key selects and the tenant's
configuration version (alerting 0006) at which the key was last seen valid.
Its upsert reads that version anyway; when it differs, the key is looked up
again in the same transaction, and a revoked key's alerts are rolled back.
So revoking a key (admin, command, raw SQL) stops it in every process at once,
and a tenant edited on the operators' admin (its ingest rate) is read anew,
without a query per ingest.

API tokens are looked up on every request (the API is not the hot path), so
their table needs no trigger, and its last-used updates bump nothing.
"""

from django.db import migrations

_FUNCTION = r"""
CREATE FUNCTION tenants_key_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    tenant_ids bigint[];
    target text;
BEGIN
    IF TG_TABLE_NAME = 'tenants_tenant' THEN
        tenant_ids := ARRAY[NEW.id];
    ELSIF TG_OP = 'INSERT' THEN
        tenant_ids := ARRAY[NEW.tenant_id];
    ELSIF TG_OP = 'DELETE' THEN
        tenant_ids := ARRAY[OLD.tenant_id];
    ELSE
        tenant_ids := ARRAY[OLD.tenant_id, NEW.tenant_id];  -- a key moved to another tenant
    END IF;
    FOR target IN EXECUTE format(
        'SELECT DISTINCT schema_name FROM %I.tenants_tenant WHERE id = ANY($1)', TG_TABLE_SCHEMA
    ) USING tenant_ids LOOP
        -- A tenant being created has no schema yet: nothing is cached for it.
        IF to_regclass(quote_ident(target) || '.alerting_config_version') IS NOT NULL THEN
            EXECUTE format(
                'INSERT INTO %1$I.alerting_config_version (id, version) VALUES (1, nextval(%2$L)) '
                'ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version',
                target, quote_ident(target) || '.alerting_config_version_seq');
        END IF;
    END LOOP;
    RETURN NULL;
END
$body$
"""

_FORWARD = [
    _FUNCTION,
    "CREATE TRIGGER tenants_ingestkey_bumps_config AFTER INSERT OR UPDATE OR DELETE"
    " ON tenants_ingestkey FOR EACH ROW EXECUTE FUNCTION tenants_key_changed()",
    "CREATE TRIGGER tenants_tenant_bumps_config AFTER UPDATE"
    " ON tenants_tenant FOR EACH ROW EXECUTE FUNCTION tenants_key_changed()",
]
_BACKWARD = [
    "DROP TRIGGER tenants_tenant_bumps_config ON tenants_tenant",
    "DROP TRIGGER tenants_ingestkey_bumps_config ON tenants_ingestkey",
    "DROP FUNCTION tenants_key_changed()",
]


class Migration(migrations.Migration):
    dependencies = [("tenants", "0007_api_token_scopes_expiry")]

    operations = [migrations.RunSQL(_FORWARD, _BACKWARD)]
