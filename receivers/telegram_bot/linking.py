"""Binding a Telegram account to a Herald person: the bot's /link answer and the page it opens.

The bot answers /link (in a private chat) with a link
(escalation.people.chat_links) that a member of the tenant opens logged in
to bind that Telegram user to their own person as a verified `telegram`
contact method. Pressing a button then acts as them, and pages can reach
them in their chat with the bot.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from escalation.models import Person
from escalation.people.chat_links import (
    ChatAccounts,
    chat_link_token,
    chat_link_url,
    chat_person,
)
from tenants.models import Tenant

KIND = "telegram"
TELEGRAM_ACCOUNTS = ChatAccounts(
    kind=KIND, salt="herald.telegram-link", service="Telegram", path="telegram",
    ask_again=gettext_lazy("send /link to the bot again"),
    reach=gettext_lazy("in your chat with the bot"),
)


def telegram_link_token(*, tenant: Tenant, telegram_user_id: int, telegram_name: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    return chat_link_token(accounts=TELEGRAM_ACCOUNTS, tenant=tenant,
                           user_id=str(telegram_user_id), name=telegram_name)


def telegram_link_url(*, tenant: Tenant, telegram_user_id: int, telegram_name: str) -> str:
    return chat_link_url(accounts=TELEGRAM_ACCOUNTS, tenant=tenant,
                         user_id=str(telegram_user_id), name=telegram_name)


def telegram_person(*, telegram_user_id: int) -> Person | None:
    """The person a Telegram user is bound to: their verified `telegram` contact method."""
    return chat_person(accounts=TELEGRAM_ACCOUNTS, user_id=str(telegram_user_id))
