"""Running Herald code in another process against the test database, as another host would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def django_shell_run(script: str) -> None:
    """Run `script` with `manage.py shell -c` on the test database; fail if it fails."""
    db = connection.settings_dict
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HERALD_VAR_DIR": str(settings.VAR_DIR),
            "DATABASE_URL": f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}",
        },
    )
