"""/metrics under `runherald`: two gunicorn workers and a Celery worker, one set of totals."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import wait_for
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory
from tests.runherald import private_var_dir, running_herald

pytestmark = pytest.mark.e2e


def _value(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_ingest_and_delivery_metrics_add_up_over_all_processes():
    with (
        private_var_dir("run-test-metrics") as var_dir,
        running_herald(var_dir, web_workers=2) as herald,
    ):
        key = re.search(r"Ingest key:\s+(\S+)", herald.banner).group(1)
        base = herald.base_url
        session = requests.Session()
        # runherald --demo makes a /metrics token and prints it.
        token = re.search(r"Authorization: Bearer (\S+)\)", herald.banner).group(1)
        session.headers["Authorization"] = f"Bearer {token}"
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 401
        run = uuid.uuid4().hex[:8]  # the demo tenant's data outlives a run: new alerts each time
        for batch in range(3):
            payload = WebhookPayloadFactory(
                groupKey=f'{{}}:{{run="{run}",batch="{batch}"}}',
                alerts=[WebhookAlertFactory(fingerprint=f"{run}{batch}{n:07x}") for n in range(2)],
            )
            # A new connection each time, so both gunicorn workers take some.
            response = requests.post(
                f"{base}/api/v1/alertmanager/", json=payload, timeout=10,
                headers={"Authorization": f"Bearer {key}", "Connection": "close"},
            )
            assert response.status_code == 200, response.text

        def totals() -> tuple[float, float]:
            response = session.get(f"{base}/metrics", timeout=5)
            # Not parsed when it is not the exposition: say what /metrics answered.
            assert response.status_code == 200, (response.status_code, response.text[:500],
                                                 herald.log_tail())
            text = response.text
            return (
                _value(text, "alertmanager_alerts_total", tenant="demo", status="firing"),
                _value(text, "alertmanager_notifications_total", tenant="demo",
                       status="delivered"),
            )

        # Delivered counts come from the Celery worker process, alerts from gunicorn's.
        wait_for(lambda: totals() == (6, 3), timeout=20)
        for _ in range(6):  # whichever worker answers, the totals are the same
            assert totals() == (6, 3)
        files = list((var_dir / "prometheus").glob("counter_*.db"))
        assert len(files) >= 3  # two web workers and the Celery worker at least
        health = session.get(f"{base}/api/v1/health/ready", timeout=10)
        assert health.status_code == 200, health.text
