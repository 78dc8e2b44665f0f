"""On-call shifts as an iCalendar document (RFC 5545): pure, no database.

escalation.calendars reads the schedules and people; this module turns what
it read into bytes. Times are written in UTC (a trailing Z), so no client has
to know the schedule's zone. UIDs are made of what identifies a shift (the
feed, the schedule and the shift's start), so the same shift keeps its UID
from one fetch to the next and a client updates it in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vDatetime, vText

# Hourly shifts for a year are about 8,800 events (~2 MB); beyond this the
# feed ends early (and says so) rather than growing without bound.
MAX_EVENTS = 10_000

_PRODID = "-//Herald//On-call calendar//EN"
_SOURCE_WORDS = {
    "override": "override",
    "temporary": "temporary schedule",
}
_FROM = {
    "override": "Changed by an override.",
    "temporary": "From a temporary schedule, which replaces the layers for a while.",
}


@dataclass(frozen=True)
class FeedShift:
    """One event: a stretch of time in one schedule with the same people on call."""

    schedule_id: int
    schedule_name: str
    start: datetime
    end: datetime
    people: tuple[str, ...]  # names as shown, e.g. "Alice (alice)"
    source: str  # "layer" | "override" | "temporary"
    notes: tuple[str, ...] = ()  # what the overrides in it say


def feed_shift_summary(shift: FeedShift, *, for_person: bool) -> str:
    """'On call: Alice' or, in a person's own calendar, 'On call: primary'."""
    what = shift.schedule_name if for_person else ", ".join(shift.people)
    summary = f"On call: {what}"
    if shift.source in _SOURCE_WORDS:
        summary += f" ({_SOURCE_WORDS[shift.source]})"
    return summary


def feed_shift_description(shift: FeedShift) -> str:
    lines = [f"Schedule: {shift.schedule_name}", f"On call: {', '.join(shift.people)}"]
    if shift.source in _FROM:
        lines.append(_FROM[shift.source])
    lines.extend(shift.notes)
    return "\n".join(lines)


def _utc(moment: datetime) -> vDatetime:
    return vDatetime(moment.astimezone(UTC))


def feed_uid(*, feed: str, shift: FeedShift, domain: str, for_person: bool) -> str:
    """The same for the same shift in every fetch: (person,) schedule and start."""
    start = shift.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    owner = f"{feed}-" if for_person else ""
    return f"{owner}schedule-{shift.schedule_id}-{start}@{domain}"


def feed_ical(
    *,
    name: str,
    feed: str,
    domain: str,
    shifts: Iterable[FeedShift],
    stamp: datetime,
    for_person: bool = False,
    max_events: int = MAX_EVENTS,
    notices: tuple[str, ...] = (),
) -> bytes:
    """The calendar: one VEVENT per shift, at most `max_events` of them.

    `feed` names the calendar in UIDs ("schedule-3", "person-7"); `domain`
    makes them globally unique (the tenant); `stamp` is DTSTAMP, passed in so
    that the same data gives the same bytes; `notices` (what was left out)
    go in the calendar's description.
    """
    calendar = Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    dtstamp = _utc(stamp)
    notices = list(notices)
    for count, shift in enumerate(shifts):
        if count == max_events:
            notices.append(f"Only the first {max_events} shifts are shown.")
            break
        # Properties set as typed values: icalendar's add() infers each type,
        # which costs more than the rest of the work for thousands of events.
        event = Event()
        event["uid"] = vText(
            feed_uid(feed=feed, shift=shift, domain=domain, for_person=for_person))
        event["dtstamp"] = dtstamp
        event["dtstart"] = _utc(shift.start)
        event["dtend"] = _utc(shift.end)
        event["summary"] = vText(feed_shift_summary(shift, for_person=for_person))
        event["description"] = vText(feed_shift_description(shift))
        event["transp"] = vText("TRANSPARENT")  # being on call is not being busy
        if shift.source == "override":
            event["categories"] = vText("override")
        calendar.add_component(event)
    if notices:
        calendar.add("x-wr-caldesc", " ".join(notices))
    return calendar.to_ical()


def feed_merge(shifts: Sequence[FeedShift], *, same_people: bool) -> list[FeedShift]:
    """Back-to-back pieces of one stretch made one event.

    The engine cuts a segment wherever the answer changes in any way (the
    layer it came from, anyone's presence). A schedule's feed joins pieces
    with the same people and source; a person's own feed (`same_people`
    False) joins every piece of the same schedule and source, since only
    their own presence matters there.
    """
    merged: list[FeedShift] = []
    for shift in shifts:
        last = merged[-1] if merged else None
        if (last is not None and last.schedule_id == shift.schedule_id
                and last.source == shift.source and last.end == shift.start
                and (not same_people or last.people == shift.people)):
            people = last.people + tuple(p for p in shift.people if p not in last.people)
            notes = last.notes + tuple(n for n in shift.notes if n not in last.notes)
            merged[-1] = FeedShift(
                schedule_id=last.schedule_id, schedule_name=last.schedule_name,
                start=last.start, end=shift.end, people=people, source=last.source,
                notes=notes,
            )
        else:
            merged.append(shift)
    return merged
