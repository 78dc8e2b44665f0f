"""A real SMTP server on 127.0.0.1 (aiosmtpd) with a self-signed certificate.

Used by the email tests and the end-to-end test. The client trusts the
certificate through SSL_CERT_FILE, which OpenSSL reads each time a default
context is made: the code under test keeps verifying certificates.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "herald"
PASSWORD = "smtp-pass-5b1e9c"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "herald test smtp")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the server received, and who logged in."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_with: str | None = None  # an SMTP reply to answer DATA with

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it so
        if self.refuse_with:
            return self.refuse_with
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USERNAME
            and auth_data.password.decode() == PASSWORD
        ):
            self.logins.append(USERNAME)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    # aiosmtpd's start-up check connects to the configured port, so port 0
    # will not do: take one the kernel just handed out.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(
    *, cert: tuple[Path, Path] | None = None, implicit_tls: bool = False
) -> Iterator[Mailbox]:
    """Serve SMTP on a free port of 127.0.0.1.

    With `cert`: STARTTLS and AUTH required before mail is accepted, or
    implicit TLS with AUTH offered.
    """
    mailbox = Mailbox(port=_free_port())
    kwargs: dict = {"hostname": "127.0.0.1", "port": mailbox.port}
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        kwargs.update(authenticator=mailbox.authenticate)
        if implicit_tls:
            # aiosmtpd cannot tell implicit TLS from none for its AUTH rules:
            # AUTH is offered, not required (the test checks it happened).
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(tls_context=context, require_starttls=True, auth_required=True)
    controller = Controller(mailbox, **kwargs)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
