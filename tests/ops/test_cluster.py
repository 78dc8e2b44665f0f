"""The cluster proof, shorter: Herald on network-namespace hosts survives its faults.

A shorter run of `make bench-cluster` (bench/cluster/, docs/cluster.md), once
per broker: while alerts flow into a real Alertmanager that posts them through
HAProxy to two web hosts, a web host and a worker host are killed with
SIGKILL, another worker host's link is pulled, and PostgreSQL is restarted.
Every alert Alertmanager accepted must reach the receiver; deliveries beyond
the first stay within what Herald's idempotency keys allow. The proof runs in
its own process: it reaches only the namespaces it creates, never the network
this test suite's jail keeps it from. Needs root: `make test-cluster`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.cluster


def test_no_alert_is_lost_when_hosts_die_a_link_is_cut_and_postgresql_restarts(tmp_path):
    out = tmp_path / "cluster.json"
    done = subprocess.run(  # noqa: S603 - our own proof
        [sys.executable, "-m", "bench.cluster", "--short", "--out", str(out)],
        cwd=Path(settings.BASE_DIR), capture_output=True, text=True, timeout=1800,
    )
    print(done.stdout[-6000:], done.stderr[-3000:])
    assert out.exists(), done.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    assert [result["broker"] for result in results] == ["RabbitMQ", "Redis"]
    for result in results:
        counts = result["counts"]
        assert counts["posted"] > 0
        assert counts["lost"] == 0, (result["broker"], counts["lost_seqs"])
        # Ingest's key: one notification per alert state, whatever was retried.
        assert counts["alerts_with_several_keys"] == 0
        # Delivery's key: resends only of sends a fault cut short, each at most once per fault.
        assert counts["duplicates"] <= counts["duplicate_bound"]
        assert counts["per_key_max"] <= counts["per_key_bound"]
        assert [fault["name"] for fault in counts["faults"]] == [
            "web host killed (SIGKILL)", "worker host killed (SIGKILL)",
            "worker host unplugged (link down)", "PostgreSQL restarted",
        ]
        for fault in counts["faults"]:
            assert fault["alerts"] > 0  # alerts flowed through every fault
        assert result["throughput_one"][1] > 0 and result["throughput_two"][1] > 0
    assert done.returncode == 0
