"""deploy/herald.env.example lists every variable Herald's settings read, and nothing else."""

from __future__ import annotations

from pathlib import Path

from tests.ops.env_reads import env_names_in_files, env_names_read, env_template_names

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "herald.env.example"
# Read by Herald outside the settings and meant for operators (runherald, metrics,
# outbound HTTP); the rest (USER, XDG_RUNTIME_DIR) are the platform's own.
OUTSIDE_SETTINGS = {"HERALD_HOST", "PORT", "PROMETHEUS_MULTIPROC_DIR", "REQUESTS_CA_BUNDLE",
                    "CURL_CA_BUNDLE"}


def settings_reads() -> dict[str, set[Path]]:
    return env_names_in_files(sorted((REPO / "alerting" / "infra").glob("settings*.py")))


def test_every_variable_the_settings_read_is_in_the_template():
    listed = env_template_names(TEMPLATE.read_text())
    missing = {name: sorted(str(p.relative_to(REPO)) for p in paths)
               for name, paths in settings_reads().items() if name not in listed}
    assert not missing, f"add these to deploy/herald.env.example: {missing}"


def test_the_template_lists_nothing_herald_does_not_read():
    code = [path for app in ("alerting", "tenants", "receivers", "escalation")
            for path in (REPO / app).rglob("*.py")]
    read = set(env_names_in_files(code)) | OUTSIDE_SETTINGS
    stale = env_template_names(TEMPLATE.read_text()) - read
    assert not stale, f"no code reads these any more: {sorted(stale)}"


def test_the_parser_finds_each_way_of_reading_the_environment():
    source = '''
import os
A = os.environ.get("ONE", "x")
B = os.environ["TWO"]
C = _env_bool("THREE", False)
D = _env_list("FOUR")
if "FIVE" in os.environ: pass
E = os.getenv("SIX")
'''
    assert env_names_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}
    assert env_template_names("X=1\n#Y=\n# a comment\n  #Z=2\nlower=3\n") == {"X", "Y", "Z"}
