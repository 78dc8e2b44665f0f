"""iCal feeds of on-call shifts, per schedule and per person, behind secret URLs.

A feed's URL names the tenant (slug), the schedule or person (id) and the
object's `calendar_token`; renewing the token (calendar_url_renew) makes the
old URL answer 404 at once. The shifts are the schedule engine's final result
(escalation.schedules.shifts_between: temporary schedules, then overrides,
then layers), written by escalation.calendar_feed.

Bounds: the window is fixed (CALENDAR_PAST before today to CALENDAR_AHEAD
after it, cut at UTC midnights so the same data gives the same feed all day),
a feed holds at most calendar_feed.MAX_EVENTS events, and a person's
feed covers at most MAX_PERSON_SCHEDULES schedules. A fetch reads the
schedules (a few queries each) and digests what the feed is made of; the
digest is the feed's ETag (a client that has it gets a 304) and its key in
the per-process cache of finished feeds (escalation.calendar_cache), so the
costly part, writing thousands of events, happens once per change.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from alerting.encryption import SecretUnreadable
from escalation.calendar_cache import feed_cache
from escalation.calendar_feed import FeedShift, feed_ical, feed_merge
from escalation.models import Person, Schedule, ScheduleOverride, TemporarySchedule
from escalation.models.people import new_calendar_token
from escalation.oncall_selectors import PersonName, person_names
from escalation.schedules import ScheduleSpec, shifts_between
from escalation.schedules.snapshot import schedule_snapshot
from escalation.schedules.zones import zone_known
from tenants.models import TenantMembership

logger = logging.getLogger(__name__)

CALENDAR_PAST = timedelta(days=7)
CALENDAR_AHEAD = timedelta(days=366)  # 12 months from any moment of today
# A person's feed computes every schedule they are in: bounded work per fetch.
MAX_PERSON_SCHEDULES = 50

SCHEDULE_FEED = "schedules"
PERSON_FEED = "people"


def calendar_window(*, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a feed fetched at `now`: a week back, twelve months ahead."""
    now = now or timezone.now()
    midnight = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    return midnight - CALENDAR_PAST, midnight + CALENDAR_AHEAD


def _domain() -> str:
    """What makes UIDs unique beyond this tenant: the tenant and Herald's host."""
    host = urlsplit(settings.HERALD_BASE_URL).hostname or "herald"
    return f"{connection.tenant.slug}.{host}"


def _name(names: dict[int, PersonName], person_id: int) -> str:
    person = names.get(person_id)
    return person.display_name if person else f"person #{person_id}"


def _override_notes(overrides: list[ScheduleOverride], names: dict[int, PersonName],
                    start: datetime, end: datetime) -> tuple[str, ...]:
    """What each override in [start, end) does: 'Override (replace): Bob for Alice. Why'."""
    starts = [override.start for override in overrides]
    notes = []
    for override in overrides[:bisect.bisect_left(starts, end)]:
        if override.end <= start:
            continue
        what = f"Override ({override.kind}): {_name(names, override.person_id)}"
        if override.replaces_id is not None:
            what += f" for {_name(names, override.replaces_id)}"
        notes.append(f"{what}. {override.note}".strip() if override.note else what)
    return tuple(notes)


def _notes(read: _ScheduleRead, overrides: list[ScheduleOverride], source: str,
           start: datetime, end: datetime) -> tuple[str, ...]:
    if source == "override":
        return _override_notes(overrides, read.names, start, end)
    if source == "temporary":
        return tuple(f"Temporary schedule: {note}" for t_start, t_end, note in read.temporaries
                     if note and t_start < end and t_end > start)
    return ()


@dataclass(frozen=True)
class _ScheduleRead:
    """Everything a schedule contributes to a feed, read once."""

    schedule: Schedule
    spec: ScheduleSpec
    overrides: tuple[ScheduleOverride, ...]
    temporaries: tuple[tuple[datetime, datetime, str], ...]  # start, end, note
    names: dict[int, PersonName]

    def fingerprint(self) -> tuple:
        return (
            self.schedule.pk, self.schedule.name, repr(self.spec),
            tuple((o.pk, o.kind, o.person_id, o.replaces_id, o.start, o.end, o.note)
                  for o in self.overrides),
            self.temporaries,
            tuple(sorted((pk, name.display_name) for pk, name in self.names.items())),
        )


def _schedule_read(*, schedule: Schedule, start: datetime, end: datetime) -> _ScheduleRead:
    spec = schedule_snapshot(schedule_id=schedule.id, since=start)
    overrides = tuple(ScheduleOverride.objects.filter(
        schedule_id=schedule.id, end__gt=start, start__lt=end).order_by("start", "id"))
    ids = {p for layer in spec.layers for p in layer.members}
    ids |= {s.person for t in spec.temporaries for s in t.shifts}
    ids |= {o.person_id for o in overrides} | {o.replaces_id for o in overrides if o.replaces_id}
    temporaries = tuple(TemporarySchedule.objects.filter(
        schedule_id=schedule.id, end__gt=start, start__lt=end).order_by("start", "id")
        .values_list("start", "end", "note"))
    return _ScheduleRead(schedule=schedule, spec=spec, overrides=overrides,
                         temporaries=temporaries, names=person_names(person_ids=ids))


def _feed_shifts(read: _ScheduleRead, *, start: datetime, end: datetime,
                 person_id: int | None = None) -> list[FeedShift]:
    overrides = list(read.overrides)
    return [
        FeedShift(
            schedule_id=read.schedule.id, schedule_name=read.schedule.name,
            start=shift.start, end=shift.end,
            people=tuple(_name(read.names, p) for p in shift.people),
            source=shift.source,
            notes=_notes(read, overrides, shift.source, shift.start, shift.end),
        )
        for shift in shifts_between(read.spec, start, end)
        if shift.people and (person_id is None or person_id in shift.people)
    ]


@dataclass(frozen=True)
class CalendarFeed:
    """A feed's ETag (a digest of all it is made of) and, unless the client has it, its body."""

    etag: str
    body: bytes | None


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _served(etag: str, build, if_none_match: str) -> CalendarFeed:
    if if_none_match and etag in if_none_match:
        return CalendarFeed(etag=etag, body=None)
    return CalendarFeed(etag=etag, body=feed_cache.get_or_build(etag, build))


def schedule_calendar_feed(*, schedule_id: int, start: datetime, end: datetime,
                           if_none_match: str = "") -> CalendarFeed:
    """The schedule's final result in [start, end): one event per shift with someone on call.

    Raises escalation.schedules.zones.UnknownZone for a zone this server does not know.
    """
    schedule = Schedule.objects.get(pk=schedule_id)
    read = _schedule_read(schedule=schedule, start=start, end=end)
    read.spec.zone  # noqa: B018 - raises UnknownZone before anything is built or kept
    domain = _domain()

    def build() -> bytes:
        return feed_ical(
            name=f"On call: {schedule.name}", feed=f"schedule-{schedule.id}", domain=domain,
            shifts=feed_merge(_feed_shifts(read, start=start, end=end), same_people=True),
            stamp=start,
        )

    etag = _digest(SCHEDULE_FEED, domain, start, end, read.fingerprint())
    return _served(etag, build, if_none_match)


def schedule_calendar(*, schedule_id: int, start: datetime, end: datetime) -> bytes:
    return schedule_calendar_feed(schedule_id=schedule_id, start=start, end=end).body


def person_schedules(*, person_id: int, start: datetime, end: datetime) -> list[Schedule]:
    """The schedules the person can be on call in during [start, end), by name.

    At most MAX_PERSON_SCHEDULES + 1 of them (enough to tell there are more).
    """
    return list(Schedule.objects.filter(
        Q(layers__members__person_id=person_id)
        | Q(overrides__person_id=person_id, overrides__end__gt=start, overrides__start__lt=end)
        | Q(temporaries__shifts__person_id=person_id, temporaries__shifts__end__gt=start,
            temporaries__shifts__start__lt=end)
    ).distinct().order_by("name", "id")[:MAX_PERSON_SCHEDULES + 1])


def person_calendar_feed(*, person_id: int, start: datetime, end: datetime,
                         if_none_match: str = "") -> CalendarFeed:
    """The person's own shifts in [start, end), over every schedule."""
    person = Person.objects.get(pk=person_id)
    schedules = person_schedules(person_id=person_id, start=start, end=end)
    notices = ((f"Only the first {MAX_PERSON_SCHEDULES} of this person's schedules "
                "(by name) are shown.",) if len(schedules) > MAX_PERSON_SCHEDULES else ())
    reads = []
    for schedule in schedules[:MAX_PERSON_SCHEDULES]:
        if not zone_known(schedule.time_zone):
            # One broken schedule does not take the person's other shifts with it.
            logger.warning("calendar of person #%s leaves out schedule #%s: unknown zone",
                           person_id, schedule.pk)
            continue
        reads.append(_schedule_read(schedule=schedule, start=start, end=end))
    domain = _domain()

    def build() -> bytes:
        shifts: list[FeedShift] = []
        for read in reads:
            shifts.extend(feed_merge(
                _feed_shifts(read, start=start, end=end, person_id=person_id),
                same_people=False))
        shifts.sort(key=lambda shift: (shift.start, shift.schedule_id))
        return feed_ical(
            name=f"On call: {person.display_name}", feed=f"person-{person.id}", domain=domain,
            shifts=shifts, stamp=start, for_person=True, notices=notices,
        )

    etag = _digest(PERSON_FEED, domain, start, end, person.pk, person.display_name, notices,
                   *(read.fingerprint() for read in reads))
    return _served(etag, build, if_none_match)


def person_calendar(*, person_id: int, start: datetime, end: datetime) -> bytes:
    return person_calendar_feed(person_id=person_id, start=start, end=end).body


def calendar_feed_now(*, obj: Schedule | Person, if_none_match: str = "") -> CalendarFeed:
    """The feed of a schedule or a person over today's window."""
    start, end = calendar_window()
    if isinstance(obj, Schedule):
        return schedule_calendar_feed(schedule_id=obj.pk, start=start, end=end,
                                      if_none_match=if_none_match)
    return person_calendar_feed(person_id=obj.pk, start=start, end=end,
                                if_none_match=if_none_match)


def _one_of(schedule: Schedule | None, person: Person | None) -> tuple[str, Schedule | Person]:
    if (schedule is None) == (person is None):
        raise TypeError("Pass exactly one of schedule= and person=.")
    return (SCHEDULE_FEED, schedule) if schedule is not None else (PERSON_FEED, person)


def calendar_url(*, schedule: Schedule | None = None, person: Person | None = None) -> str:
    """The feed's secret URL (absolute), in the current tenant."""
    feed, obj = _one_of(schedule, person)
    return (f"{settings.HERALD_BASE_URL}/calendars/{connection.tenant.slug}/{feed}/"
            f"{obj.pk}/{obj.calendar_token}.ics")


def calendar_url_renew(
    *,
    schedule: Schedule | None = None,
    person: Person | None = None,
    by: str = "",
    source: str = AuditSource.ADMIN,
    ip: str = "",
) -> str:
    """A new token for the feed: the old URL answers 404 from now on. Audited."""
    _feed, obj = _one_of(schedule, person)
    with transaction.atomic():
        obj.calendar_token = new_calendar_token()
        obj.save(update_fields=["calendar_token"])
        audit_record(
            actor=by or "system", source=source, action="calendar_url_renew",
            obj_type=f"escalation.{type(obj).__name__.lower()}", obj_id=obj.pk,
            obj_repr=str(obj)[:300],
            # Never the token itself: the trail says that it changed.
            after={"calendar_url": "renewed"}, ip=ip,
        )
    return calendar_url(schedule=schedule, person=person)


# A token of the right shape compared when the object is missing, so that a
# missing object and a wrong token take the same time.
_NO_TOKEN = new_calendar_token()


def calendar_feed_object(*, feed: str, object_id: int, token: str) -> Schedule | Person | None:
    """The schedule or person whose feed `token` opens, in the current tenant; else None.

    A person's feed opens only while they are a member of the tenant.
    """
    model = {SCHEDULE_FEED: Schedule, PERSON_FEED: Person}.get(feed)
    obj = model.objects.filter(pk=object_id).first() if model else None
    try:
        expected = obj.calendar_token if obj is not None else _NO_TOKEN
    except SecretUnreadable:
        # No configured key decrypts it: nobody's URL can match. The feed
        # answers as for any wrong URL; the operator learns it from the log.
        logger.warning("calendar token of %s #%s cannot be decrypted", feed, object_id)
        return None
    matches = hmac.compare_digest(token.encode(), expected.encode())
    if not matches or obj is None:
        return None
    if isinstance(obj, Person) and not TenantMembership.objects.filter(
        tenant_id=connection.tenant.pk, user_id=obj.user_id
    ).exists():
        # Someone who left the tenant keeps their URL but no longer sees its schedules.
        return None
    return obj
