"""Reads about people: profiles by user, the members still without one, page carriers."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from escalation.models import Person
from receivers.carriers import page_carrier_for
from receivers.models import Receiver
from tenants.models import TenantMembership


def person_of_user(*, user_id: int | None) -> Person | None:
    """The profile of a user in the current tenant, if they have one."""
    if user_id is None:
        return None
    return Person.objects.filter(user_id=user_id).first()


def members_without_profile() -> QuerySet:
    """Users who are members of the current tenant and have no profile in it yet."""
    user_ids = TenantMembership.objects.filter(tenant_id=connection.tenant.pk).values("user_id")
    taken = list(Person.objects.values_list("user_id", flat=True))
    return (
        get_user_model().objects.filter(pk__in=user_ids, is_active=True)
        .exclude(pk__in=taken).order_by("username")
    )


def page_carrier(*, kind: str, address: str = "") -> Receiver | None:
    """The enabled receiver that carries pages of this contact kind to `address`
    (receivers.carriers: by country prefix, else the kind's default)."""
    return page_carrier_for(contact_kind=kind, address=address)
