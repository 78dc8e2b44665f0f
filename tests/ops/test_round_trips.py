"""Round trips on the path from Alertmanager to the receiver, read off libpq's protocol trace.

On a quiet machine a round trip to PostgreSQL costs about what its statement
costs (a wake-up of both processes), so the webhook and the claim count them.
Every `ReadyForQuery` the server sends ends one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from alerting.noise_models import NoiseRate
from receivers.delivery.claim import batch_claim
from receivers.delivery.relay import delivery_relay_start, delivery_relay_stop
from tests.factories import NotificationFactory, ReceiverFactory, WebhookPayloadFactory
from tests.ingest import post, public_client

pytestmark = pytest.mark.django_db(transaction=True)


class Trace:
    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self, side: str) -> list[str]:
        return [line.split("\t", 3)[3] for line in self.path.read_text().splitlines()
                if line.split("\t")[1:2] == [side]]

    def round_trips(self) -> int:
        return sum(m.startswith("ReadyForQuery") for m in self.messages("B"))

    def statements_before_an_answer(self, first: str) -> int:
        """Statements the client sent from the one holding `first` before the server answered."""
        lines = [parts for line in self.path.read_text().splitlines()
                 if len(parts := line.split("\t", 3)[1:]) == 3]  # not a statement's next lines
        start = next(i for i, (side, _, m) in enumerate(lines) if side == "F" and first in m)
        sent = 0
        for side, _, message in lines[start:]:
            if side == "B":
                break
            sent += message.startswith(("Execute", "Query"))
        return sent

    def statements_planned(self) -> list[str]:
        """Statements sent as text (simple query or Parse), which the server plans anew."""
        return [m for m in self.messages("F") if m.startswith(("Query", "Parse"))
                and '"BEGIN"' not in m and '"COMMIT"' not in m]


@contextmanager
def protocol_trace(path: Path) -> Iterator[Trace]:
    """What this thread's connection sent (F) and received (B) meanwhile."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with path.open("w") as out:
        pgconn.trace(out.fileno())
        try:
            yield Trace(path)
        finally:
            pgconn.untrace()


@pytest.fixture
def alpha_with_a_receiver(committed_tenants):
    alpha = committed_tenants["alpha"]
    with tenant_context(alpha):
        ReceiverFactory()
    return alpha


def test_a_new_alert_of_a_known_group_takes_four_round_trips_and_plans_nothing_once_warm(
    alpha_with_a_receiver, ingest_key, tmp_path
):
    key, client = ingest_key(alpha_with_a_receiver), public_client()
    group = '{}:{alertname="HighLatency"}'
    for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
        assert post(client, WebhookPayloadFactory(groupKey=group), key).status_code == 200

    with protocol_trace(tmp_path / "trace") as trace:
        response = post(client, WebhookPayloadFactory(groupKey=group), key)

    assert response.json()["notifications"] == 1
    # BEGIN with the upsert, the notification, COMMIT with the due-work note
    # and the wake after it (alerting.infra.commit_riders), the storm count.
    assert trace.round_trips() == 4
    assert trace.statements_before_an_answer('"COMMIT"') == 2  # COMMIT and the note
    assert trace.statements_before_an_answer('"BEGIN"') == 2  # BEGIN and the upsert
    # The upsert, the notification, the note and the count all run prepared.
    assert trace.statements_planned() == []


def test_the_first_alert_of_a_new_group_takes_one_round_trip_more_for_its_storm_row(
    alpha_with_a_receiver, ingest_key, tmp_path
):
    key, client = ingest_key(alpha_with_a_receiver), public_client()
    for _ in range(6):  # warm, each a group of its own
        assert post(client, WebhookPayloadFactory(), key).status_code == 200

    with protocol_trace(tmp_path / "trace") as trace:
        response = post(client, WebhookPayloadFactory(), key)

    assert response.json()["notifications"] == 1
    # The four of a known group's alert, and the group's storm row written
    # with its first count in one statement.
    assert trace.round_trips() == 5
    with tenant_context(alpha_with_a_receiver):
        assert NoiseRate.objects.exclude(scope="tenant").count() == 7
        assert set(NoiseRate.objects.values_list("bucket_count", flat=True)) == {1, 7}


@pytest.fixture
def no_relay():
    """No relay in this process: a wake from elsewhere would take the notifications along."""
    was_running = delivery_relay_stop()
    yield
    if was_running:
        delivery_relay_start().leading.wait(10)


def test_a_claim_leases_in_two_round_trips(committed_tenants, tmp_path, no_relay):
    # Written as ingest writes them, without its wake, and no relay listening:
    # nothing else claims them meanwhile.
    with tenant_context(committed_tenants["alpha"]):
        receiver = ReceiverFactory()
        first, second = (NotificationFactory(receiver=receiver).id for _ in range(2))
        batch_claim([first], now=timezone.now())  # warm: the receivers are read once per version
        with protocol_trace(tmp_path / "trace") as trace:
            claim = batch_claim([second], now=timezone.now())

    assert [n.id for n in claim.claimed] == [second]
    # BEGIN with the facts (which also say the lease's commit need not wait
    # for the disk), then the lease with its COMMIT.
    assert trace.round_trips() == 2
    assert trace.statements_before_an_answer('"BEGIN"') == 2  # BEGIN and the facts
