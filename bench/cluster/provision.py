"""Run on a web host before the others start: migrate, then the proof's tenant.

Prints the tenant's new ingest key (last line). The tenant may send to
private addresses (the receiver is on the cluster's 10.x subnet) and has no
rate limit; its one webhook receiver retries long enough to outlast any fault.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alerting.infra.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receiver-url", required=True)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from bench.common import bench_tenant
    from receivers.models import Receiver

    call_command("migrate_schemas", interactive=False, verbosity=0)
    tenant, key = bench_tenant(slug="cluster", receiver_url=args.receiver_url)
    with tenant_context(tenant):
        Receiver.objects.filter(name="bench").update(max_attempts=50)
    print(key)


if __name__ == "__main__":
    main()
