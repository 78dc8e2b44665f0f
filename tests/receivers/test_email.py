"""Email: multipart mail over a real local SMTP server, with STARTTLS, TLS and auth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from receivers.message_rendering import message_render
from receivers.transports import SettingsError, TransportError, transport_class
from receivers.transports.email import SUBJECT_LIMIT, EmailSettings, email_message
from tests.receivers.helpers import MESSAGES, alert_message, assert_whole_text, transport
from tests.receivers.smtp import PASSWORD, USERNAME, smtp_server

STATUSES = ("firing", "resolved")
TO = ["sre@example.com", "oncall@example.org"]


def email_transport(mailbox, *, security="none", **config):
    secrets = {}
    if "password" in config:
        secrets["password"] = config.pop("password")
    settings = {
        "host": mailbox.host,
        "port": mailbox.port,
        "security": security,
        "from_address": "herald@example.com",
        "to": TO,
        **config,
    }
    return transport("email", config=settings, secrets=secrets)


def test_the_mail_is_multipart_text_and_html_with_a_one_line_subject():
    message = alert_message()
    settings = EmailSettings.parse(
        config={"host": "smtp.example.com", "from_address": "h@example.com", "to": TO}, secrets={}
    )
    mail = email_message(
        rendered=message_render(channel="email", message=message),
        message=message,
        settings=settings,
        date=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    )

    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"].startswith("🔴 [FIRING:2] HighLatency")
    assert mail["To"] == "sre@example.com, oncall@example.org"
    assert mail["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert mail["Message-ID"].startswith("<1.") and mail["Message-ID"].endswith("@example.com>")
    assert mail["In-Reply-To"] is None  # nothing was sent before: this mail opens the thread


def test_a_later_mail_replies_to_the_first_one_with_an_id_of_its_own():
    settings = EmailSettings.parse(
        config={"host": "smtp.example.com", "from_address": "h@example.com", "to": TO}, secrets={}
    )

    def mail(message):
        rendered = message_render(channel="email", message=message)
        return email_message(rendered=rendered, message=message, settings=settings,
                             date=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))

    firing = mail(alert_message(notification_id=7))
    resolved = mail(alert_message("resolved", notification_id=9, thread_root_id=7))

    assert resolved["In-Reply-To"] == resolved["References"] == firing["Message-ID"]
    assert resolved["Message-ID"] != firing["Message-ID"]
    assert mail(alert_message(notification_id=7))["Message-ID"] == firing["Message-ID"]  # stable


@pytest.mark.parametrize("kind", MESSAGES)
@pytest.mark.parametrize("status", STATUSES)
def test_a_mail_reaches_every_recipient_over_starttls_with_auth(smtp_starttls, kind, status):
    message = MESSAGES[kind](status)
    email = email_transport(
        smtp_starttls, security="starttls", username=USERNAME, password=PASSWORD
    )

    email.send(message)

    [envelope] = smtp_starttls.received
    assert smtp_starttls.logins == [USERNAME]
    assert envelope.mail_from == "herald@example.com"
    assert envelope.rcpt_tos == TO
    mail = envelope.message
    subject = str(mail["Subject"])
    assert len(subject) <= SUBJECT_LIMIT and "\n" not in subject
    assert_whole_text(subject)
    word = "RESOLVED" if status == "resolved" else "FIRING"
    assert word in subject
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert word in html
    if kind == "unicode":
        assert "👩🏽‍🚀" in text and "数据库延迟" in html
        assert "&lt;b&gt;&amp;amp; ok?&lt;/b&gt;" in html  # alert text escaped in HTML
    assert str(mail["X-Herald-Status"]) == status


def test_implicit_tls_works_too(smtps):
    email_transport(smtps, security="tls", username=USERNAME, password=PASSWORD).send(
        alert_message()
    )
    assert len(smtps.received) == 1 and smtps.logins == [USERNAME]


def test_a_wrong_password_fails_for_good_without_showing_it(smtp_starttls):
    email = email_transport(
        smtp_starttls, security="starttls", username=USERNAME, password="not-the-password"
    )
    with pytest.raises(TransportError) as failure:
        email.send(alert_message())
    assert failure.value.permanent is True
    assert "SMTP 535" in failure.value.message
    assert "not-the-password" not in failure.value.message


def test_an_untrusted_certificate_is_refused(smtp_cert):
    # The server's certificate is not trusted (SSL_CERT_FILE untouched here).
    with (
        smtp_server(cert=smtp_cert, implicit_tls=True) as mailbox,
        pytest.raises(TransportError) as failure,
    ):
        email_transport(mailbox, security="tls").send(alert_message())
    assert failure.value.permanent is True
    assert "not trusted" in failure.value.message


def test_a_temporary_smtp_refusal_is_retried(smtp_plain):
    smtp_plain.refuse_with = "451 4.3.0 try again later"
    with pytest.raises(TransportError) as failure:
        email_transport(smtp_plain).send(alert_message())
    assert failure.value.permanent is False
    assert "451" in failure.value.message


def test_a_permanent_smtp_refusal_is_not(smtp_plain):
    smtp_plain.refuse_with = "554 5.7.1 rejected"
    with pytest.raises(TransportError) as failure:
        email_transport(smtp_plain).send(alert_message())
    assert failure.value.permanent is True


def test_a_refusal_that_echoes_the_password_is_masked_even_where_it_is_cut(smtp_starttls):
    # The echo straddles the 300-character cut: no 8 characters of it may stay.
    smtp_starttls.refuse_with = f"554 5.7.1 {'x' * 280} rejected {PASSWORD}"
    email = email_transport(
        smtp_starttls, security="starttls", username=USERNAME, password=PASSWORD
    )
    with pytest.raises(TransportError) as failure:
        email.send(alert_message())
    message = failure.value.message
    assert "SMTP 554" in message and "rejected" in message
    assert not any(PASSWORD[i : i + 8] in message for i in range(len(PASSWORD) - 7))


def test_an_unreachable_server_is_retried(smtp_plain):
    email = email_transport(smtp_plain, port=1)
    with pytest.raises(TransportError) as failure:
        email.send(alert_message())
    assert failure.value.permanent is False


def test_a_private_smtp_host_needs_the_tenants_permission(smtp_plain):
    email = transport_class("email")(
        config={
            "host": "127.0.0.1",
            "port": smtp_plain.port,
            "security": "none",
            "from_address": "h@example.com",
            "to": TO,
        },
        secrets={},
        allow_private=False,
    )
    with pytest.raises(TransportError) as failure:
        email.send(alert_message())
    assert failure.value.permanent is True and "private" in failure.value.message
    assert smtp_plain.received == []


def test_a_password_is_never_sent_in_clear():
    with pytest.raises(SettingsError) as failure:
        EmailSettings.parse(
            config={"host": "h", "security": "none", "from_address": "a@b.co", "to": TO},
            secrets={"password": "pw-123456"},
        )
    assert "starttls" in str(failure.value)
    assert "pw-123456" not in str(failure.value)
