from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, TextAreaField
from wtforms.validators import Length, Optional

from lms.forms import BaseForm


class ReflectionForm(BaseForm):
    text = TextAreaField(_l("Your answer"), validators=[Length(max=5000)], render_kw={"rows": 5})


class CaseChoiceForm(BaseForm):
    choice = IntegerField(_l("Your choice"), validators=[Optional()])
