"""Compile every app's translation catalogue (.po to .mo) with Babel; `make messages`."""

from django.core.management.base import BaseCommand

from alerting.infra.i18n_catalogues import (
    CATALOGUES,
    catalogue_update,
    catalogues_compile,
)


class Command(BaseCommand):
    help = (
        "Compile every app's catalogue (<app>/locale/<lang>/LC_MESSAGES/django.po) into its "
        ".mo, in pure Python. --update first adds the sources' new texts to the .po files."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--update", action="store_true",
            help="Extract the texts of each app's code and templates (makemessages) and merge "
            "them into its fr and de catalogues before compiling.",
        )
        parser.add_argument("--app", action="append", choices=[spec.name for spec in CATALOGUES],
                            help="With --update: only this app's catalogue (repeatable).")
        parser.add_argument("--stale", action="store_true",
                            help="Only the catalogues whose .mo is missing or older than the .po.")

    def handle(self, *args, update: bool, app: list[str] | None, stale: bool, **options):
        if update:
            for spec in CATALOGUES:
                if app and spec.name not in app:
                    continue
                for po in catalogue_update(spec=spec):
                    self.stdout.write(f"updated {po}")
        compiled = catalogues_compile(only_stale=stale)
        self.stdout.write(f"compiled {len(compiled)} catalogue(s)")
