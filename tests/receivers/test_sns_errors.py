"""SNS's error answers, from a local stand-in that answers as SNS does (query protocol XML).

What fails for good (bad parameters, refused credentials) moves a person's
page on to their next method; throttling and SNS's own faults are retried
with Herald's backoff. No answer ever puts a key into the error.
"""

from __future__ import annotations

import socket

import pytest
from werkzeug import Response

from receivers.transports import TransportError, transport_class
from tests.receivers.helpers import alert_message

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEYS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": SECRET}


def sns_error(code: str, message: str, status: int) -> Response:
    body = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>f00d</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")


def publish(httpserver) -> None:
    transport_class("sns")(
        config={"region": "eu-west-1", "endpoint_url": httpserver.url_for("/"),
                "phone_number": "+14155552671", "check_opt_out": False},
        secrets=KEYS, allow_private=True,
    ).send(alert_message())


@pytest.mark.parametrize(("code", "status", "permanent", "recorded"), [
    ("InvalidParameter", 400, True, 400),
    ("InvalidParameterValue", 400, True, 400),
    ("AuthorizationError", 403, True, 403),
    ("OptedOut", 400, True, 400),
    ("InvalidClientTokenId", 403, True, 403),
    ("Throttling", 400, False, 429),
    ("ThrottledException", 429, False, 429),
    ("InternalError", 500, False, 500),
    ("ServiceUnavailable", 503, False, 503),
])
def test_snss_error_codes_fail_for_good_or_are_retried(httpserver, code, status, permanent,
                                                        recorded):
    httpserver.expect_request("/", method="POST").respond_with_response(
        sns_error(code, "it went wrong", status)
    )
    with pytest.raises(TransportError) as failure:
        publish(httpserver)

    assert failure.value.permanent is permanent
    assert failure.value.http_status == recorded
    assert failure.value.message == f"SNS {code}: it went wrong"
    assert len(httpserver.log) == 1  # botocore never retries on its own


def test_an_answer_that_echoes_the_secret_key_is_masked(httpserver):
    httpserver.expect_request("/").respond_with_response(
        sns_error("InvalidParameter", f"bad request signed with {SECRET}", 400)
    )
    with pytest.raises(TransportError) as failure:
        publish(httpserver)
    assert SECRET not in failure.value.message
    assert "bad request signed with" in failure.value.message


def test_an_answer_that_is_not_snss_fails_for_good_rather_than_texting_twice(httpserver):
    httpserver.expect_request("/").respond_with_data("<html>proxy says hi", status=200)
    with pytest.raises(TransportError) as failure:
        publish(httpserver)
    assert failure.value.permanent
    assert failure.value.message.startswith("SNS request failed")


def test_an_endpoint_that_does_not_answer_in_time_is_retried():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never answers
        transport = transport_class("sns")(
            config={"region": "eu-west-1", "phone_number": "+14155552671",
                    "endpoint_url": f"http://127.0.0.1:{silent.getsockname()[1]}",
                    "check_opt_out": False, "timeout_seconds": 0.3},
            secrets=KEYS, allow_private=True,
        )
        with pytest.raises(TransportError) as failure:
            transport.send(alert_message())
    assert not failure.value.permanent
    assert "did not answer in time" in failure.value.message


def test_the_request_is_signed_sigv4_for_sns_in_the_region(httpserver):
    httpserver.expect_request("/").respond_with_data(
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
        "<MessageId>m-1</MessageId></PublishResult></PublishResponse>", content_type="text/xml"
    )
    transport = transport_class("sns")(
        config={"region": "eu-west-1", "endpoint_url": httpserver.url_for("/"),
                "phone_number": "+14155552671", "check_opt_out": False},
        secrets=KEYS, allow_private=True,
    )
    assert transport.send(alert_message()).vendor_ref == {"message_id": "m-1"}
    [(request, _)] = httpserver.log
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
    assert "/eu-west-1/sns/aws4_request" in authorization
    assert SECRET not in authorization
    assert request.form["Action"] == "Publish"
    assert request.form["PhoneNumber"] == "+14155552671"
