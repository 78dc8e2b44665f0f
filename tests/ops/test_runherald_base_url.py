"""`runherald --port P` without HERALD_BASE_URL: acknowledge links point at port P
(they used to say 8000 whatever --port said), and /metrics asks for the token it
printed."""

from __future__ import annotations

import re

import psutil
import pytest
import requests

from tests.runherald import private_var_dir, running_herald

pytestmark = pytest.mark.e2e


def _environ_of(var_dir, module: str) -> dict[str, str]:
    """The environment of runherald's child that runs `python -m <module>`."""
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        try:
            env = process.environ()
        except psutil.Error:
            continue
        if f"-m {module} " in cmdline and env.get("HERALD_VAR_DIR") == str(var_dir):
            return env
    pytest.fail(f"no {module} process of {var_dir}")


def test_links_follow_the_port_and_metrics_need_the_printed_token():
    with private_var_dir("run-base-url") as var_dir, running_herald(var_dir) as herald:
        expected = f"http://127.0.0.1:{herald.port}"
        assert f"Links go to:   {expected}/" in herald.banner
        # The worker renders the links of every notification; the web tier those of pages.
        for process in ("celery", "gunicorn"):
            assert _environ_of(var_dir, process)["HERALD_BASE_URL"] == expected

        token = re.search(r"Authorization: Bearer (\S+)\)", herald.banner).group(1)
        refused = requests.get(f"{herald.base_url}/metrics", timeout=5)
        allowed = requests.get(f"{herald.base_url}/metrics", timeout=5,
                               headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert allowed.status_code == 200 and "django_http_requests" in allowed.text
