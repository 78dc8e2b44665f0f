"""Upgrades without downtime: the previous release still ingests on the new release's schema.

During a rolling upgrade the new release's migrations run first, while hosts
still serve the old code (docs/operating.md, "Upgrades without downtime").
Here the old code is a `git worktree` of an earlier commit, run in a process
of its own (its modules first on sys.path, this venv's packages) against the
test database, which this checkout's migrations built. It must take a
webhook and store it; the new code must then read what it stored.

The earlier commit: HERALD_PREVIOUS_RELEASE if set; else HEAD when this
checkout has migrations not yet committed; else the commit `deploy/previous-release`
names (the newest landed release, kept in git because a fresh clone has no
tags). A commit in the middle of a session's work is never chosen: it may not
run at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from alerting.models import Alert
from tests.conftest import broker
from tests.factories import WebhookAlertFactory, WebhookPayloadFactory

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = ["*/migrations/*.py", "*/*/migrations/*.py"]


def git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - git on our own checkout
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=60,  # noqa: S607
    ).stdout.strip()


def previous_release() -> str:
    if chosen := os.environ.get("HERALD_PREVIOUS_RELEASE"):
        return git("rev-parse", chosen)
    if git("status", "--porcelain", "--", *MIGRATIONS):
        return git("rev-parse", "HEAD")
    return git("rev-parse", f"{released_commit()}^{{commit}}")


def released_commit() -> str:
    lines = (REPO / "deploy/previous-release").read_text().splitlines()
    return next(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@pytest.fixture
def old_release():
    commit = previous_release()
    folder = Path(tempfile.mkdtemp(prefix="herald-previous-")) / "code"
    git("worktree", "add", "--detach", str(folder), commit)
    try:
        yield commit, folder
    finally:
        git("worktree", "remove", "--force", str(folder))
        shutil.rmtree(folder.parent, ignore_errors=True)


def test_the_previous_release_ingests_on_the_new_schema(
    committed_tenants, ingest_key, old_release
):
    commit, code = old_release
    alpha = committed_tenants["alpha"]
    alert = WebhookAlertFactory(labels={"alertname": "UpgradeCheck", "served_by": "old"})
    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "DJANGO_SETTINGS_MODULE": "alerting.infra.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}"
                        f"{':' + str(db['PORT']) if db['PORT'] else ''}/{db['NAME']}",
        "CELERY_BROKER_URL": broker.url,
        # Nobody consumes this queue: the old code's enqueue is not what is tested here.
        "HERALD_CELERY_QUEUE": f"upgrade-{uuid.uuid4().hex[:8]}",
        "HERALD_VAR_DIR": str(settings.VAR_DIR),
        "INGEST_KEY": ingest_key(alpha),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(REPO / "tests/ops/old_release_ingest.py"),
         json.dumps(WebhookPayloadFactory(alerts=[alert]))],
        cwd=code, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200, f"release {commit[:8]} answered {answer}"
    with tenant_context(alpha):  # the new code reads what the old one stored
        stored = Alert.objects.get(fingerprint=alert["fingerprint"])
        assert stored.labels["served_by"] == "old"
