"""The operator's backup key, from the command line: a passphrase or a key file.

The passphrase is read from an environment variable the operator names, or
asked for at the terminal, never taken as an argument (it would show in `ps`
and the shell's history).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from django.core.management.base import CommandError

from tenants.backup.format import BackupError, BackupSecret


def secret_arguments(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--key-file", help="A file of at least 32 random bytes to seal with.")
    group.add_argument(
        "--passphrase-env", metavar="VARIABLE",
        help="Name of an environment variable holding the passphrase "
        "(else it is asked for at the terminal).",
    )


def secret_from_options(*, key_file: str | None, passphrase_env: str | None,
                        confirm: bool) -> BackupSecret:
    try:
        if key_file:
            return BackupSecret(key_file=Path(key_file).read_bytes())
        if passphrase_env:
            value = os.environ.get(passphrase_env)
            if not value:
                raise CommandError(f"the environment variable {passphrase_env} is empty")
            return BackupSecret(passphrase=value)
        value = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("Again: ") != value:
            raise CommandError("the passphrases differ")
        return BackupSecret(passphrase=value)
    except OSError as exc:
        raise CommandError(f"cannot read the key file: {exc.strerror}") from None
    except BackupError as exc:
        raise CommandError(str(exc)) from None
