"""Forms of the quiz pages; the answer fields are per question and read by question_types."""

from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from lms.forms import BaseForm


class AnswersForm(BaseForm):
    """The attempt page (save and submit): the CSRF token and the revision the page shows.
    The answers themselves are named after their questions and read by the question types."""

    revision = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=2**31 - 1)])
