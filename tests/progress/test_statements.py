"""The progress side of a quiz submit stays inside the submit's budget of 8 statements."""

import pytest

from lms.db import db
from lms.quizzes import services as quizzes
from tests.factories import make_course, make_lesson, make_module, make_quiz, make_user
from tests.quizzes.helpers import answer_form
from tests.quizzes.test_statements import BUDGET, counted


@pytest.mark.parametrize("lessons", [2, 12])
def test_a_passing_submit_with_the_completion_check_stays_in_budget(client, app, lessons) -> None:
    module = make_module(make_course(f"khoa-{lessons}"), "mo-dun")
    for n in range(lessons):
        make_lesson(
            module, f"bai-{n}", position=n, body_md=f"Bài {n}\n\n```reflect r{n}\nVì sao?\n```"
        )
    make_quiz(module, "::A:: Một? {=một ~hai}\n\n::B:: Hai? {=hai ~ba}")
    user = make_user("hoc.vien")
    attempt, _started = quizzes.start_attempt(user, quizzes.available_quiz(module.id))
    db.session.commit()
    client.login("hoc.vien")
    form = {**answer_form(attempt), "csrf_token": client.csrf_token()}
    with counted() as statements:  # the progress receiver is live: lessons remain, no completion
        response = client.post(f"/attempts/{attempt.public_id}/submit", data=form)
    assert response.status_code == 302
    assert len(statements) <= BUDGET, "\n".join(statements)
