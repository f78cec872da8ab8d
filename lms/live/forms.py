"""Forms of the live-session pages: scheduling, and uploading an attendance export."""

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.forms import BaseForm

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _providers() -> list[SelectChoice]:
    return [
        SelectChoice("jitsi", str(_l("Jitsi room (created by the system)"))),
        SelectChoice("google_meet", str(_l("Google Meet link"))),
        SelectChoice("other", str(_l("Other link"))),
    ]


def parse_date(text: str | None) -> date | None:
    """A day written the Vietnamese way (1/3/2026, 01/03/2026, 01-03-2026) or as 2026-03-01."""
    value = (text or "").strip()
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


class ScheduleForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please enter a title."))])
    date = StringField(
        _l("Date"),
        description=_l("dd/mm/yyyy, e.g. 01/03/2026"),
        validators=[DataRequired(_l("Please enter the date."))],
        render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"},
    )
    time = StringField(
        _l("Start time (Vietnam time)"),
        description=_l("HH:MM, e.g. 19:30"),
        validators=[DataRequired(_l("Please enter the start time."))],
        render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
    )
    minutes = IntegerField(
        _l("Duration (minutes)"),
        default=90,
        validators=[
            DataRequired(_l("Enter a whole number of minutes between 15 and 600.")),
            NumberRange(
                min=15, max=600, message=_l("Enter a whole number of minutes between 15 and 600.")
            ),
        ],
    )
    provider = SelectField(_l("Where"), choices=[])
    url = StringField(
        _l("Meeting link"),
        description=_l("For Google Meet or another link only: https://…"),
        validators=[Optional()],
    )
    notes = TextAreaField(_l("Notes for participants"), render_kw={"rows": 3})
    audience = StringField(
        _l("For units (codes)"),
        description=_l("Unit codes separated by commas, e.g. A, B-1. Empty: for everyone."),
    )
    covers_module = BooleanField(
        _l("Covers the whole module"),
        description=_l("Confirmed attendance completes the whole module."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.provider.choices = _providers()

    def validate_date(self, field) -> None:  # type: ignore[no-untyped-def]
        if parse_date(field.data) is None:
            raise ValidationError(_l("Enter the date as dd/mm/yyyy, e.g. 01/03/2026."))

    def validate_time(self, field) -> None:  # type: ignore[no-untyped-def]
        try:
            datetime.strptime(field.data or "", "%H:%M")
        except ValueError:
            raise ValidationError(_l("Enter the time as HH:MM (24-hour clock).")) from None

    def start_local(self) -> datetime:
        """The start as a naive Vietnam wall-clock time (after validation)."""
        day = parse_date(self.date.data)
        assert day is not None  # noqa: S101 - validated above
        return datetime.combine(day, datetime.strptime(self.time.data, "%H:%M").time())

    def audience_codes(self) -> list[str]:
        return [c.strip() for c in (self.audience.data or "").split(",") if c.strip()]


class AttendanceUploadForm(BaseForm):
    file = FileField(
        _l("Attendance export (CSV)"),
        description=_l("A CSV file with a username, phone or email column."),
    )


class EditForm(ScheduleForm):
    """The scheduling form without the provider: a session keeps its kind of meeting."""

    provider = None  # type: ignore[assignment]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        BaseForm.__init__(self, *args, **kwargs)

    @staticmethod
    def initial(session, audience: list[str]) -> SimpleNamespace:  # type: ignore[no-untyped-def]
        """The session's current values in the form's fields (Vietnam time)."""
        start = session.start_dt.astimezone(VN)
        return SimpleNamespace(
            title=session.title,
            date=start.strftime("%d/%m/%Y"),
            time=start.strftime("%H:%M"),
            minutes=session.minutes,
            url="" if session.provider == "jitsi" else session.location,
            notes=session.notes,
            audience=", ".join(audience),
            covers_module=session.covers_module,
        )

    def changes(self) -> dict:
        return {
            "title": self.title.data,
            "start_local": self.start_local(),
            "minutes": self.minutes.data,
            "url": self.url.data or "" if self.url else "",
            "notes": self.notes.data or "",
            "audience_codes": self.audience_codes(),
            "covers_module": self.covers_module.data,
        }
