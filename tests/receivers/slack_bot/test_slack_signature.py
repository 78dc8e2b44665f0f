"""Slack's v0 signature: Slack's own worked example, and what makes a request not Slack's."""

from __future__ import annotations

import pytest

from receivers.slack_bot.signature import (
    SignatureRefused,
    slack_signature,
    slack_signature_check,
)

# The example of Slack's "Verifying requests from Slack".
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015."
    b"47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slacks_worked_example_signs_the_same():
    assert slack_signature(signing_secret=SECRET, timestamp=STAMP, body=BODY) == EXPECTED
    slack_signature_check(signing_secret=SECRET, timestamp=STAMP, signature=EXPECTED,
                          body=BODY, now=int(STAMP) + 300)


@pytest.mark.parametrize(("change", "why"), [
    ({"now": int(STAMP) + 301}, "more than 5 minutes"),
    ({"now": int(STAMP) - 301}, "more than 5 minutes"),
    ({"body": BODY + b"&text=rm"}, "does not match"),
    ({"signing_secret": "another app's secret"}, "does not match"),
    ({"signature": EXPECTED[:-1] + "0"}, "does not match"),
    ({"signature": "v1=" + EXPECTED[3:]}, "no valid X-Slack-Signature"),
    ({"signature": ""}, "no valid X-Slack-Signature"),
    ({"timestamp": ""}, "no valid X-Slack-Request-Timestamp"),
    ({"timestamp": "1e9"}, "no valid X-Slack-Request-Timestamp"),
    ({"timestamp": "9" * 40}, "no valid X-Slack-Request-Timestamp"),
])
def test_a_request_that_is_not_slacks_or_not_now_is_refused(change, why):
    given = {"signing_secret": SECRET, "timestamp": STAMP, "signature": EXPECTED,
             "body": BODY, "now": int(STAMP) + 10, **change}
    with pytest.raises(SignatureRefused, match=why):
        slack_signature_check(**given)
