from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from lms.forms import BaseForm


class ReflectionForm(BaseForm):
    text = TextAreaField(_l("Your answer"), validators=[Length(max=5000)], render_kw={"rows": 5})


class CaseChoiceForm(BaseForm):
    choice = IntegerField(_l("Your choice"), validators=[Optional()])


class ExternalCompletionForm(BaseForm):
    """A module completed at a province or in-person class; choices set by the view."""

    # A list with no empty first choice may not carry the `required` attribute (HTML validity);
    # the server still requires a module.
    module = SelectField(
        _l("Module"),
        coerce=int,
        validators=[InputRequired(_l("Choose the module."))],
        render_kw={"required": False},
    )
    day = StringField(
        _l("Date of the class"),
        validators=[DataRequired(_l("Enter the date of the class."))],
        description=_l("dd/mm/yyyy, e.g. 03/11/2021"),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "dd/mm/yyyy"},
    )
    class_name = StringField(
        _l("Class"),
        validators=[DataRequired(_l("Enter the name of the class.")), Length(max=300)],
        description=_l("e.g. Provincial training class, Tây Ninh, November 2021"),
    )
    note = TextAreaField(
        _l("Evidence note"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2}
    )
    evidence = FileField(_l("Evidence file (PDF, JPEG or PNG, at most 5 MB)"))


class RevokeForm(BaseForm):
    reason = StringField(
        _l("Reason"), validators=[DataRequired(_l("Give the reason.")), Length(max=500)]
    )


class CompletionFileForm(BaseForm):
    file = FileField(_l("Attendance list (CSV or XLSX)"))


class ApplyImportForm(BaseForm):
    """Carries the checked file back (base64) so applying re-checks exactly what was shown."""

    payload = HiddenField()
