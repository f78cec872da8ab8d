"""Fixtures of the quiz room: a published course whose module has a quiz of every type."""

from types import SimpleNamespace

import pytest

from lms.db import db
from tests.factories import make_course, make_module, make_quiz, make_user
from tests.quizzes.helpers import GIFT


@pytest.fixture
def quiz_world(app):
    course = make_course("chu-de-thu")
    module = make_module(course, "tien-luong", pass_mark=80)
    quiz = make_quiz(module, GIFT)
    learner = make_user("hocvien.a")
    other = make_user("hocvien.b")
    db.session.commit()
    return SimpleNamespace(course=course, module=module, quiz=quiz, learner=learner, other=other)
