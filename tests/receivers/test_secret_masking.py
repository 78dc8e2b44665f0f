"""No secret fragment in errors: a vendor that echoes part of a secret shows none of it.

Pure tests of the masking rule first, then real sends to a local server that
answers 400/500 with bodies echoing pieces of the receiver's secrets, checked
wherever an error text ends up: the notification, its attempt row, the logs
and `test_notifications` (the CSV export and the admin's test-send message:
tests/admin/test_secret_masking_admin.py).
"""

from __future__ import annotations

import json
import logging
import random
import time
from urllib.parse import quote, quote_plus

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from receivers.delivery import notification_deliver
from receivers.models import DeliveryAttempt, Notification
from receivers.redaction import MASK, header_looks_secret, secret_scrubber, secrets_scrub
from tests.factories import NotificationFactory, ReceiverFactory

SLACK_PATH = "/services/T0AAA1111/B0BBB2222/s3cr3tSlackT0kenXyZ12345"
TELEGRAM_TOKEN = "987654321:AAF-s3cr3t-t0ken-do-not-leak-xyz"
ROUTING_KEY = "R0uting0key0f32charsABCDEF123456"
API_KEY = "k3y-9f8e7d6c5b4a39281706"


def fragments(secret: str, length: int = 8) -> list[str]:
    """Every piece of `secret` that must not survive in any error."""
    return [secret[i : i + length] for i in range(len(secret) - length + 1)]


def assert_no_fragment(text: str, *secrets: str) -> None:
    for secret in secrets:
        leaked = [piece for piece in fragments(secret) if piece in text]
        assert not leaked, f"{leaked[:3]} of a secret in {text!r}"


# --- the rule ---------------------------------------------------------------


def test_the_token_part_of_a_slack_path_is_masked_but_the_host_stays_readable():
    url = "https://hooks.slack.com" + SLACK_PATH
    text = "invalid_token: T0AAA1111/B0BBB2222/s3cr3tSlackT0kenXyZ12345 at https://hooks.slack.com"

    scrubbed = secrets_scrub(text, {"url": url})

    assert scrubbed == f"invalid_token: {MASK} at https://hooks.slack.com"


def test_a_telegram_token_inside_an_error_is_masked_whole_or_in_part():
    secrets = {"bot_token": TELEGRAM_TOKEN}

    assert secrets_scrub(f"bot {TELEGRAM_TOKEN} unknown", secrets) == f"bot {MASK} unknown"
    assert secrets_scrub("token AAF-s3cr3t-t0ken rejected", secrets) == f"token {MASK} rejected"


def test_the_last_twenty_characters_of_a_routing_key_are_masked():
    text = f"routing key ending in {ROUTING_KEY[-20:]} is not valid"

    scrubbed = secrets_scrub(text, {"routing_key": ROUTING_KEY})

    assert scrubbed == f"routing key ending in {MASK} is not valid"


@pytest.mark.parametrize(
    "spelling",
    [
        quote("https://hooks.slack.com" + SLACK_PATH, safe=""),
        quote("https://hooks.slack.com" + SLACK_PATH, safe="").lower(),
        quote_plus("https://hooks.slack.com" + SLACK_PATH),
        json.dumps({"url": "https://hooks.slack.com" + SLACK_PATH}),
        json.dumps("https://hooks.slack.com" + SLACK_PATH).replace("/", "\\/"),
    ],
    ids=["url-encoded", "url-encoded-lowercase-hex", "quote-plus", "json", "json-escaped-slashes"],
)
def test_a_secret_url_encoded_or_json_escaped_is_masked(spelling):
    url = "https://hooks.slack.com" + SLACK_PATH

    scrubbed = secrets_scrub(f"bad request: {spelling}", {"url": url})

    assert "s3cr3t" not in scrubbed.lower() and "T0AAA1111" not in scrubbed
    assert MASK in scrubbed


def test_a_secret_with_non_ascii_characters_is_masked_when_json_escapes_them():
    password = "pässwört-geheim-2026"

    scrubbed = secrets_scrub(json.dumps({"echo": password}), {"password": password})

    assert "geheim" not in scrubbed and "\\u00e4" not in scrubbed


def test_a_secret_split_by_the_cut_is_masked_on_the_kept_side():
    scrubber = secret_scrubber({"routing_key": ROUTING_KEY})
    body = "x" * 295 + ROUTING_KEY + " trailing"

    kept = scrubber.scrub_cut(body, 300)

    assert kept == "x" * 295 + MASK
    assert ROUTING_KEY[:5] not in kept


def test_any_piece_of_eight_or_more_characters_of_any_secret_is_masked():
    secrets = {"url": "https://hooks.slack.com" + SLACK_PATH, "bot_token": TELEGRAM_TOKEN,
               "routing_key": ROUTING_KEY}
    pool = [SLACK_PATH, TELEGRAM_TOKEN, ROUTING_KEY]
    rng = random.Random(14)
    for _ in range(300):
        secret = rng.choice(pool)
        start = rng.randrange(0, len(secret) - 8)
        piece = secret[start : rng.randrange(start + 8, len(secret) + 1)]

        scrubbed = secrets_scrub(f"vendor said {piece}!", secrets)

        assert scrubbed == f"vendor said {MASK}!"


def test_ordinary_words_and_short_url_segments_are_left_alone():
    secrets = {"url": "https://alerts.example.com/api/v1/alerts?team=sre", "password": "hunter2x"}
    text = "HTTP 404: no alerts for team sre on alerts.example.com"

    assert secrets_scrub(text, secrets) == text
    assert secrets_scrub("login hunter2x refused", secrets) == f"login {MASK} refused"


def test_masking_300_characters_against_a_few_secrets_costs_well_under_a_millisecond():
    secrets = {"url": "https://hooks.slack.com" + SLACK_PATH, "bot_token": TELEGRAM_TOKEN,
               "routing_key": ROUTING_KEY, "authorization": "Bearer " + API_KEY}
    text = ("error: upstream refused the request " * 8)[:280] + ROUTING_KEY[-20:]
    secrets_scrub(text, secrets)  # the scrubber of a set of secrets is built once

    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        secrets_scrub(text, secrets)
    per_scrub = (time.perf_counter() - started) / runs

    assert per_scrub < 0.001, f"{per_scrub * 1e6:.0f} µs per scrub"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True), ("Proxy-Authorization", True), ("X-Api-Key", True),
        ("Api-Key", True), ("X-Auth-Token", True), ("Cookie", True), ("X-Hub-Signature", True),
        ("X-Client-Secret", True), ("X-Password", True), ("X-Session-Id", True),
        ("X-Team", False), ("Accept", False), ("X-Env", False), ("User-Agent", False),
    ],
)
def test_which_header_names_look_like_credentials(name, secret):
    assert header_looks_secret(name) is secret


# --- real sends: every place an error goes ------------------------------------


def echo_everything(secret: str) -> str:
    """A hostile vendor answer: the secret's pieces in every spelling, split at the cut."""
    return json.dumps(
        {"error": f"bad token {secret[-20:]}", "encoded": quote(secret, safe=""),
         "escaped": secret.replace("/", "\\/")}
    ) + " " * (300 - 60) + secret


@pytest.fixture
def captured(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_clean_everywhere(notification: Notification, captured, *secrets: str) -> None:
    notification.refresh_from_db()
    assert notification.last_error and MASK in notification.last_error
    assert_no_fragment(notification.last_error, *secrets)
    for attempt in DeliveryAttempt.objects.filter(notification=notification):
        assert_no_fragment(attempt.error, *secrets)
    # Herald's own log lines; werkzeug's are the stand-in vendor's access log.
    herald = "\n".join(
        record.getMessage() for record in captured.records if record.name != "werkzeug"
    )
    assert_no_fragment(herald, *secrets)


def test_a_slack_answer_echoing_its_hook_path_is_masked_in_the_notification_attempt_and_logs(
    alpha, httpserver, captured
):
    httpserver.expect_request(SLACK_PATH).respond_with_data(
        echo_everything(SLACK_PATH), status=400
    )
    receiver = ReceiverFactory(kind="slack", secrets={"url": httpserver.url_for(SLACK_PATH)})
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    _assert_clean_everywhere(notification, captured, SLACK_PATH)
    assert notification.last_error.startswith("HTTP 400: ")


def test_a_webhook_5xx_echoing_its_credentials_is_masked_even_across_the_cut(
    alpha, httpserver, captured
):
    bearer = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ"
    httpserver.expect_request("/hook/" + API_KEY).respond_with_data(
        "x" * 290 + bearer + " and " + API_KEY[:12], status=503
    )
    receiver = ReceiverFactory(
        secrets={"url": httpserver.url_for("/hook/" + API_KEY), "authorization": bearer,
                 "header:X-Api-Key": API_KEY},
        max_attempts=1,
    )
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    _assert_clean_everywhere(notification, captured, bearer, API_KEY)
    assert notification.last_error == "HTTP 503: " + "x" * 290 + MASK


def test_a_telegram_description_naming_the_bot_token_is_masked(alpha, httpserver, captured):
    httpserver.expect_request(f"/bot{TELEGRAM_TOKEN}/sendMessage").respond_with_json(
        {"ok": False, "error_code": 401,
         "description": f"Unauthorized: bot {TELEGRAM_TOKEN.split(':')[1]} was revoked"},
        status=401,
    )
    receiver = ReceiverFactory(
        kind="telegram", config={"chat_id": 42, "api_url": httpserver.url_for("/")},
        secrets={"bot_token": TELEGRAM_TOKEN},
    )
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    _assert_clean_everywhere(notification, captured, TELEGRAM_TOKEN)
    assert notification.last_error == f"Telegram 401: Unauthorized: bot {MASK} was revoked"


def test_a_pagerduty_answer_with_the_routing_keys_tail_is_masked(alpha, httpserver, captured):
    httpserver.expect_request("/v2/enqueue").respond_with_json(
        {"status": "invalid event", "errors": [f"routing key ...{ROUTING_KEY[-20:]} unknown"]},
        status=400,
    )
    receiver = ReceiverFactory(
        kind="pagerduty", config={"events_url": httpserver.url_for("/v2/enqueue")},
        secrets={"routing_key": ROUTING_KEY},
    )
    notification = NotificationFactory(receiver=receiver)

    notification_deliver(notification_id=notification.id)

    _assert_clean_everywhere(notification, captured, ROUTING_KEY)


def test_test_notifications_prints_the_vendor_error_without_the_secret(alpha, httpserver):
    httpserver.expect_request("/v2/enqueue").respond_with_data(
        f"bad key {quote(ROUTING_KEY[4:])}", status=400
    )
    ReceiverFactory(
        name="dba-pager", kind="pagerduty",
        config={"events_url": httpserver.url_for("/v2/enqueue")},
        secrets={"routing_key": ROUTING_KEY},
    )

    with pytest.raises(CommandError) as failed:
        call_command("test_notifications", tenant="alpha", receiver="dba-pager")

    assert "HTTP 400" in str(failed.value) and MASK in str(failed.value)
    assert_no_fragment(str(failed.value), ROUTING_KEY)
