"""A submit costs a fixed number of SQL statements, however many questions and past attempts."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from lms.db import db
from lms.quizzes import services
from lms.quizzes.signals import attempt_graded
from tests.factories import make_course, make_module, make_quiz, make_user
from tests.quizzes.helpers import answer_form, latest_attempt

BUDGET = 8
# Transaction control is not a query; the test isolation adds SAVEPOINTs a server would not.
_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def _gift(count: int) -> str:
    return "\n\n".join(f"::Câu {n}::Câu hỏi số {n}? {{=Đúng ~Sai ~Cũng sai}}" for n in range(count))


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not _CONTROL.match(statement):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _submit_statements(client, questions: int, prior: int) -> list[str]:  # type: ignore[no-untyped-def]
    course = make_course(f"khoa-{questions}-{prior}")
    module = make_module(course, "dem-cau-lenh")
    quiz = make_quiz(module, _gift(questions))
    user = make_user(f"dem.{questions}.{prior}")
    ctx = services.available_quiz(module.id)
    for _ in range(prior):
        done, _started = services.start_attempt(user, ctx)
        db.session.flush()
        services.submit_attempt(services.load_attempt(user, done.public_id), user, {}, 0)
    attempt, _started = services.start_attempt(user, ctx)
    db.session.commit()
    assert len(services.current_questions(quiz)) == questions
    client.login(user.username)
    # Half the answers saved before, half sent with the submit: both paths are exercised.
    form = answer_form(attempt)
    saved = {k: v for k, v in form.items() if k == "revision" or k != "q" and int(k[1:]) % 2}
    saved["q"] = [qid for qid in form["q"] if int(qid) % 2]
    client.post_form(f"/attempts/{attempt.public_id}/save", saved)
    form["revision"] = "1"
    form["csrf_token"] = client.csrf_token()
    with attempt_graded.muted(), counted() as statements:
        response = client.post(f"/attempts/{attempt.public_id}/submit", data=form)
    assert response.status_code == 302
    done = latest_attempt(user.id)
    assert done.score == 100.0
    return statements


@pytest.mark.parametrize(("questions", "prior"), [(5, 0), (20, 0), (5, 3), (20, 3)])
def test_submit_takes_a_fixed_number_of_statements(client, app, questions, prior) -> None:
    statements = _submit_statements(client, questions, prior)
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_the_count_does_not_grow_with_questions(client, app) -> None:
    small = _submit_statements(client, 5, 0)
    client.logout()
    large = _submit_statements(client, 20, 2)
    assert len(small) == len(large)
