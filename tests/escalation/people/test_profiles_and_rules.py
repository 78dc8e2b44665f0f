"""Profiles are for the tenant's own members; addresses are checked by their channel;
notification rules page only the person's own contact methods."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from alerting.audit.models import AuditEntry
from escalation.models import ContactMethod, Person
from escalation.people.services import (
    MAX_CONTACT_METHODS,
    RuleSpec,
    contact_method_create,
    contact_method_update,
    notification_rule_set,
    person_create,
    person_delete,
    person_update,
)
from tests.escalation.people.conftest import member_of
from tests.factories import ContactMethodFactory, PersonFactory

pytestmark = pytest.mark.django_db


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_a_member_of_the_tenant_gets_a_profile(alpha):
    alice = member_of(alpha, "alice")

    person = person_create(user=alice, display_name="  Alice   Liddell ",
                           time_zone="Europe/Berlin", language="de")

    assert Person.objects.get(user_id=alice.pk) == person
    assert (person.display_name, person.time_zone, person.language) == (
        "Alice Liddell", "Europe/Berlin", "de")
    assert AuditEntry.objects.filter(action="person_create", object_id=str(person.pk)).exists()


def test_a_member_of_another_tenant_gets_no_profile_here(alpha, beta):
    mallory = member_of(beta, "mallory", role="admin")

    with pytest.raises(ValidationError) as excinfo:
        person_create(user=mallory, display_name="Mallory")

    assert "not a member of this tenant" in field_errors(excinfo)["user"][0]
    assert not Person.objects.exists()


def test_one_profile_per_member(alpha):
    alice = member_of(alpha, "alice")
    person_create(user=alice, display_name="Alice")

    with pytest.raises(ValidationError) as excinfo:
        person_create(user=alice, display_name="Alice again")

    assert "already has a profile" in field_errors(excinfo)["user"][0]


@pytest.mark.parametrize(("field", "values"), [
    ("time_zone", {"time_zone": "Mars/Olympus_Mons"}),
    ("time_zone", {"time_zone": "../../etc/passwd"}),
    ("time_zone", {"time_zone": "America"}),  # a folder of the zone database
    ("time_zone", {"time_zone": "x" * 5000}),
    ("display_name", {"display_name": "   "}),
    ("display_name", {"display_name": "a" * 101}),
    ("language", {"language": "xx"}),
])
def test_a_bad_profile_is_refused_naming_the_field(alpha, field, values):
    alice = member_of(alpha, "alice")
    arguments = {"display_name": "Alice", "time_zone": "UTC", "language": "en", **values}

    with pytest.raises(ValidationError) as excinfo:
        person_create(user=alice, **arguments)

    assert list(field_errors(excinfo)) == [field]


def test_a_profile_update_checks_the_same(alpha):
    person = PersonFactory()
    with pytest.raises(ValidationError) as excinfo:
        person_update(person=person, display_name="Bob", time_zone="Nowhere/Town", language="en")
    assert "Unknown time zone" in field_errors(excinfo)["time_zone"][0]

    person_update(person=person, display_name="Bob", time_zone="Asia/Kolkata", language="fr")
    person.refresh_from_db()
    assert (person.time_zone, person.language) == ("Asia/Kolkata", "fr")


def test_an_email_address_is_normalised_and_starts_unverified(alpha):
    person = PersonFactory()

    method = contact_method_create(person=person, kind="email", address="  alice@example.com ",
                                   label="work")

    assert method.address == "alice@example.com"
    assert method.verified_at is None and not method.verified


@pytest.mark.parametrize("address", ["not an address", "alice@", "@example.com", "a" * 400])
def test_a_bad_address_is_refused_with_a_readable_message(alpha, address):
    person = PersonFactory()

    with pytest.raises(ValidationError) as excinfo:
        contact_method_create(person=person, kind="email", address=address)

    message = field_errors(excinfo)["address"][0]
    assert message.startswith(("Not a valid Email address", "At most"))
    assert "pydantic" not in message and "type=" not in message
    assert not ContactMethod.objects.exists()


def test_a_channel_that_pages_nobody_is_refused_as_the_kind(alpha):
    person = PersonFactory()

    with pytest.raises(ValidationError) as excinfo:
        contact_method_create(person=person, kind="webhook", address="http://127.0.0.1/")

    assert list(field_errors(excinfo)) == ["kind"]


def test_the_same_address_twice_is_refused(alpha):
    person = PersonFactory()
    contact_method_create(person=person, kind="email", address="alice@example.com")

    with pytest.raises(ValidationError) as excinfo:
        contact_method_create(person=person, kind="email", address="alice@example.com")

    assert "already has this address" in field_errors(excinfo)["address"][0]


def test_contact_methods_per_person_are_bounded(alpha):
    person = PersonFactory()
    for n in range(MAX_CONTACT_METHODS):
        contact_method_create(person=person, kind="email", address=f"a{n}@example.com")

    with pytest.raises(ValidationError) as excinfo:
        contact_method_create(person=person, kind="email", address="one-more@example.com")

    assert "at most" in field_errors(excinfo)["address"][0]


def test_a_changed_address_needs_verifying_again_but_a_new_label_does_not(alpha):
    method = ContactMethodFactory(address="alice@example.com",
                                  address_reference="${ALICE_MAIL}")
    assert method.verified

    contact_method_update(contact_method=method, address="alice@example.com", label="work")
    method.refresh_from_db()
    assert method.verified and method.label == "work"
    assert method.address_reference == "${ALICE_MAIL}"

    contact_method_update(contact_method=method, address="alice@example.org", label="work")
    method.refresh_from_db()
    assert method.address == "alice@example.org" and not method.verified
    assert method.address_reference == ""  # typed by hand, no longer the configuration's
    entry = AuditEntry.objects.filter(action="contact_method_update").latest("id")
    assert entry.before["verified"] is True and entry.after["verified"] is False


def test_notification_rules_page_the_persons_own_methods_in_delay_order(alpha):
    person = PersonFactory()
    mail = ContactMethodFactory(person=person, address="alice@example.com")
    other = ContactMethodFactory(person=person, address="alice@example.org")

    notification_rule_set(person=person, rules=[RuleSpec(other, 5), RuleSpec(mail, 0)])

    assert [(r.contact_method_id, r.delay_minutes) for r in person.notification_rules.all()] == [
        (mail.pk, 0), (other.pk, 5)]

    notification_rule_set(person=person, rules=[RuleSpec(mail, 1)])
    assert [(r.contact_method_id, r.delay_minutes) for r in person.notification_rules.all()] == [
        (mail.pk, 1)]


def test_a_rule_for_someone_elses_method_or_a_wild_delay_is_refused(alpha):
    alice, bob = PersonFactory(), PersonFactory()
    bobs = ContactMethodFactory(person=bob)
    alices = ContactMethodFactory(person=alice)

    with pytest.raises(ValidationError) as excinfo:
        notification_rule_set(person=alice, rules=[RuleSpec(bobs, 0)])
    assert list(field_errors(excinfo)) == ["contact_method"]

    with pytest.raises(ValidationError) as excinfo:
        notification_rule_set(person=alice, rules=[RuleSpec(alices, 10 ** 9)])
    assert list(field_errors(excinfo)) == ["delay_minutes"]

    with pytest.raises(ValidationError) as excinfo:
        notification_rule_set(person=alice, rules=[RuleSpec(alices, 0)] * 21)
    assert list(field_errors(excinfo)) == ["rules"]
    assert not alice.notification_rules.exists()


def test_deleting_a_person_gives_the_schedules_they_were_in_a_new_version(alpha):
    from escalation.models import Schedule
    from tests.factories import ScheduleFactory, ScheduleLayerFactory

    alice, bob = PersonFactory(), PersonFactory()
    theirs = ScheduleLayerFactory(members=[alice, bob]).schedule
    other = ScheduleLayerFactory(members=[bob]).schedule
    versions = dict(Schedule.objects.values_list("pk", "version"))
    ScheduleFactory()

    alice_id = alice.pk
    person_delete(person=alice)

    assert not Person.objects.filter(pk=alice_id).exists()
    after = dict(Schedule.objects.values_list("pk", "version"))
    assert after[theirs.pk] == versions[theirs.pk] + 1
    assert after[other.pk] == versions[other.pk]
    assert AuditEntry.objects.filter(action="person_delete", object_id=str(alice_id)).exists()
