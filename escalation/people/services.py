"""Writes about people: profiles, contact methods and their verification, notification rules.

Every function raises django's ValidationError keyed by the field at fault
for bad input (these are tenant inputs: bounded and checked here, whoever
calls). Only verified contact methods are paged; a new or changed address is
unverified until its confirmation link is opened (the mail and the link:
escalation.people.confirmation) or, for a phone number, the code sent to it
is typed back (escalation.people.codes); this module offers their functions too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from alerting.audit.services import AuditActor, audit_action
from escalation.models import (
    ContactMethod,
    LayerMember,
    NotificationRule,
    Person,
    ScheduleOverride,
    TemporaryShift,
)
from escalation.people.codes import (  # noqa: F401 (part of this module's surface)
    contact_method_code_send,
    contact_method_code_verify,
)
from escalation.people.confirmation import (  # noqa: F401 (part of this module's surface)
    RESEND_INTERVAL,
    SYSTEM,
    VerificationSendError,
    Verified,
    contact_method_state,
    contact_method_verification_send,
    contact_method_verify,
)
from escalation.schedules.services import schedule_changed
from escalation.schedules.zones import zone_known
from receivers.models import Language
from receivers.transports.registry import contact_address_transport, contact_kind_choices
from tenants.models import TenantMembership

MAX_CONTACT_METHODS = 20
MAX_RULES = 20
MAX_RULE_DELAY_MINUTES = 24 * 60
_NAME_MAX, _ZONE_MAX, _LABEL_MAX, _ADDRESS_MAX = 100, 64, 100, 320


def _time_zone_clean(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > _ZONE_MAX:
        raise ValidationError({"time_zone": _("Give an IANA time zone, e.g. Europe/Berlin.")})
    if not zone_known(value):  # known names only: never a path the tenant chose
        raise ValidationError(
            {"time_zone": _("Unknown time zone %(zone)s.") % {"zone": repr(value)}})
    return value


def person_profile_clean(*, display_name: str, time_zone: str, language: str) -> dict:
    display_name = " ".join((display_name or "").split())
    errors = {}
    if not display_name:
        errors["display_name"] = "A display name is needed."
    elif len(display_name) > _NAME_MAX:
        errors["display_name"] = _("At most %(max)d characters.") % {"max": _NAME_MAX}
    if language not in Language.values:
        errors["language"] = _("One of %(choices)s.") % {"choices": ", ".join(Language.values)}
    try:
        time_zone = _time_zone_clean(time_zone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return {"display_name": display_name, "time_zone": time_zone, "language": language}


def person_membership_check(*, user) -> None:
    """Only a current member of this tenant gets a profile in it, and only one."""
    if user is None or not TenantMembership.objects.filter(
        user_id=user.pk, tenant_id=connection.tenant.pk
    ).exists():
        raise ValidationError({"user": _("This user is not a member of this tenant.")})
    if Person.objects.filter(user_id=user.pk).exists():
        raise ValidationError({"user": _("This member already has a profile.")})


def person_create(
    *, user, display_name: str, time_zone: str = "UTC", language: str = Language.EN,
    by: AuditActor = SYSTEM,
) -> Person:
    person_membership_check(user=user)
    person = Person(user=user, **person_profile_clean(
        display_name=display_name, time_zone=time_zone, language=language
    ))
    with transaction.atomic():
        person.save()
        audit_action(by=by, action="person_create", obj=person, after=_person_state(person))
    return person


def person_update(
    *, person: Person, display_name: str, time_zone: str, language: str,
    by: AuditActor = SYSTEM,
) -> Person:
    before = _person_state(person)
    for name, value in person_profile_clean(
        display_name=display_name, time_zone=time_zone, language=language
    ).items():
        setattr(person, name, value)
    with transaction.atomic():
        person.save(update_fields=["display_name", "time_zone", "language"])
        audit_action(by=by, action="person_update", obj=person, before=before,
                     after=_person_state(person))
    return person


def person_delete(*, person: Person, by: AuditActor = SYSTEM) -> None:
    """Delete the profile, its contact methods and rules, and its places in rotations,
    overrides and temporary shifts: the schedules it was in get a new version."""
    with transaction.atomic():
        schedule_ids = set(
            LayerMember.objects.filter(person=person).values_list("layer__schedule_id", flat=True)
        ) | set(
            ScheduleOverride.objects.filter(person=person).values_list("schedule_id", flat=True)
        ) | set(
            ScheduleOverride.objects.filter(replaces=person).values_list("schedule_id", flat=True)
        ) | set(
            TemporaryShift.objects.filter(person=person)
            .values_list("temporary__schedule_id", flat=True)
        )
        audit_action(by=by, action="person_delete", obj=person, before=_person_state(person))
        person.delete()
        for schedule_id in sorted(schedule_ids):
            schedule_changed(schedule_id=schedule_id)


def _person_state(person: Person) -> dict:
    return {"user_id": person.user_id, "display_name": person.display_name,
            "time_zone": person.time_zone, "language": person.language}


def contact_address_clean(*, kind: str, address: str) -> str:
    """The address as the channel writes it; ValidationError naming `kind` or `address`."""
    if kind not in dict(contact_kind_choices()):
        raise ValidationError({"kind": _("%(kind)s is not a channel that pages people.") % {
            "kind": repr(kind)}})
    address = (address or "").strip()
    if not address:
        raise ValidationError({"address": _("An address is needed.")})
    if len(address) > _ADDRESS_MAX:
        raise ValidationError({"address": _("At most %(max)d characters.") % {"max": _ADDRESS_MAX}})
    transport = contact_address_transport(kind)
    try:
        cleaned = transport.contact_address_clean(address)
    except ValueError as exc:
        raise ValidationError({"address": _readable(exc, label=transport.label)}) from None
    if len(cleaned) > _ADDRESS_MAX:
        raise ValidationError({"address": _("At most %(max)d characters.") % {"max": _ADDRESS_MAX}})
    return cleaned


def _readable(exc: ValueError, *, label: str) -> str:
    """pydantic's ValidationError is a ValueError listing its errors: keep their messages."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        messages = [str(error.get("msg", "")).removeprefix("Value error, ") for error in errors()]
        text = "; ".join(message for message in messages if message)
    else:
        text = str(exc)
    return _("Not a valid %(channel)s address: %(why)s.") % {
        "channel": label, "why": text or _("not accepted")}


def _label_clean(label: str) -> str:
    label = " ".join((label or "").split())
    if len(label) > _LABEL_MAX:
        raise ValidationError({"label": _("At most %(max)d characters.") % {"max": _LABEL_MAX}})
    return label


def _address_free(*, person: Person, kind: str, address: str, exclude_id: int | None) -> None:
    taken = ContactMethod.objects.filter(person=person, kind=kind, address=address)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise ValidationError({"address": _("This person already has this address.")})


def contact_method_create(
    *, person: Person, kind: str, address: str, label: str = "", by: AuditActor = SYSTEM,
) -> ContactMethod:
    """A new contact method, unverified."""
    address = contact_address_clean(kind=kind, address=address)
    label = _label_clean(label)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # counts one at a time
        if person.contact_methods.count() >= MAX_CONTACT_METHODS:
            raise ValidationError(
                {"address": _("A person has at most %(max)d contact methods.") % {
                    "max": MAX_CONTACT_METHODS}}
            )
        _address_free(person=person, kind=kind, address=address, exclude_id=None)
        method = ContactMethod.objects.create(
            person=person, kind=kind, address=address, label=label
        )
        audit_action(by=by, action="contact_method_create", obj=method,
                     after=contact_method_state(method))
    return method


def contact_method_update(
    *, contact_method: ContactMethod, address: str, label: str, kind: str | None = None,
    by: AuditActor = SYSTEM,
) -> ContactMethod:
    """A changed address (or kind) is unverified again, and an earlier confirmation link
    stops working."""
    method = contact_method
    stored = ContactMethod.objects.get(pk=method.pk)
    kind = kind or stored.kind
    address = contact_address_clean(kind=kind, address=address)
    label = _label_clean(label)
    before = contact_method_state(stored)
    with transaction.atomic():
        if (kind, address) != (stored.kind, stored.address):
            _address_free(person=method.person, kind=kind, address=address,
                          exclude_id=method.pk)
            method.verified_at = None
            method.verification_sent_at = None
            method.verification_code_hash = ""  # a code sent to the old number is void
            method.verification_code_expires_at = None
            # Written by hand now, not from the configuration's ${ENV} reference.
            method.address_reference = ""
        else:
            method.address_reference = stored.address_reference
            method.verified_at = stored.verified_at
            method.verification_sent_at = stored.verification_sent_at
            method.verification_code_hash = stored.verification_code_hash
            method.verification_code_expires_at = stored.verification_code_expires_at
        method.kind, method.address, method.label = kind, address, label
        method.save(update_fields=["kind", "address", "label", "verified_at",
                                   "verification_sent_at", "address_reference",
                                   "verification_code_hash", "verification_code_expires_at"])
        if contact_method_state(method) != before:
            audit_action(by=by, action="contact_method_update", obj=method, before=before,
                         after=contact_method_state(method))
    return method


@dataclass(frozen=True)
class RuleSpec:
    """One notification rule as written: which contact method, how many minutes in."""

    contact_method: ContactMethod
    delay_minutes: int


def notification_rule_set(
    *, person: Person, rules: Sequence[RuleSpec], by: AuditActor = SYSTEM,
) -> list[NotificationRule]:
    """Replace the person's notification rules with `rules` (their own contact methods)."""
    notification_rules_check(person=person, rules=rules)
    before = _rules_state(person)
    with transaction.atomic():
        person.notification_rules.all().delete()
        made = NotificationRule.objects.bulk_create(
            NotificationRule(person=person, contact_method=rule.contact_method,
                             delay_minutes=rule.delay_minutes)
            for rule in sorted(rules, key=lambda rule: rule.delay_minutes)
        )
        after = _rules_state(person)
        if after != before:
            audit_action(by=by, action="notification_rules_set", obj=person,
                         before={"rules": before}, after={"rules": after})
    return made


def notification_rules_check(*, person: Person, rules: Sequence[RuleSpec]) -> None:
    """ValidationError keyed by the field at fault when `rules` cannot be the person's."""
    if len(rules) > MAX_RULES:
        raise ValidationError(
            {"rules": _("At most %(max)d notification rules.") % {"max": MAX_RULES}})
    seen = set()
    for rule in rules:
        if rule.contact_method.person_id != person.pk:
            raise ValidationError(
                {"contact_method": _("A rule pages one of the person's own contact methods.")}
            )
        if not 0 <= rule.delay_minutes <= MAX_RULE_DELAY_MINUTES:
            raise ValidationError({"delay_minutes": (
                _("Between 0 and %(max)d minutes (a day).") % {"max": MAX_RULE_DELAY_MINUTES}
            )})
        key = (rule.contact_method.pk, rule.delay_minutes)
        if key in seen:
            raise ValidationError({"delay_minutes": _("The same rule is given twice.")})
        seen.add(key)


def _rules_state(person: Person) -> list:
    return [
        [rule["contact_method_id"], rule["delay_minutes"]]
        for rule in NotificationRule.objects.filter(person=person)
        .order_by("delay_minutes", "contact_method_id").values("contact_method_id", "delay_minutes")
    ]
