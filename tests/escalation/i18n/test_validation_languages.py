"""The errors an SRE reads when a schedule, a contact method or a receiver's settings are
wrong are in their language (the request's active language)."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from escalation.people.services import contact_address_clean
from escalation.schedules import RestrictionSpec
from escalation.schedules.validation import spec_problems
from receivers.transports.settings import SettingsError
from receivers.transports.slack import SlackSettings
from tests.escalation.schedules.builders import ALICE, layer, schedule


def test_a_schedules_problems_are_named_in_french():
    spec = schedule(layer(1, members=()), layer(3, members=(ALICE,), position=1),
                    layer(4, restrictions=(RestrictionSpec(None, time(9), time(9)),)),
                    zone="Mars/Olympus")

    with translation.override("fr"):
        problems = spec_problems(spec)

    assert problems["time_zone"] == [
        "'Mars/Olympus' n'est pas un fuseau horaire IANA connu (p. ex. Europe/Berlin)."]
    assert problems["members"] == [
        "Couche 'layer 1' : une rotation sans personne ; ajoutez au moins une personne."]
    assert "au-delà de ses 1 personnes" in problems["start_position"][0]
    assert "pour toute la journée, supprimez la restriction" in problems["end_time"][0]


def test_the_same_problems_read_in_english_and_german():
    spec = schedule(layer(1, members=()))

    with translation.override("de"):
        german = spec_problems(spec)["members"]
    with translation.override("en"):
        english = spec_problems(spec)["members"]

    assert german == [
        "Ebene 'layer 1': eine Rotation ohne Personen; fügen Sie mindestens eine Person hinzu."]
    assert english == ["Layer 'layer 1': a rotation with nobody; add at least one person."]


@pytest.mark.parametrize(("address", "expected"), [
    ("0151 1234 5678",
     " non valide : écrivez le numéro avec son indicatif pays, p. ex. +49 151 12345678."),
    ("+49 151", " non valide : pas un numéro valide pour son indicatif pays."),
    ("", "Une adresse est nécessaire."),
])
def test_a_phone_number_is_refused_in_french(db, address, expected):
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        contact_address_clean(kind="sms", address=address)

    [message] = refused.value.message_dict["address"]
    assert message.endswith(expected)


def test_a_receivers_settings_errors_are_in_french():
    with translation.override("fr"), pytest.raises(SettingsError) as refused:
        SlackSettings.parse(config={"channel_name": "#ops", "timeout_seconds": 90},
                            secrets={})

    assert refused.value.errors["url"] == "est obligatoire"
    assert refused.value.errors["channel_name"] == (
        "n'est pas un réglage de ce type de destinataire")
    assert refused.value.errors["timeout_seconds"] == "doit valoir au plus 60"
