"""Email over SMTP: STARTTLS or implicit TLS, optional auth, text and HTML parts.

Every mail has a Message-ID of its own, stable across retries (a resend after
a lost SMTP answer is the same mail to the client). Later mails of an alert
group reply to the first one the receiver was sent, so mail clients thread
the resolved mail under the firing one it follows.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal, Self

from django.conf import settings as django_settings
from pydantic import Field, SecretStr, TypeAdapter, model_validator

from receivers.message_rendering import RenderedMessage
from receivers.messages import AlertMessage, group_dedup_key
from receivers.transports.alertmanager import (
    AlertmanagerMapping,
    ImportedReceiver,
    split_list,
)
from receivers.transports.base import PartLimit, SendResult, Transport, TransportError
from receivers.transports.http import guard_host
from receivers.transports.outbound import host_name_check
from receivers.transports.settings import ChannelSettings, EmailAddress
from receivers.truncation import truncate_text

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# RFC 5322 allows 998 characters a line; mail clients show far fewer.
SUBJECT_LIMIT = 250
# As for HTTP: addresses of one host tried in turn while none could be connected to.
_ADDRESSES_TRIED = 3


class EmailSettings(ChannelSettings):
    host: str = Field(min_length=1, description="SMTP server host name.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Default: 587 (starttls), 465 (tls), 25 (none)."
    )
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="STARTTLS, implicit TLS, or none (trusted relays only)."
    )
    username: str = Field("", description="SMTP login; no authentication when empty.")
    password: SecretStr | None = Field(None, description="SMTP password.")
    from_address: EmailAddress = Field(description="The From address.")
    to: list[EmailAddress] = Field(min_length=1, max_length=50, description="Recipients.")

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> Self:
        if self.security == "none" and self.password:
            raise ValueError("a password needs security 'starttls' or 'tls'")
        return self


def message_id(*, message: AlertMessage, notification_id: int, settings: EmailSettings) -> str:
    """`<notification.group@sender's domain>`: one per notification, the same at each retry.

    The group's key (hashed per tenant) keeps tenants' notification numbers
    apart; the sender's domain is the one the mail claims to come from.
    """
    domain = _ascii_domain(settings.from_address)
    return f"<{notification_id}.{group_dedup_key(message)[:32]}@{domain}>"


def _ascii_domain(address: str) -> str:
    try:
        return address.rpartition("@")[2].encode("idna").decode("ascii")  # a header wants ASCII
    except UnicodeError:
        return "herald.invalid"


def email_message(
    *, rendered: RenderedMessage, message: AlertMessage, settings: EmailSettings, date: datetime
) -> EmailMessage:
    """The multipart (text + HTML) mail for one notification (pure, given the date)."""
    email = EmailMessage()
    # Headers cannot hold line breaks; templates may well produce some.
    email["Subject"] = truncate_text(" ".join(rendered["subject"].split()), SUBJECT_LIMIT)
    email["From"] = settings.from_address
    email["To"] = ", ".join(settings.to)
    email["Date"] = format_datetime(date)
    email["Message-ID"] = message_id(
        message=message, notification_id=message.notification_id, settings=settings
    )
    if message.thread_root_id is not None and message.thread_root_id != message.notification_id:
        first = message_id(
            message=message, notification_id=message.thread_root_id, settings=settings
        )
        email["In-Reply-To"] = first
        email["References"] = first
    email["X-Herald-Status"] = message.status
    email.set_content(rendered["text"])
    email.add_alternative(rendered["html"], subtype="html")
    return email


def _smtp_error(exc: smtplib.SMTPResponseException, transport: Transport) -> TransportError:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    # 4xx replies are transient by SMTP's own definition; 5xx are not. The
    # reply may echo the login: masked before it is cut, as HTTP answers are.
    return TransportError(
        f"SMTP {exc.smtp_code}: {transport.error_text(text)}",
        permanent=not 400 <= exc.smtp_code < 500,
    )


class _Pinned:
    """Connects to the address the guard checked; TLS still verifies the host name.

    smtplib resolves `host` itself at connect time, which would be a second
    lookup (DNS rebinding); STARTTLS and SMTP_SSL name the server by `_host`,
    which stays the name.
    """

    def __init__(self, host: str, port: int, *, address: str, **kwargs: Any) -> None:
        self._address = address
        super().__init__(host, port, **kwargs)  # type: ignore[call-arg]  # connects

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self._address, port, timeout)  # type: ignore[misc]


class _PinnedSMTP(_Pinned, smtplib.SMTP):
    pass


class _PinnedSMTPSSL(_Pinned, smtplib.SMTP_SSL):
    pass


def _smtp_connect(
    *, security: str, host: str, addresses: tuple[str, ...], port: int, timeout: float,
    context: ssl.SSLContext,
) -> smtplib.SMTP:
    """A client connected to the first checked address that answers."""
    for index, address in enumerate(addresses[:_ADDRESSES_TRIED]):
        try:
            if security == "tls":
                return _PinnedSMTPSSL(host, port, address=address, timeout=timeout, context=context)
            return _PinnedSMTP(host, port, address=address, timeout=timeout)
        except OSError as exc:
            # A server that could not be reached at this address saw nothing:
            # the next one is tried. TLS and SMTP answers are the server's own.
            last = index + 1 == min(len(addresses), _ADDRESSES_TRIED)
            if last or isinstance(exc, ssl.SSLError | smtplib.SMTPException):
                raise
    raise AssertionError("unreachable: addresses is never empty")


def email_from_alertmanager(
    entry: Mapping[str, Any], globals: Mapping[str, Any]
) -> ImportedReceiver:
    smarthost = str(entry.get("smarthost") or globals.get("smtp_smarthost") or "")
    host, _, port = smarthost.rpartition(":") if ":" in smarthost else (smarthost, "", "")
    require_tls = entry.get("require_tls", globals.get("smtp_require_tls", True))
    security = "tls" if port == "465" else ("starttls" if require_tls else "none")
    notes = []
    if entry.get("tls_config"):
        notes.append("tls_config is not imported (Herald verifies against the system CAs)")
    return ImportedReceiver(
        config={
            "host": host, "port": int(port) if port.isdigit() else None, "security": security,
            "username": entry.get("auth_username") or globals.get("smtp_auth_username") or "",
            "from_address": entry.get("from") or globals.get("smtp_from"),
            "to": split_list(entry.get("to")),
        },
        secrets={"password": entry.get("auth_password") or globals.get("smtp_auth_password")},
        notes=notes,
    )


class EmailTransport(Transport):
    kind = "email"
    label = "Email"
    settings_class = EmailSettings
    parts = ("subject", "text", "html")
    html_parts = frozenset({"html"})
    part_limits = {"subject": PartLimit("email (subject)", SUBJECT_LIMIT)}
    threads_replies = True
    pages_people = True
    alertmanager = (
        AlertmanagerMapping(
            key="email_configs",
            mapper=email_from_alertmanager,
            send_resolved_default=False,
            reads=("to", "from", "smarthost", "auth_username", "auth_password",
                   "auth_password_file", "require_tls", "tls_config"),
            templated=("html", "text", "headers"),
        ),
    )

    @classmethod
    def contact_address_clean(cls, address: str) -> str:
        return TypeAdapter(EmailAddress).validate_python(address.strip())

    @classmethod
    def addressed_to(cls, config: Mapping[str, Any], address: str) -> dict[str, Any]:
        return {**config, "to": [address]}

    @classmethod
    def outbound_hosts(cls, config: Mapping[str, Any]) -> list[tuple[str, str, int]]:
        """The SMTP server, at its port or the one its security implies."""
        host = config.get("host")
        if not isinstance(host, str) or not host.strip():
            return []
        try:
            port = int(config.get("port") or DEFAULT_PORTS.get(config.get("security"), 587))
        except (TypeError, ValueError):
            port = 587  # the settings check names the bad port
        return [("host", host.strip(), port)]

    def send(self, message: AlertMessage) -> SendResult:
        email = email_message(
            rendered=self.render(message),
            message=message,
            settings=self.settings,
            date=datetime.now().astimezone(),
        )
        return self._deliver(email, receiver_name=message.receiver_name)

    def verification_send(
        self, *, address: str, text: str, subject: str = "Confirm your address for Herald"
    ) -> None:
        """A plain-text mail to `address` (a contact method's confirmation link) with this
        receiver's settings.

        Through the same guarded connection as alerts; raises TransportError.
        """
        settings = self.settings
        email = EmailMessage()
        email["Subject"] = truncate_text(" ".join(subject.split()), SUBJECT_LIMIT)
        email["From"] = settings.from_address
        try:
            email["To"] = self.contact_address_clean(address)
        except ValueError:
            raise TransportError("not an email address", permanent=True) from None
        email["Date"] = format_datetime(datetime.now().astimezone())
        email["Message-ID"] = make_msgid(domain=_ascii_domain(settings.from_address))
        email.set_content(text)
        self._deliver(email, receiver_name=f"{settings.from_address} (a contact's confirmation)")

    def _deliver(self, email: EmailMessage, *, receiver_name: str) -> SendResult:
        settings = self.settings
        port = settings.port or DEFAULT_PORTS[settings.security]
        host = host_name_check(settings.host)
        addresses = guard_host(host, port, allow_private=self.allow_private)
        timeout = settings.timeout_seconds or django_settings.HERALD_HTTP_TIMEOUT_SECONDS
        context = ssl.create_default_context()
        try:
            client = _smtp_connect(
                security=settings.security, host=host, addresses=addresses, port=port,
                timeout=timeout, context=context,
            )
            with client:
                if settings.security == "starttls":
                    client.starttls(context=context)
                if settings.username:
                    client.login(settings.username, settings.secret("password"))
                refused = client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            raise TransportError(
                f"the SMTP server refused every recipient (codes {sorted(codes)})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _smtp_error(exc, self) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportError(
                f"the SMTP server does not support {exc}", permanent=True
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"the SMTP server's certificate is not trusted: {exc.verify_message}",
                permanent=True,
            ) from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS with the SMTP server failed: {exc.reason}") from None
        except TimeoutError:
            raise TransportError("the SMTP server did not answer in time") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(
                f"could not talk to the SMTP server: {type(exc).__name__}"
            ) from None
        if refused:
            logger.warning(
                "receiver %r: the SMTP server refused %d of %d recipients",
                receiver_name,
                len(refused),
                len(settings.to),
            )
        return SendResult()
