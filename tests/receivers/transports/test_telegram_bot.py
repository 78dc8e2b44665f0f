"""What the bot does with updates: a linked person's press acts as them, others change nothing.

The updates are handled as the webhook's task handles them; the bot's
answers go to a stand-in Bot API on loopback that checks their shape.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from alerting.audit.models import AuditEntry
from escalation.actions import action_compact_token
from escalation.models import ContactMethod
from escalation.people.confirmation import contact_method_verification_send
from receivers.telegram_bot.linking import telegram_link_token
from receivers.telegram_bot.services import telegram_update_handle
from tests.factories import (
    AlertGroupFactory,
    ContactMethodFactory,
    PersonFactory,
    ReceiverFactory,
    ScheduleFactory,
    ScheduleLayerFactory,
)
from tests.ingest import keep_schema
from tests.receivers.transports.telegram_standin import (
    CHAT,
    SECRET,
    TOKEN,
    BotApi,
    button_update,
    command_update,
    telegram_config,
    user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(httpserver):
    return BotApi(httpserver)


@pytest.fixture
def bot(alpha, httpserver):
    return ReceiverFactory(name="tg", kind="telegram", config=telegram_config(httpserver),
                           secrets={"bot_token": TOKEN, "webhook_secret": SECRET})


@pytest.fixture
def group(alpha):
    return AlertGroupFactory(common_labels={"alertname": "HighLatency"})


def linked(display_name, telegram_id, role="editor"):
    person = PersonFactory(display_name=display_name, membership=role)
    ContactMethodFactory(person=person, kind="telegram", address=str(telegram_id))
    return person


def press(alpha, bot, group, action, who):
    token = action_compact_token(tenant=alpha, alert_group_id=group.id,
                                 incident=group.incident, action=action)
    return telegram_update_handle(receiver_id=bot.id,
                                  update=button_update(f"h1:{token}", who=who))


def test_a_linked_editor_acknowledges_and_a_second_press_says_who_did(alpha, api, bot, group):
    linked("Alice", 7001)

    assert press(alpha, bot, group, "acknowledge", user(7001)) == "done"
    group.refresh_from_db()
    assert group.acknowledged_by == "Alice"
    [answer] = api.of("answerCallbackQuery")
    assert answer == {"callback_query_id": "q-1", "text": "Acknowledged by Alice.",
                      "show_alert": False}
    entry = AuditEntry.objects.get(action="acknowledge")
    assert entry.after["channel"] == "telegram" and entry.after["person"] == "Alice"

    linked("Bob", 7002)
    assert press(alpha, bot, group, "acknowledge", user(7002, "bob")) == "not done"
    assert api.of("answerCallbackQuery")[-1]["text"] == "Already acknowledged by Alice."
    group.refresh_from_db()
    assert group.acknowledged_by == "Alice"
    assert AuditEntry.objects.filter(action="acknowledge").count() == 1


def test_an_unlinked_telegram_user_is_told_to_link_and_nothing_changes(alpha, api, bot, group):
    assert press(alpha, bot, group, "resolve", user(6666, "mallory")) == "unlinked"

    group.refresh_from_db()
    assert group.status == "firing" and group.acknowledged_at is None
    [answer] = api.of("answerCallbackQuery")
    assert answer["show_alert"] is True and "/link" in answer["text"]
    assert "@mallory" in answer["text"] and len(answer["text"]) <= 200


def test_an_unverified_telegram_contact_acts_as_nobody(alpha, api, bot, group):
    person = PersonFactory(display_name="Eve", membership="admin")
    ContactMethodFactory(person=person, kind="telegram", address="7003", verified_at=None)
    assert press(alpha, bot, group, "acknowledge", user(7003, "eve")) == "unlinked"
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_a_linked_person_without_rights_is_refused(alpha, api, bot, group):
    linked("Carol", 7004, role="auditor")  # not paged for this incident

    assert press(alpha, bot, group, "resolve", user(7004, "carol")) == "not done"
    group.refresh_from_db()
    assert group.status == "firing"
    [answer] = api.of("answerCallbackQuery")
    assert answer["show_alert"] is True and "Nothing was changed" in answer["text"]


@pytest.mark.parametrize("data", ["h1:not-a-token", "other", "h1:" + "A" * 48])
def test_a_forged_or_foreign_button_changes_nothing(alpha, api, bot, group, data):
    linked("Alice", 7001)
    assert telegram_update_handle(
        receiver_id=bot.id, update=button_update(data, who=user(7001))
    ) == "bad token"
    group.refresh_from_db()
    assert group.acknowledged_at is None
    assert api.of("answerCallbackQuery")[0]["show_alert"] is True


def test_another_tenants_button_changes_nothing(alpha, beta, api, bot, group):
    linked("Alice", 7001)
    token = action_compact_token(tenant=beta, alert_group_id=group.id,
                                 incident=group.incident, action="acknowledge")
    outcome = telegram_update_handle(receiver_id=bot.id,
                                     update=button_update(f"h1:{token}", who=user(7001)))
    assert outcome == "bad token"
    group.refresh_from_db()
    assert group.acknowledged_at is None


def test_oncall_in_the_alert_chat_names_who_is_on_call(alpha, api, bot):
    alice = PersonFactory(display_name="Alice")
    schedule = ScheduleFactory(name="Primary")
    ScheduleLayerFactory(schedule=schedule, members=[alice])

    assert telegram_update_handle(receiver_id=bot.id,
                                  update=command_update("/oncall@herald_bot")) == "oncall"
    [reply] = api.of("sendMessage")
    assert reply["chat_id"] == CHAT
    assert reply["reply_parameters"]["message_id"] == 55
    assert "Primary: Alice" in reply["text"]


def test_oncall_is_not_told_to_strangers_in_private(alpha, api, bot):
    outcome = telegram_update_handle(
        receiver_id=bot.id, update=command_update("/oncall", who=user(6666, "x"), private=True)
    )
    assert outcome == "oncall refused"
    [reply] = api.of("sendMessage")
    assert "On call now" not in reply["text"]


def test_link_in_a_group_is_refused_and_in_private_sends_a_link(alpha, api, bot):
    assert telegram_update_handle(receiver_id=bot.id,
                                  update=command_update("/link")) == "link refused"
    assert telegram_update_handle(receiver_id=bot.id,
                                  update=command_update("/link", private=True)) == "link"
    refusal, reply = api.of("sendMessage")
    assert "private chat" in refusal["text"]
    assert reply["chat_id"] == 7001
    assert "/telegram/link/alpha:" in reply["text"]

    linked("Alice", 7001)
    assert telegram_update_handle(receiver_id=bot.id,
                                  update=command_update("/link", private=True)) == "linked"
    assert "linked to Alice" in api.of("sendMessage")[-1]["text"]
    assert "/telegram/link/" not in api.of("sendMessage")[-1]["text"]


def link_page(path, person=None, method="get", host="alpha.localhost"):
    client = Client(HTTP_HOST=host)
    if person is not None:
        client.force_login(person.user)
    with keep_schema():
        return getattr(client, method)(path)


def test_a_member_opening_the_link_binds_the_account_to_themselves(alpha, api, bot, group):
    alice = PersonFactory(display_name="Alice", membership="editor")
    token = telegram_link_token(tenant=alpha, telegram_user_id=7001, telegram_name="@alice_sre")
    path = f"/telegram/link/{token}/"

    assert link_page(path).status_code == 302  # signed out: to the login first
    page = link_page(path, alice)
    assert page.status_code == 200 and b"Link this account" in page.content
    assert not ContactMethod.objects.filter(kind="telegram").exists()  # GET changes nothing

    done = link_page(path, alice, method="post")
    assert done.status_code == 200 and b"Telegram account linked" in done.content
    method = ContactMethod.objects.get(kind="telegram")
    assert (method.person, method.address, method.verified) == (alice, "7001", True)
    assert press(alpha, bot, group, "acknowledge", user(7001)) == "done"


def test_a_link_bound_elsewhere_expired_or_of_another_tenant_binds_nothing(alpha, beta, api):
    linked("Alice", 7001)
    bob = PersonFactory(display_name="Bob", membership="editor")
    taken = telegram_link_token(tenant=alpha, telegram_user_id=7001, telegram_name="@a")
    assert link_page(f"/telegram/link/{taken}/", bob, method="post").status_code == 409

    foreign = telegram_link_token(tenant=beta, telegram_user_id=7002, telegram_name="@b")
    assert link_page(f"/telegram/link/{foreign}/", bob, method="post").status_code == 400
    fresh = telegram_link_token(tenant=alpha, telegram_user_id=7002, telegram_name="@b")
    tampered = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")
    assert link_page(f"/telegram/link/{tampered}/", bob, method="post").status_code == 400
    assert link_page(f"/telegram/link/{fresh}/", bob, method="post",
                     host="127.0.0.1").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert link_page(f"/telegram/link/{fresh}/", bob, method="post").status_code == 410
    assert not ContactMethod.objects.filter(kind="telegram", person=bob).exists()


def test_oncall_asked_in_a_forum_topic_is_answered_in_that_topic(alpha, api, bot):
    update = command_update("/oncall")
    update["message"].update(message_thread_id=12, is_topic_message=True)

    assert telegram_update_handle(receiver_id=bot.id, update=update) == "oncall"
    [reply] = api.of("sendMessage")
    assert reply["message_thread_id"] == 12
    assert reply["text"] == "Alpha has no on-call schedules."


def test_a_telegram_contact_is_not_confirmed_by_mail_but_by_link(alpha):
    person = PersonFactory(display_name="Dan")
    method = ContactMethodFactory(person=person, kind="telegram", address="7010",
                                  verified_at=None)
    with pytest.raises(ValidationError) as refused:
        contact_method_verification_send(contact_method=method)
    assert "/link" in refused.value.message_dict["kind"][0]
