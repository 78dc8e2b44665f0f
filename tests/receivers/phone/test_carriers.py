"""A number is paged through the carrier of its country prefix, else the default one;
a prefix claimed twice, or two defaults, are refused where carriers are saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from receivers.carriers import CarrierEntry, carrier_choose, carrier_conflicts, page_carrier_for
from receivers.models import Notification, Receiver
from receivers.services import receiver_save
from receivers.transports.registry import contact_kind_channels, contact_kind_choices
from tests.escalation.conftest import clock  # noqa: F401 (a fixture)
from tests.escalation.paging.conftest import fire, policy_with, tick  # noqa: F401 (fixtures)
from tests.factories import ContactMethodFactory, PersonFactory
from tests.receivers.phone.phone_channel import (  # noqa: F401 (a fixture)
    LoopbackPhoneTransport,
    loopback_phone,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_phone")]


def carrier(name: str, *prefixes: str, enabled: bool = True) -> Receiver:
    config = {"url": "http://127.0.0.1:9/phone"}
    if prefixes:
        config["country_prefixes"] = list(prefixes)
    return receiver_save(
        receiver=Receiver(name=name, kind="loopphone", carries_pages=True, enabled=enabled),
        config=config, secrets={},
    )


def test_the_longest_prefix_wins_else_the_default():
    entries = [CarrierEntry("default", "loopphone", {}),
               CarrierEntry("america", "loopphone", {"country_prefixes": ["+1"]}),
               CarrierEntry("california", "loopphone", {"country_prefixes": ["+1415"]})]
    def chosen(number):
        return carrier_choose(entries, address=number).name
    assert chosen("+14155552671") == "california"
    assert chosen("+12125550100") == "america"
    assert chosen("+4915123456789") == "default"
    assert carrier_choose(entries[1:], address="+4915123456789") is None


def test_sms_and_voice_are_contact_kinds_of_the_channels_that_carry_them():
    kinds = dict(contact_kind_choices())
    assert (kinds["sms"], kinds["voice"], kinds["email"]) == ("SMS", "Voice call", "Email")
    assert "loopphone" not in kinds  # a channel is not a contact kind
    assert "loopphone" in contact_kind_channels("sms")
    assert LoopbackPhoneTransport.pages_people


def test_a_number_goes_to_its_prefix_carrier_or_the_default(alpha):
    germany = carrier("germany", "+49")
    default = carrier("everywhere")
    carrier("off", "+4915", enabled=False)  # a disabled carrier carries nothing

    assert page_carrier_for(contact_kind="sms", address="+4915123456789") == germany
    assert page_carrier_for(contact_kind="voice", address="+4915123456789") == germany
    assert page_carrier_for(contact_kind="sms", address="+33612345678") == default
    assert page_carrier_for(contact_kind="email", address="a@example.com") is None


def test_a_prefix_claimed_twice_is_refused_naming_both(alpha):
    carrier("germany", "+49", "+43")

    with pytest.raises(ValidationError) as excinfo:
        carrier("austria", "+43")

    assert excinfo.value.message_dict["carries_pages"] == [
        "+43 is claimed twice for sms pages ('germany' claims it already)",
        "+43 is claimed twice for voice pages ('germany' claims it already)",
    ]
    assert not Receiver.objects.filter(name="austria").exists()


def test_two_defaults_are_refused_but_a_second_carrier_with_prefixes_is_not(
    alpha
):
    carrier("everywhere")
    carrier("germany", "+49")

    with pytest.raises(ValidationError) as excinfo:
        carrier("also-everywhere")

    assert "'everywhere' already carries the sms pages of every number" in (
        excinfo.value.message_dict["carries_pages"][0])


def test_a_bad_prefix_is_refused_naming_the_setting(alpha):
    with pytest.raises(ValidationError) as excinfo:
        carrier("germany", "49")

    assert "not a country prefix" in excinfo.value.message_dict["country_prefixes"][0]


def test_conflicts_name_the_later_receiver_once():
    conflicts = carrier_conflicts([
        CarrierEntry("mail-a", "email", {}), CarrierEntry("mail-b", "email", {}),
    ])
    assert [(c.name, c.setting, c.message) for c in conflicts] == [
        ("mail-b", "carries_pages", "'mail-a' carries the email pages already (one per kind)")]


def test_a_page_by_sms_goes_through_the_carrier_of_the_number(
    alpha, fire, clock  # noqa: F811
):
    carrier("germany", "+49")
    default = carrier("everywhere")
    alice = PersonFactory(user__username="alice")
    ContactMethodFactory(person=alice, kind="sms", address="+33612345678")

    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()

    page = Notification.objects.get(page__isnull=False)
    assert (page.receiver, page.channel, page.contact_kind, page.recipient_address) == (
        default, "loopphone", "sms", "+33612345678")


def test_a_number_no_carrier_takes_is_a_recorded_gap_not_a_silent_page(
    alpha, fire, clock  # noqa: F811
):
    from escalation.models import EscalationEvent

    carrier("germany", "+49")  # and no default
    alice = PersonFactory(user__username="alice", display_name="Alice")
    ContactMethodFactory(person=alice, kind="sms", address="+33612345678")

    fire(escalation_policy=policy_with([(0, [{"kind": "person", "person": alice}])]))
    tick()

    assert not Notification.objects.filter(page__isnull=False).exists()
    assert any("Alice cannot be paged: no enabled receiver carries sms pages" in event.detail
               for event in EscalationEvent.objects.all())
