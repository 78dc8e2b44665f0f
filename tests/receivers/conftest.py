"""Fixtures for receiver tests: local SMTP servers, encryption keys that can change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.encryption import encryption_keys  # noqa: F401 - a fixture
from tests.factories import ReceiverFactory
from tests.receivers.smtp import Mailbox, self_signed_certificate, smtp_server
from tests.receivers.sns_moto import moto, moto_server  # noqa: F401 - fixtures (AWS SNS)


@pytest.fixture(scope="session")
def smtp_cert(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("smtp"))


@pytest.fixture
def trust_smtp_cert(smtp_cert, monkeypatch) -> None:
    """Make the test certificate the one OpenSSL trusts by default, for this test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_cert[0]))


@pytest.fixture
def smtp_plain() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def smtp_starttls(smtp_cert, trust_smtp_cert) -> Iterator[Mailbox]:
    with smtp_server(cert=smtp_cert) as mailbox:
        yield mailbox


@pytest.fixture
def smtps(smtp_cert, trust_smtp_cert) -> Iterator[Mailbox]:
    with smtp_server(cert=smtp_cert, implicit_tls=True) as mailbox:
        yield mailbox


@pytest.fixture
def hook(alpha, httpserver):
    """A receiver posting to the local server's /hook."""

    def make(**fields):
        return ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, **fields)

    return make
