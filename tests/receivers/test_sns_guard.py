"""SNS through the outbound guard: the endpoint a tenant gives is checked, then pinned.

JAILED as the guard's own tests are (tests/receivers/outbound_jail.py): any
connection but to loopback is refused and recorded, names come from a fake
resolver. boto3 signs; Herald's one outbound path sends, so the endpoint's
host is resolved once, refused when private for a tenant without
allow_private_targets, and connected to at the address that was checked.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from receivers.services import receiver_settings_validate
from receivers.transports import TransportError, transport_class
from tests.receivers.helpers import alert_message
from tests.receivers.outbound_jail import PUBLIC, Jail, Resolver, jail_install, resolver_install
from tests.receivers.sns_moto import REGION

KEYS = {"access_key_id": "AKIA0123456789ABCDEF", "secret_access_key": "s3cr3t" * 7}
NUMBER = "+14155552671"


@pytest.fixture(autouse=True)
def jail(monkeypatch) -> Jail:
    return jail_install(monkeypatch)


@pytest.fixture(autouse=True)
def resolver(monkeypatch) -> Resolver:
    return resolver_install(monkeypatch)


def send(endpoint_url: str, *, allow_private: bool):
    transport = transport_class("sns")(
        config={"region": REGION, "endpoint_url": endpoint_url, "phone_number": NUMBER},
        secrets=KEYS, allow_private=allow_private,
    )
    return transport.send(alert_message())


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:{P}", "http://localhost:{P}", "http://[::ffff:127.0.0.1]:{P}",
    "http://0x7f.1:{P}",
])
def test_a_tenant_cannot_point_the_endpoint_at_loopback(moto, jail, endpoint):
    with pytest.raises(TransportError) as refused:
        send(endpoint.format(P=moto.port), allow_private=False)

    assert refused.value.permanent
    assert moto.recorder.seen == []
    assert jail.refused == []


def test_a_name_that_resolves_to_a_private_address_is_refused(moto, resolver):
    resolver.answer("sns.corp.example", ["10.1.2.3"])
    with pytest.raises(TransportError) as refused:
        send(f"http://sns.corp.example:{moto.port}", allow_private=False)

    assert refused.value.permanent
    assert "private or loopback address (private)" in refused.value.message
    assert moto.recorder.seen == []


def test_the_checked_address_is_the_one_connected_to_dns_rebinding_reaches_nothing(
    moto, jail, resolver
):
    # Public when checked, loopback for a second lookup: there is none.
    resolver.answer("sns.rebind.example", [PUBLIC], ["127.0.0.1"])
    with pytest.raises(TransportError) as failed:
        send(f"http://sns.rebind.example:{moto.port}", allow_private=False)

    assert not failed.value.permanent  # could not connect: retried later
    assert jail.refused == [(PUBLIC, moto.port)]
    assert resolver.count("sns.rebind.example") == 1
    assert moto.recorder.seen == []


def test_the_regions_own_endpoint_goes_through_the_guard_too(jail, resolver):
    resolver.answer(f"sns.{REGION}.amazonaws.com", [PUBLIC])
    with pytest.raises(TransportError) as failed:
        send("", allow_private=False)

    assert not failed.value.permanent, failed.value.message

    assert resolver.count(f"sns.{REGION}.amazonaws.com") == 1
    assert jail.refused == [(PUBLIC, 443)]


def test_a_tenant_allowed_private_targets_reaches_a_local_endpoint(moto, jail):
    result = send(f"http://localhost:{moto.port}", allow_private=True)

    assert result.vendor_ref == {"message_id": moto.sms_ids()[0]}
    assert [seen.action for seen in moto.recorder.seen] == [
        "CheckIfPhoneNumberIsOptedOut", "Publish"
    ]
    assert jail.refused == []


def test_saving_a_loopback_endpoint_is_refused_naming_the_setting(moto):
    with pytest.raises(ValidationError) as refused:
        receiver_settings_validate(
            kind="sns", config={"region": REGION, "phone_number": NUMBER,
                                "endpoint_url": f"http://127.0.0.1:{moto.port}"},
            secrets=KEYS, allow_private=False,
        )
    assert list(refused.value.message_dict) == ["endpoint_url"]
    assert "private or loopback" in refused.value.message_dict["endpoint_url"][0]
