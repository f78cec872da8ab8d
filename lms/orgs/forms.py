from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.accounts.models import ROLE_LABELS
from lms.forms import BaseForm
from lms.orgs.models import POSITION_LABELS, SECTOR_LABELS


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    items = [SelectChoice(key.value, str(label)) for key, label in labels.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + items


class OrgForm(BaseForm):
    code = StringField(
        _l("Unit code"), validators=[DataRequired(_l("Please enter a unit code.")), Length(max=40)]
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Please enter the unit's name.")), Length(max=200)]
    )
    kind = StringField(
        _l("Kind of unit"),
        default="grassroots",
        validators=[DataRequired(_l("Please enter the kind of unit.")), Length(max=40)],
        description=_l("province, district, sector_union, zone_union, grassroots…"),
    )
    parent = StringField(_l("Code of the unit above"), validators=[Optional(), Length(max=40)])
    sector = SelectField(_l("Sector (grassroots unions)"), choices=[], validators=[Optional()])
    member_count = IntegerField(
        _l("Number of members (grassroots unions)"),
        validators=[
            Optional(),
            NumberRange(
                min=0, max=1_000_000, message=_l("Enter a number between 0 and 1.000.000.")
            ),
        ],
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.sector.choices = _choices(SECTOR_LABELS, blank="—")


class PersonForm(BaseForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Please enter the full name.")), Length(max=200)],
    )
    phone = StringField(
        _l("Phone number"),
        validators=[Optional(), Length(max=30)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
        description=_l("Becomes the username. Example: 0912 345 678."),
    )
    username = StringField(
        _l("Username (only without a phone)"), validators=[Optional(), Length(max=64)]
    )
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[])
    org = StringField(_l("Unit code"), validators=[Optional(), Length(max=40)])
    position = SelectField(_l("Position in the union"), choices=[], validators=[Optional()])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(_l("Please enter an initial password.")), Length(max=256)],
        description=_l("The person must change it at first sign-in."),
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.role.choices = _choices(ROLE_LABELS)
        self.position.choices = _choices(POSITION_LABELS, blank="—")


class PersonEditForm(BaseForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Please enter the full name.")), Length(max=200)],
    )
    role = SelectField(_l("Role"), choices=[])
    org = StringField(_l("Unit code"), validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("Account may sign in"))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.role.choices = _choices(ROLE_LABELS)


class RosterUploadForm(BaseForm):
    file = FileField(
        _l("Roster file (.xlsx or .csv)"),
        validators=[FileRequired(_l("Please choose the roster file to check."))],
        render_kw={"accept": ".xlsx,.csv,text/csv"},
    )


class SlipsForm(BaseForm):
    include_invited = BooleanField(
        _l("Also replace links already handed out (the earlier slips stop working)"),
        default=False,
    )
