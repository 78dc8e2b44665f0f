"""Which language a viewer gets: profile, else browser, else tenant, else English (pure)."""

from django.utils import translation

from tenants.middleware_language import language_choose, language_from_accept


def test_the_profile_language_wins_over_the_browser_and_the_tenant():
    assert language_choose(profile="de", accept="fr-FR,fr;q=0.9", tenant_default="en") == "de"


def test_without_a_profile_the_browser_first_language_herald_speaks_is_taken():
    assert language_choose(profile=None, accept="es-ES,es;q=0.9,de;q=0.8",
                           tenant_default="fr") == "de"
    assert language_from_accept("fr-CA,en;q=0.5") == "fr"


def test_a_browser_naming_none_of_herald_languages_gets_the_tenant_default():
    assert language_choose(profile=None, accept="ja,zh;q=0.8", tenant_default="fr") == "fr"
    assert language_choose(profile=None, accept="", tenant_default="de") == "de"


def test_nothing_known_anywhere_is_english():
    assert language_choose(profile="xx", accept="*", tenant_default=None) == "en"


def test_a_huge_accept_language_header_is_read_only_in_part():
    header = "xx;q=0.1," * 100_000 + "fr"
    assert language_from_accept(header) is None


def test_the_catalogues_speak_french_and_german():
    with translation.override("fr"):
        assert translation.gettext("Acknowledge the selected alert groups") == (
            "Acquitter les groupes d'alertes sélectionnés")
    with translation.override("de"):
        assert translation.gettext("alert groups") == "Alarmgruppen"
