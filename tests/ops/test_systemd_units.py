"""The systemd units in deploy/systemd/ load, point at what exists, and are hardened.

`systemd-analyze verify` is run on copies of the units whose /opt/herald and
/etc/herald paths are rewritten to a temporary install (its venv's python is
this checkout's), so the ExecStart binaries exist as they will on a host.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
SERVICES = ["herald-web.service", "herald-worker.service", "herald-beat.service",
            "herald-migrate.service"]


def install_copy(root: Path, *, python: Path) -> Path:
    """The units as a host would have them, with /opt/herald and /etc/herald under `root`."""
    (root / "opt/herald/.venv/bin").mkdir(parents=True)
    (root / "opt/herald/.venv/bin/python").symlink_to(python)
    (root / "etc/herald").mkdir(parents=True)
    (root / "etc/herald/herald.env").write_text((REPO / "deploy/herald.env.example").read_text())
    units = root / "units"
    units.mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/herald", f"{root}/opt/herald")
        (units / unit.name).write_text(text.replace("/etc/herald", f"{root}/etc/herald"))
    return units


def verify(units: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - systemd's own tool on our files
        [SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(str(p) for p in units.iterdir())],
        capture_output=True, text=True, timeout=60,
    )


@pytest.fixture
def installed(tmp_path) -> Path:
    return install_copy(tmp_path, python=REPO / ".venv/bin/python")


def test_the_units_verify_cleanly(installed):
    result = verify(installed)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_verify_would_catch_a_missing_executable(tmp_path):
    units = install_copy(tmp_path, python=tmp_path / "no-such-python")
    result = verify(units)
    assert result.returncode != 0
    assert "is not executable" in result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_hardened(installed, service):
    result = subprocess.run(  # noqa: S603
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--threshold=20",  # tenths: 2.0
         str(installed / service)],
        capture_output=True, text=True, timeout=60,
    )
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", result.stdout)
    assert exposure, result.stdout + result.stderr
    assert float(exposure.group(1)) <= 2.0 and result.returncode == 0, result.stdout
    text = (UNITS / service).read_text()
    for setting in ("User=herald", "NoNewPrivileges=yes", "ProtectSystem=strict",
                    "ProtectHome=yes", "PrivateTmp=yes",
                    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                    "EnvironmentFile=/etc/herald/herald.env", "CapabilityBoundingSet=\n"):
        assert setting in text, f"{service} lacks {setting.strip()}"


def test_stops_are_graceful_and_long_enough_for_a_send():
    worker = (UNITS / "herald-worker.service").read_text()
    # Celery's warm shutdown is SIGTERM; the main process alone gets it first.
    assert "KillSignal=SIGTERM" in worker and "KillMode=mixed" in worker
    timeout = int(re.search(r"TimeoutStopSec=(\d+)", worker).group(1))
    assert timeout >= 2 * 10 + 5 + 5  # a send's default lease, plus a runner's claim
    beat = (UNITS / "herald-beat.service").read_text()
    assert "--schedule /var/lib/herald/" in beat  # the writable StateDirectory
