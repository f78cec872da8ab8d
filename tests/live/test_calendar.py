"""A live session as an .ics file (SECURITY-TESTS LIVE-04, EXP-08)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from lms.live.calendar import session_ics

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def ics(**overrides) -> bytes:
    values = {
        "uid": "live-session-12@lms.example",
        "title": "Họp trực tuyến",
        "start": datetime(2026, 3, 5, 19, 30, tzinfo=VIETNAM),
        "minutes": 90,
        "description": "Chuẩn bị câu hỏi trước.",
        "url": "https://meet.congdoan.example/hop-abcdefgh",
        "organizer_name": "Nguyễn Thị Hoa",
        "now": NOW,
    }
    values.update(overrides)
    return session_ics(**values)


def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").split("\r\n")


def test_a_1930_vietnam_session_is_written_in_vietnam_time_with_its_timezone():
    text = lines(ics())
    assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20260305T193000" in text
    assert "DTEND;TZID=Asia/Ho_Chi_Minh:20260305T210000" in text
    start = text.index("BEGIN:VTIMEZONE")
    assert text[start + 1] == "TZID:Asia/Ho_Chi_Minh"
    assert "END:VTIMEZONE" in text


def test_a_start_given_in_utc_is_converted_to_vietnam_time():
    text = lines(ics(start=datetime(2026, 3, 5, 12, 30, tzinfo=UTC)))
    assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20260305T193000" in text


def test_the_file_has_the_required_properties_and_crlf_endings():
    data = ics()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    text = lines(data)
    assert "VERSION:2.0" in text
    assert any(line.startswith("PRODID:") for line in text)
    assert "DTSTAMP:20260301T080000Z" in text
    assert "UID:live-session-12@lms.example" in text
    assert text.count("BEGIN:VEVENT") == 1
    assert "URL:https://meet.congdoan.example/hop-abcdefgh" in text


def test_summary_escapes_semicolons_commas_and_newlines():
    text = lines(ics(title="A; B, C\nD"))
    assert "SUMMARY:A\\; B\\, C\\nD" in text


def test_vietnamese_text_round_trips():
    event = Calendar.from_ical(ics(title="Đại hội; phiên 1, ngày\nhai")).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Đại hội; phiên 1, ngày\nhai"
    assert str(event["DESCRIPTION"]) == "Chuẩn bị câu hỏi trước."
    assert event.decoded("DTSTART") == datetime(2026, 3, 5, 19, 30, tzinfo=VIETNAM)


def test_uid_is_stable_and_the_file_is_the_same_across_two_calls():
    assert ics() == ics()
    assert "UID:live-session-12@lms.example" in lines(ics(title="Đổi tên", now=datetime.now(UTC)))


@pytest.mark.parametrize(
    "overrides",
    [
        {"start": datetime(2026, 3, 5, 19, 30)},
        {"now": datetime(2026, 3, 1, 8, 0)},
        {"minutes": 0},
    ],
)
def test_naive_datetimes_and_empty_durations_are_refused(overrides):
    with pytest.raises(ValueError):
        ics(**overrides)
