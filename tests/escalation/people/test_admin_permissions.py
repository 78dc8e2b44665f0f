"""Members edit their own profile, contact methods and rules; editors anyone's; auditors
read others'. Checked through alpha's admin with Django's test client."""

from __future__ import annotations

import pytest

from escalation.models import ContactMethod, NotificationRule, Person
from tests.admin.test_permissions import get, post
from tests.factories import ContactMethodFactory

pytestmark = pytest.mark.django_db

PEOPLE = "/admin/escalation/person/"


def profile_form(person, methods=(), rules=(), **changes) -> dict:
    """The person's change form as the browser would post it."""
    data = {
        "display_name": person.display_name, "time_zone": person.time_zone,
        "language": person.language,
        "contact_methods-TOTAL_FORMS": str(len(methods)),
        "contact_methods-INITIAL_FORMS": str(sum(1 for m in methods if m.get("id"))),
        "contact_methods-MIN_NUM_FORMS": "0", "contact_methods-MAX_NUM_FORMS": "20",
        "notification_rules-TOTAL_FORMS": str(len(rules)),
        "notification_rules-INITIAL_FORMS": str(sum(1 for r in rules if r.get("id"))),
        "notification_rules-MIN_NUM_FORMS": "0", "notification_rules-MAX_NUM_FORMS": "20",
        **changes,
    }
    for index, method in enumerate(methods):
        for key, value in method.items():
            data[f"contact_methods-{index}-{key}"] = value
        data[f"contact_methods-{index}-person"] = str(person.pk)
    for index, rule in enumerate(rules):
        for key, value in rule.items():
            data[f"notification_rules-{index}-{key}"] = value
        data[f"notification_rules-{index}-person"] = str(person.pk)
    return data


def test_an_auditor_edits_her_own_contact_method_and_it_becomes_unverified(profiles, client_of):
    alice = profiles["alice"]
    method = ContactMethodFactory(person=alice, address="alice@example.com")
    client = client_of("alice")

    response = post(client, f"{PEOPLE}{alice.pk}/change/", profile_form(
        alice, methods=[{"id": str(method.pk), "kind": "email",
                         "address": " alice@example.org ", "label": "home"}],
        display_name="Alice L.",
    ))

    assert response.status_code == 302, response.content.decode()[:2000]
    method.refresh_from_db()
    assert (method.address, method.label, method.verified) == ("alice@example.org", "home", False)
    alice.refresh_from_db()
    assert alice.display_name == "Alice L."
    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert "Unverified: not paged" in page and "Send confirmation mail" in page


def test_a_bad_address_is_shown_on_the_form_not_a_500(profiles, client_of):
    alice = profiles["alice"]

    response = post(client_of("alice"), f"{PEOPLE}{alice.pk}/change/", profile_form(
        alice, methods=[{"kind": "email", "address": "not-an-address", "label": ""}],
    ))

    assert response.status_code == 200
    assert "Not a valid Email address" in response.content.decode()
    assert not ContactMethod.objects.exists()


def test_an_auditor_reads_but_cannot_change_someone_elses_profile(profiles, client_of):
    bob = profiles["bob"]
    method = ContactMethodFactory(person=bob, address="bob@example.com")
    client = client_of("alice")

    ContactMethodFactory(person=bob, address="bob@example.org", verified_at=None)
    page = get(client, f"{PEOPLE}{bob.pk}/change/")
    assert page.status_code == 200
    assert "bob@example.com" in page.content.decode()
    assert "Unverified: not paged" in page.content.decode()
    assert "Send confirmation mail" not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert "calendar-url" not in page.content.decode()  # his secret URL is not hers to see

    response = post(client, f"{PEOPLE}{bob.pk}/change/", profile_form(
        bob, methods=[{"id": str(method.pk), "kind": "email", "address": "eve@example.com",
                       "label": ""}], display_name="Hacked",
    ))
    assert response.status_code == 403
    method.refresh_from_db()
    bob.refresh_from_db()
    assert method.address == "bob@example.com" and method.verified
    assert bob.display_name == "Bob"
    assert post(client, f"{PEOPLE}{bob.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=bob.pk).exists()


def test_an_editor_changes_anyones_address_which_then_needs_verifying(profiles, client_of):
    bob = profiles["bob"]
    method = ContactMethodFactory(person=bob, address="bob@example.com")

    response = post(client_of("erin"), f"{PEOPLE}{bob.pk}/change/", profile_form(
        bob, methods=[{"id": str(method.pk), "kind": "email", "address": "bob@example.org",
                       "label": ""}],
    ))

    assert response.status_code == 302
    method.refresh_from_db()
    assert method.address == "bob@example.org" and not method.verified


def test_a_rule_may_only_page_the_persons_own_contact_methods(profiles, client_of):
    alice, bob = profiles["alice"], profiles["bob"]
    hers = ContactMethodFactory(person=alice)
    his = ContactMethodFactory(person=bob)
    client = client_of("alice")

    refused = post(client, f"{PEOPLE}{alice.pk}/change/", profile_form(
        alice, methods=[{"id": str(hers.pk), "kind": "email", "address": hers.address,
                         "label": ""}],
        rules=[{"contact_method": str(his.pk), "delay_minutes": "0"}],
    ))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    too_late = post(client, f"{PEOPLE}{alice.pk}/change/", profile_form(
        alice, methods=[{"id": str(hers.pk), "kind": "email", "address": hers.address,
                         "label": ""}],
        rules=[{"contact_method": str(hers.pk), "delay_minutes": "999999"}],
    ))
    assert too_late.status_code == 200
    assert not NotificationRule.objects.exists()

    saved = post(client, f"{PEOPLE}{alice.pk}/change/", profile_form(
        alice, methods=[{"id": str(hers.pk), "kind": "email", "address": hers.address,
                         "label": ""}],
        rules=[{"contact_method": str(hers.pk), "delay_minutes": "5"}],
    ))
    assert saved.status_code == 302
    assert list(NotificationRule.objects.values_list("contact_method_id", "delay_minutes")) == [
        (hers.pk, 5)]


def test_editors_make_profiles_for_members_who_then_keep_their_own(alpha, profiles, client_of):
    from tests.admin.conftest import member

    frank = member(alpha, "frank", "auditor")
    auditor = client_of("alice")
    auditor.force_login(frank)
    assert get(auditor, f"{PEOPLE}add/").status_code == 403
    assert "addlink" not in get(auditor, "/admin/").content.decode()

    editor = client_of("erin")
    page = get(editor, f"{PEOPLE}add/").content.decode()
    assert f'value="{frank.pk}"' in page  # members without a profile are offered
    assert f'value="{profiles["alice"].user_id}"' not in page  # she has one
    made = post(editor, f"{PEOPLE}add/", {
        **profile_form(Person(display_name="Frank", time_zone="Europe/Paris", language="fr")),
        "user": str(frank.pk),
    })
    assert made.status_code == 302
    frank_person = Person.objects.get(user_id=frank.pk)
    assert frank_person.time_zone == "Europe/Paris"
    own = post(auditor, f"{PEOPLE}{frank_person.pk}/change/", profile_form(
        frank_person, display_name="Frank F."))
    assert own.status_code == 302
    frank_person.refresh_from_db()
    assert frank_person.display_name == "Frank F."


def test_an_editor_cannot_give_a_profile_to_a_member_of_another_tenant(profiles, client_of):
    mallory = profiles["mallory"]

    response = post(client_of("erin"), f"{PEOPLE}add/", {
        **profile_form(Person(display_name="Mallory", time_zone="UTC", language="en")),
        "user": str(mallory.pk),
    })

    assert response.status_code == 200
    assert not Person.objects.filter(user_id=mallory.pk).exists()


def test_a_member_of_another_tenant_gets_nowhere(profiles):
    from django.test import Client

    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(profiles["mallory"])

    response = get(client, PEOPLE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_confirmation_mails_go_only_to_addresses_the_member_may_edit(
    profiles, client_of, email_carrier, mailbox
):
    alice, bob = profiles["alice"], profiles["bob"]
    hers = ContactMethodFactory(person=alice, address="alice@example.com", verified_at=None)
    ContactMethodFactory(person=bob, address="bob@example.com", verified_at=None)
    client = client_of("alice")

    post(client, PEOPLE, {"action": "send_verification",
                          "_selected_action": [alice.pk, bob.pk]})
    assert [mail.rcpt_tos for mail in mailbox.received] == [["alice@example.com"]]

    again = post(client, f"{PEOPLE}{alice.pk}/verification/{hers.pk}/", {})
    assert again.status_code == 302
    page = get(client, again["Location"]).content.decode()
    assert "less than a minute ago" in page
    his = ContactMethod.objects.get(person=bob)
    assert post(client, f"{PEOPLE}{bob.pk}/verification/{his.pk}/", {}).status_code == 403
    assert len(mailbox.received) == 1


def test_the_calendar_url_is_renewed_by_its_owner(profiles, client_of):
    alice = profiles["alice"]
    before = alice.calendar_token
    client = client_of("alice")

    page = get(client, f"{PEOPLE}{alice.pk}/change/").content.decode()
    assert f"/people/{alice.pk}/" in page and "calendar-url" in page
    assert post(client, f"{PEOPLE}{alice.pk}/calendar/renew/", {}).status_code == 302
    alice.refresh_from_db()
    assert alice.calendar_token != before
    bob = profiles["bob"]
    assert post(client, f"{PEOPLE}{bob.pk}/calendar/renew/", {}).status_code == 403
