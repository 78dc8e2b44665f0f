"""Fixtures for receiver tests: local SMTP servers, encryption keys that can change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from receivers.models import Receiver
from tests.factories import ReceiverFactory
from tests.receivers.smtp import Mailbox, self_signed_certificate, smtp_server


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


def _forget_cached_keys() -> None:
    # The encrypted field derives its Fernet keys once and caches them on the
    # field instance; a test that changes SALT_KEY must drop that cache.
    field = Receiver._meta.get_field("secrets")
    field.__dict__.pop("keys", None)
    field.__dict__.pop("f", None)


@pytest.fixture
def encryption_keys(settings) -> Iterator[Callable[[list[str]], None]]:
    """Set HERALD's encryption keys (SALT_KEY, newest first) for the rest of the test."""

    def use(keys: list[str]) -> None:
        settings.SALT_KEY = keys
        _forget_cached_keys()

    yield use
    _forget_cached_keys()  # `settings` restores SALT_KEY after this fixture ends


@pytest.fixture
def hook(alpha, httpserver):
    """A receiver posting to the local server's /hook."""

    def make(**fields):
        return ReceiverFactory(secrets={"url": httpserver.url_for("/hook")}, **fields)

    return make
