"""Factories for test data: Alertmanager payloads and tenant-schema rows."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from receivers.models import Receiver


class WebhookAlertFactory(factory.DictFactory):
    """One alert as Alertmanager's webhook sends it."""

    status = "firing"
    labels = factory.LazyAttributeSequence(
        lambda o, n: {"alertname": "HighLatency", "severity": "critical", "instance": f"web-{n}"}
    )
    annotations = factory.LazyFunction(lambda: {"summary": "p99 latency above 2s"})
    startsAt = "2026-11-23T10:00:00Z"
    endsAt = "0001-01-01T00:00:00Z"
    generatorURL = "http://prometheus.example:9090/graph?g0.expr=up"
    fingerprint = factory.Sequence(lambda n: f"{n + 0xA000:016x}")


class WebhookPayloadFactory(factory.DictFactory):
    """A version 4 webhook body; `alerts` defaults to one firing alert."""

    version = "4"
    groupKey = factory.Sequence(lambda n: f'{{}}:{{alertname="HighLatency",group="{n}"}}')
    truncatedAlerts = 0
    status = "firing"
    receiver = "herald"
    groupLabels = factory.LazyFunction(lambda: {"alertname": "HighLatency"})
    commonLabels = factory.LazyFunction(
        lambda: {"alertname": "HighLatency", "severity": "critical"}
    )
    commonAnnotations = factory.LazyFunction(dict)
    externalURL = "http://alertmanager.example:9093"
    alerts = factory.LazyFunction(lambda: [WebhookAlertFactory()])


class ReceiverFactory(DjangoModelFactory):
    """A receiver in the current tenant schema; pass secrets={"url": ...}."""

    class Meta:
        model = Receiver

    name = factory.Sequence(lambda n: f"receiver-{n}")
    kind = "webhook"
    secrets = factory.LazyFunction(lambda: {"url": "http://127.0.0.1:9/unused"})
    max_attempts = 3


class IngestSourceFactory(DjangoModelFactory):
    """A source in the current tenant schema; pass ingest_key_prefix=key[:10]."""

    class Meta:
        model = "alerting.IngestSource"

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = "grafana"
    ingest_key_prefix = "hk_unbound"


class AlertGroupFactory(DjangoModelFactory):
    class Meta:
        model = "alerting.AlertGroup"

    # Not the payload factory's keys: both may meet in one test.
    group_key = factory.Sequence(lambda n: f'{{}}:{{alertname="HighLatency",row="{n}"}}')
    receiver = "herald"
    status = "firing"
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    last_payload = factory.LazyFunction(dict)


class NotificationFactory(DjangoModelFactory):
    """A pending notification, as ingest would have written it."""

    class Meta:
        model = "receivers.Notification"

    receiver = factory.SubFactory(ReceiverFactory)
    receiver_name = factory.SelfAttribute("receiver.name")
    channel = factory.SelfAttribute("receiver.kind")
    alert_group = factory.SubFactory(AlertGroupFactory)
    status = "firing"
    alerts = factory.LazyFunction(lambda: [WebhookAlertFactory()])


class RouteFactory(DjangoModelFactory):
    """A route; pass receivers=[...] to say who it notifies."""

    class Meta:
        model = "alerting.Route"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"route-{n}")
    position = factory.Sequence(int)
    matchers = ""

    @factory.post_generation
    def receivers(self, create, extracted, **kwargs):
        if create and extracted:
            self.receivers.set(extracted)


class SilenceFactory(DjangoModelFactory):
    """A one-off silence running from an hour ago for two hours."""

    class Meta:
        model = "alerting.Silence"

    matchers = 'alertname="HighLatency"'
    kind = "once"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class EscalationPolicyFactory(DjangoModelFactory):
    """A policy; pass levels=[(delay_minutes, [receiver, ...]), ...]."""

    class Meta:
        model = "escalation.EscalationPolicy"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"policy-{n}")

    @factory.post_generation
    def levels(self, create, extracted, **kwargs):
        for position, (delay_minutes, receivers) in enumerate(extracted or []):
            level = self.levels.create(position=position, delay_minutes=delay_minutes)
            level.receivers.set(receivers)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class PersonFactory(DjangoModelFactory):
    """A member of the current tenant (role `auditor` unless `membership="..."`; a
    membership the user already has is kept) with a profile in its schema.

    `email=...` adds a verified email contact method and a rule paging it at once.
    """

    class Meta:
        model = "escalation.Person"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda person: person.user.username.title())

    @factory.post_generation
    def membership(self, create, extracted, **kwargs):
        from django.db import connection

        from tenants.models import TenantMembership

        if create:
            TenantMembership.objects.get_or_create(
                user_id=self.user_id, tenant=connection.tenant,
                defaults={"role": extracted or "auditor"},  # a Role: role_for reads it
            )

    @factory.post_generation
    def email(self, create, extracted, **kwargs):
        if create and extracted:
            method = ContactMethodFactory(person=self, kind="email", address=extracted)
            self.notification_rules.create(contact_method=method, delay_minutes=0)


class ContactMethodFactory(DjangoModelFactory):
    """A verified contact method."""

    class Meta:
        model = "escalation.ContactMethod"

    person = factory.SubFactory(PersonFactory)
    kind = "email"
    address = factory.LazyAttribute(lambda method: f"{method.person.user.username}@example.com")
    verified_at = factory.LazyFunction(timezone.now)


class TeamFactory(DjangoModelFactory):
    """A team; pass members=[person, ...] (in round-robin order) and leads=[person, ...]."""

    class Meta:
        model = "escalation.Team"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for position, person in enumerate(extracted or []):
            self.memberships.create(person=person, position=position)

    @factory.post_generation
    def leads(self, create, extracted, **kwargs):
        for person in extracted or []:
            self.memberships.update_or_create(person=person, defaults={"role": "lead"})


class ScheduleFactory(DjangoModelFactory):
    class Meta:
        model = "escalation.Schedule"

    name = factory.Sequence(lambda n: f"schedule-{n}")
    time_zone = "UTC"


class ScheduleLayerFactory(DjangoModelFactory):
    """A weekly rotation handing off on Mondays at 09:00; pass members=[person, ...]."""

    class Meta:
        model = "escalation.ScheduleLayer"
        skip_postgeneration_save = True

    schedule = factory.SubFactory(ScheduleFactory)
    name = factory.Sequence(lambda n: f"layer-{n}")
    start_date = factory.LazyFunction(lambda: timezone.datetime(2026, 1, 5).date())
    handoff_time = factory.LazyFunction(lambda: timezone.datetime(2026, 1, 5, 9).time())
    shift_length = 1
    shift_unit = "weeks"

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for position, person in enumerate(extracted or []):
            self.members.create(person=person, position=position)
