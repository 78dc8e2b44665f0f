"""Register a Telegram receiver's bot webhook with Telegram (or remove it with --delete).

    manage.py telegram_webhook_register --tenant acme --receiver oncall-telegram

The URL is on HERALD_BASE_URL (Telegram needs it public and HTTPS); a new
random secret goes with it (setWebhook's secret_token), and the endpoint
refuses any request without it. Run again to change the secret.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from alerting.encryption import SecretUnreadable
from receivers.models import Receiver
from receivers.telegram_bot.registration import telegram_webhook_delete, telegram_webhook_register
from receivers.transports import TransportError
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Register (or with --delete remove) a Telegram receiver's bot webhook."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--receiver", required=True, help="The receiver's name or id.")
        parser.add_argument("--delete", action="store_true", help="Remove the webhook.")

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r}")
        with tenant_context(tenant):
            wanted = options["receiver"]
            receivers = Receiver.objects.filter(kind="telegram")
            receiver = receivers.filter(name=wanted).first() or (
                receivers.filter(pk=int(wanted)).first() if wanted.isdigit() else None
            )
            if receiver is None:
                raise CommandError(f"{tenant.slug} has no Telegram receiver {wanted!r}")
            try:
                if options["delete"]:
                    telegram_webhook_delete(receiver=receiver)
                    self.stdout.write(f"webhook of {receiver.name!r} removed")
                    return
                url = telegram_webhook_register(receiver=receiver)
            except TransportError as exc:
                raise CommandError(f"Telegram refused: {exc.message}") from None
            except SecretUnreadable:
                raise CommandError(
                    "the receiver's secrets cannot be decrypted with the configured keys"
                ) from None
        self.stdout.write(f"webhook of {receiver.name!r} registered: {url}")
