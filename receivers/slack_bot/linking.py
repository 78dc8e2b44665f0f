"""Binding a Slack user to a Herald person: the "link your account" answer and the page it opens.

An unlinked user who clicks a button (or types `/herald`) gets, in a reply
only they see, a link (escalation.people.chat_links) that a member of the
tenant opens logged in to bind that Slack user to their own person as a
verified `slack_app` contact method: their clicks then act as them, and
pages can reach them by DM.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from escalation.models import Person
from escalation.people.chat_links import ChatAccounts, chat_link_url, chat_person
from tenants.models import Tenant

KIND = "slack_app"
SLACK_ACCOUNTS = ChatAccounts(
    kind=KIND, salt="herald.slack-link", service="Slack", path="slack",
    ask_again=gettext_lazy("click the button in Slack again"),
    reach=gettext_lazy("by direct message"),
)


def slack_link_url(*, tenant: Tenant, slack_user_id: str, slack_name: str) -> str:
    """Raises SecretUnreadable when the tenant's signing key cannot be decrypted."""
    return chat_link_url(accounts=SLACK_ACCOUNTS, tenant=tenant, user_id=slack_user_id,
                         name=slack_name)


def slack_person(*, slack_user_id: str) -> Person | None:
    """The person a Slack user is bound to: their verified `slack_app` contact method."""
    return chat_person(accounts=SLACK_ACCOUNTS, user_id=slack_user_id)
