from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.catalog.models import LESSON_KIND_LABELS
from lms.forms import BaseForm


def _module_kinds() -> list[SelectChoice]:
    return [
        SelectChoice("core", str(_l("Core module"))),
        SelectChoice("awareness", str(_l("Orientation module"))),
    ]


class ModuleForm(BaseForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please enter a title.")), Length(max=300)]
    )
    kind = SelectField(_l("Kind of module"), choices=[])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)], render_kw={"rows": 3})
    pass_mark = IntegerField(
        _l("Pass mark (%)"),
        default=80,
        validators=[
            Optional(),
            NumberRange(
                min=0, max=100, message=_l("The pass mark is a whole number from 0 to 100.")
            ),
        ],
    )
    requires_live = BooleanField(_l("Learners must attend a live session"))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.kind.choices = _module_kinds()


class NewLessonForm(BaseForm):
    # Shown beside the module's own form: ids of their own keep the page's ids unique.
    title = StringField(
        _l("Title of the new lesson"),
        validators=[DataRequired(_l("Please enter a title.")), Length(max=300)],
        id="new-lesson-title",
    )
    minutes = IntegerField(
        _l("Reading time (minutes)"), default=7, validators=[Optional()], id="new-lesson-minutes"
    )
    kind = SelectField(_l("Kind of lesson"), choices=[], id="new-lesson-kind")

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            SelectChoice(k.value, str(label)) for k, label in LESSON_KIND_LABELS.items()
        ]


class LessonForm(NewLessonForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please enter a title.")), Length(max=300)]
    )
    # Long lessons must save: the limit is enforced with a clear message in the service.
    body = TextAreaField(_l("Lesson text (Markdown)"), render_kw={"rows": 22, "spellcheck": "true"})
    version = HiddenField()


class TrainerForm(BaseForm):
    username = StringField(
        _l("Username of the trainer"),
        validators=[DataRequired(_l("Please enter a username.")), Length(max=64)],
    )


class UploadForm(BaseForm):
    image = FileField(_l("Image (PNG, JPEG, GIF or WebP, at most 2 MB)"))
