"""A live session as an iCalendar file (RFC 5545), for learners' phone calendars.

The start is written in Vietnam time with `TZID=Asia/Ho_Chi_Minh` plus the matching VTIMEZONE
block (some clients ignore a TZID without one), and the UID is given by the caller so a
re-downloaded file updates the same event instead of adding a copy (LIVE-04, EXP-08). Text is
escaped and lines folded by `icalendar`; its output uses CRLF line endings.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PRODID = "-//lms//Live sessions//VI"


def session_ics(
    *,
    uid: str,
    title: str,
    start: datetime,
    minutes: int,
    description: str,
    url: str,
    organizer_name: str,
    now: datetime,
) -> bytes:
    """One VEVENT for a live session; `start` and `now` must be timezone-aware."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must be timezone-aware")
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    local_start = start.astimezone(TIMEZONE)
    # Imported here: only a calendar download needs it, not every serving process at start.
    from icalendar import Calendar, Event

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_start + timedelta(minutes=minutes))
    event.add("summary", title)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
        event.add("location", url)  # most calendar apps show LOCATION, few show URL
    if organizer_name:
        # ORGANIZER needs an address (a mailto: URI); CONTACT carries a plain name.
        event.add("contact", organizer_name)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
