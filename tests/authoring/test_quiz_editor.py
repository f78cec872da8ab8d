"""The trainer's quiz editor: GIFT errors at line and column with the text kept, publishing that
never changes past attempts, stale edits, the one-question form, history, the check endpoint,
and who may open which screen."""

import re

import pytest
import sqlalchemy as sa
from flask_babel import gettext
from markupsafe import escape

from lms.accounts.models import Role, User
from lms.authoring import history, services
from lms.authoring.models import Revision, RevisionKind
from lms.catalog.models import CourseTrainer
from lms.db import db
from lms.quizzes import gift
from lms.quizzes import services as quizzes
from lms.quizzes.models import Attempt, Quiz
from tests.factories import make_course, make_module, make_org, make_quiz, make_user
from tests.quizzes.helpers import answer_form

BASE = "/teach/khoa-quiz/mo-dun/quiz"
QUIZ_V1 = "::Một::Hai cộng hai? {=bốn#Đúng. ~ba#Sai.}\n\n::Hai::Thủ đô? {=Hà Nội ~Huế}\n"
BROKEN = "::Một::Hai cộng hai? {=bốn ~ba\n\n::Hai::Thủ đô? {=Hà Nội ~%150%Huế}\n"
FIXED = QUIZ_V1 + "\n::Ba::Luật Công đoàn 2024 có hiệu lực từ 01/7/2025. {T}\n"


@pytest.fixture
def world(app):
    course = make_course("khoa-quiz", title="Khóa có bài kiểm tra")
    make_course("khoa-khac", title="Khóa khác")
    module = make_module(course, "mo-dun", pass_mark=50)
    make_quiz(module, QUIZ_V1)
    for username, name in (("gv.a", "Giảng Viên A"), ("gv.b", "Giảng Viên B")):
        trainer = make_user(username, role=Role.TRAINER, full_name=name)
        db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    make_user("gv.khac", role=Role.TRAINER)
    make_user("quantri", role=Role.ADMIN)
    make_user("canbo", role=Role.STAFF, org=make_org("D9"))
    make_user("hocvien.a")
    make_user("hocvien.b")
    db.session.commit()
    return module


def vi(app, msgid: str, /, **values) -> str:  # type: ignore[no-untyped-def]
    """A message as the page shows it: translated for Vietnamese, then HTML-escaped."""
    with app.test_request_context():
        return str(escape(gettext(msgid, **values)))


def _quiz(module) -> Quiz:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return quizzes.quiz_for_module(module)


def _version(page: str) -> str:
    return re.search(r'name="edit_version" value="(\d+)"', page).group(1)


def _save(client, text: str, version: str, **extra):  # type: ignore[no-untyped-def]
    return client.post_form(BASE, {"source": text, "edit_version": version, **extra})


def _take(user, module, right: bool, submit: bool = True) -> Attempt:  # type: ignore[no-untyped-def]
    attempt, _started = quizzes.start_attempt(user, quizzes.available_quiz(module.id))
    db.session.flush()
    ctx = quizzes.load_attempt(user, attempt.public_id)
    form = {
        k: v if isinstance(v, list) else [str(v)] for k, v in answer_form(attempt, right).items()
    }
    if submit:
        quizzes.submit_attempt(ctx, user, form, attempt.revision)
    else:
        quizzes.save_answers(ctx, form, attempt.revision)
    db.session.commit()
    return attempt


def test_broken_gift_is_refused_then_fixed_and_published_without_touching_attempts(
    app, client, world
) -> None:
    learner_a, learner_b = (
        db.session.scalars(sa.select(User).where(User.username == name)).one()
        for name in ("hocvien.a", "hocvien.b")
    )
    done = _take(learner_a, world, right=True)
    running = _take(learner_b, world, right=False, submit=False)
    client.login("gv.a")
    page = client.get(BASE).get_data(as_text=True)
    assert vi(app, "Published, version %(num)s.", num=1) in page
    version = _version(page)

    refused = _save(client, BROKEN, version)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    errors = services.gift_errors(BROKEN)
    assert [(e.line, e.column) for e in errors] == [(1, 22), (3, 26)]
    for error in errors:
        message = gettext(gift.MESSAGES[error.code], **error.params)
        line = vi(app, "line %(line)s, column %(column)s: %(message)s", line=error.line,
                  column=error.column, message=message)  # fmt: skip
        assert line in body
    assert str(escape(BROKEN.strip())) in body  # the trainer's text is still in the textarea
    quiz = _quiz(world)
    assert quiz.draft_source is None and str(quiz.edit_version) == version
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Revision)) == 0

    assert _save(client, FIXED, version).status_code == 302
    page = client.get(BASE).get_data(as_text=True)
    assert vi(app, "Unpublished changes: learners still take version %(num)s.", num=1) in page
    assert _quiz(world).version == 1 and _quiz(world).draft_source == FIXED.strip()

    published = _save(client, FIXED, _version(page), publish="1")
    assert published.status_code == 302
    quiz = _quiz(world)
    assert quiz.version == 2 and quiz.draft_source is None
    assert len(quizzes.current_questions(quiz)) == 3
    before = db.session.get(Attempt, done.id)
    assert (before.version, before.score, before.passed) == (1, 100.0, True)
    still = db.session.get(Attempt, running.id)
    assert still.version == 1 and len(quizzes.attempt_questions(still)) == 2
    ctx = quizzes.load_attempt(learner_b, still.public_id)
    form = {k: v if isinstance(v, list) else [str(v)] for k, v in answer_form(still).items()}
    finished = quizzes.submit_attempt(ctx, learner_b, form, still.revision)
    assert (finished.version, finished.score) == (1, 100.0)


def test_a_stale_save_shows_the_conflict_and_keeps_the_trainers_text(app, client, world) -> None:
    other = app.test_client()
    client.login("gv.a")
    other.login("gv.b")
    version = _version(client.get(BASE).get_data(as_text=True))
    assert _version(other.get(BASE).get_data(as_text=True)) == version
    mine = QUIZ_V1 + "\n::Bốn::Câu của A? {=có ~không}\n"
    theirs = QUIZ_V1 + "\n::Năm::Câu của B? {=đúng ~sai}\n"
    assert _save(client, mine, version).status_code == 302

    conflict = _save(other, theirs, version)
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    assert vi(app, "Someone else saved this quiz while you were editing") in page
    assert "Câu của B?" in page.split('name="source"')[1]  # their text, in the textarea
    assert "Câu của A?" in page.split('name="source"')[0]  # the other text, shown above
    assert '<span class="add">+ ::Năm::Câu của B?' in page
    assert _quiz(world).draft_source == mine.strip()

    assert _save(other, theirs, _version(page)).status_code == 302
    assert _quiz(world).draft_source == theirs.strip()


def _question_form(text: str, answers: list[tuple[str, str, str]], **fields) -> dict:  # type: ignore[no-untyped-def]
    data = {"type": "multiple_choice", "title": "Bốn", "text": text, "general_feedback": ""}
    for n in range(8):
        answer, grade, feedback = answers[n] if n < len(answers) else ("", "0.0", "")
        data |= {f"answers-{n}-text": answer, f"answers-{n}-grade": grade,
                 f"answers-{n}-feedback": feedback, f"answers-{n}-match": ""}  # fmt: skip
    return data | fields


def test_the_form_adds_and_edits_a_multiple_choice_question(app, client, world) -> None:
    client.login("gv.a")
    page = client.get(f"{BASE}/question").get_data(as_text=True)
    assert 'value="-0.5">-50%' in page and 'value="0.8333333">83,33333%' in page
    answers = [("Ba ngày", "1.0", "Đúng."), ("Một ngày", "0.0", "Chưa đúng.")]
    form = _question_form("Nghỉ bao nhiêu ngày?", answers, edit_version=_version(page))
    assert client.post_form(f"{BASE}/question", form).status_code == 302
    added = gift.parse(_quiz(world).draft_source)[2]
    assert (added.type, added.title, added.text) == (
        "multiple_choice",
        "Bốn",
        "Nghỉ bao nhiêu ngày?",
    )
    assert [(a.text, a.fraction, a.feedback) for a in added.answers] == [
        ("Ba ngày", 1.0, "Đúng."),
        ("Một ngày", 0.0, "Chưa đúng."),
    ]

    page = client.get(f"{BASE}/question?n=2").get_data(as_text=True)
    assert 'value="Ba ngày"' in page and "Nghỉ bao nhiêu ngày?" in page
    form = _question_form("Nghỉ mấy ngày?", answers, edit_version=_version(page))
    assert client.post_form(f"{BASE}/question?n=2", form).status_code == 302
    draft = _quiz(world).draft_source
    assert draft.startswith(QUIZ_V1)  # the other questions are kept as written
    assert [q.text for q in gift.parse(draft)] == ["Hai cộng hai?", "Thủ đô?", "Nghỉ mấy ngày?"]


def test_the_form_refuses_a_choice_question_without_a_right_answer(app, client, world) -> None:
    client.login("gv.a")
    version = _version(client.get(f"{BASE}/question").get_data(as_text=True))
    answers = [("Phương án thứ nhất", "0.5", ""), ("Phương án thứ hai", "0.0", "")]
    refused = client.post_form(
        f"{BASE}/question", _question_form("Câu?", answers, edit_version=version)
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert vi(app, "Give exactly one answer the grade 100%: the right answer.") in page
    assert 'value="Phương án thứ nhất"' in page and 'value="Phương án thứ hai"' in page
    assert '<option selected value="0.5">' in page
    assert _quiz(world).draft_source is None


def test_the_form_refuses_grades_of_several_answers_that_do_not_add_up(app, client, world) -> None:
    client.login("gv.a")
    version = _version(client.get(f"{BASE}/question").get_data(as_text=True))
    answers = [("A", "0.5", ""), ("B", "0.3333333", ""), ("C", "-1.0", "")]
    form = _question_form("Chọn?", answers, type="multiple_answer", edit_version=version)
    refused = client.post_form(f"{BASE}/question", form)
    assert refused.status_code == 400
    assert "83,33333%" in refused.get_data(as_text=True)
    form |= {"answers-1-grade": "0.5"}
    assert client.post_form(f"{BASE}/question", form).status_code == 302
    added = gift.parse(_quiz(world).draft_source)[2]
    assert added.type == "multiple_answer"
    assert [a.fraction for a in added.answers] == [0.5, 0.5, -1.0]


def test_history_shows_who_when_and_the_diff_and_restores(app, client, world) -> None:
    client.login("gv.a")
    version = _version(client.get(BASE).get_data(as_text=True))
    first = QUIZ_V1.replace("Thủ đô?", "Thủ đô nước ta?")
    assert _save(client, first, version).status_code == 302
    assert _save(client, FIXED, str(int(version) + 1)).status_code == 302
    page = client.get(f"{BASE}/history").get_data(as_text=True)
    assert page.count("Giảng Viên A") == 2
    assert re.search(r"<time>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</time>", page)
    assert '<span class="add">+ ::Hai::Thủ đô nước ta? {=Hà Nội ~Huế}</span>' in page
    assert '<span class="del">- ::Hai::Thủ đô nước ta? {=Hà Nội ~Huế}</span>' in page
    oldest = min(r.id for r in history.history(RevisionKind.QUIZ, _quiz(world).id))
    restored = client.post_form(f"{BASE}/history/{oldest}/restore")
    assert restored.status_code == 302 and restored.headers["Location"] == BASE
    assert _quiz(world).draft_source == first.strip()
    assert client.post_form(f"{BASE}/history/999999/restore").status_code == 404


def test_the_check_endpoint_answers_json_only(app, client, world) -> None:
    client.login("gv.a")
    token = client.csrf_token()
    checked = client.post(f"{BASE}/check", json={"source": BROKEN}, headers={"X-CSRFToken": token})
    assert checked.status_code == 200
    errors = checked.get_json()["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(1, 22), (3, 26)]
    assert all(e["message"] for e in errors)
    fine = client.post(f"{BASE}/check", json={"source": QUIZ_V1}, headers={"X-CSRFToken": token})
    assert fine.get_json() == {"errors": []}
    form = client.post_form(f"{BASE}/check", {"source": BROKEN})
    assert form.status_code == 415
    plain = client.post(
        f"{BASE}/check", data=BROKEN, content_type="text/plain", headers={"X-CSRFToken": token}
    )
    assert plain.status_code == 415
    assert client.post(f"{BASE}/check", json={"source": BROKEN}).status_code == 400
    assert (
        client.post(f"{BASE}/check", json={"text": 1}, headers={"X-CSRFToken": token}).status_code
        == 400
    )


def test_the_preview_draws_questions_as_learners_see_them_and_stays_safe(
    app, client, world
) -> None:
    client.login("gv.a")
    text = "::X::<script>alert(1)</script><b>Đậm</b>? {=<b onclick\\=alert(1)>Đậm</b> ~Nhạt}"
    page = _save(client, text, "0").get_data(as_text=True)  # stale: the conflict page previews
    assert '<fieldset class="quiz-q" id="qp1">' in page and "<b>Đậm</b>?" in page
    assert "<script>alert" not in page and not re.search(r"<[^>]*onclick", page)
    assert 'type="radio"' in page.split('id="preview-title"')[1]


SCREENS = [
    ("GET", BASE),
    ("POST", BASE),
    ("POST", f"{BASE}/check"),
    ("GET", f"{BASE}/question"),
    ("POST", f"{BASE}/question"),
    ("GET", f"{BASE}/history"),
    ("POST", f"{BASE}/history/1/restore"),
    ("GET", f"{BASE}/stats"),
]


@pytest.mark.parametrize(("username", "status"), [("gv.khac", 403), ("hocvien.a", 403),
                                                  ("canbo", 403), (None, 302)])  # fmt: skip
def test_only_the_courses_trainers_and_admins_may_open_the_screens(
    client, world, username, status
) -> None:
    if username:
        client.login(username)
    for method, path in SCREENS:
        response = client.get(path) if method == "GET" else client.post_form(path, {})
        assert response.status_code == status, (method, path)
        if status == 302:
            assert response.headers["Location"].startswith("/login")


def test_admins_may_edit_and_unknown_places_are_404(client, world) -> None:
    client.login("quantri")
    for path in (BASE, f"{BASE}/question", f"{BASE}/history", f"{BASE}/stats"):
        assert client.get(path).status_code == 200, path
    assert client.get("/teach/khoa-quiz/khong-co/quiz").status_code == 404
    assert client.get("/teach/khong-co/mo-dun/quiz").status_code == 404
    assert client.get(f"{BASE}/question?n=9").status_code == 404
    assert client.get(f"{BASE}/stats?version=7").status_code == 404


def test_a_stale_form_keeps_the_typed_question_and_saves_into_the_newer_text(
    app, client, world
) -> None:
    other = app.test_client()
    client.login("gv.a")
    other.login("gv.b")
    version = _version(client.get(f"{BASE}/question").get_data(as_text=True))
    theirs = QUIZ_V1 + "\n::Năm::Câu của B? {=đúng ~sai}\n"
    assert _save(other, theirs, version).status_code == 302
    answers = [("Ba ngày", "1.0", ""), ("Một ngày", "0.0", "")]
    form = _question_form("Nghỉ bao nhiêu ngày?", answers, edit_version=version)
    stale = client.post_form(f"{BASE}/question", form)
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Câu của B?" in page and 'value="Ba ngày"' in page and "Nghỉ bao nhiêu ngày?" in page
    form["edit_version"] = _version(page)
    assert client.post_form(f"{BASE}/question", form).status_code == 302
    draft = _quiz(world).draft_source
    assert draft.startswith(theirs.strip()) and "Nghỉ bao nhiêu ngày?" in draft


ROWS = {
    "true_false": ([("", "0.0", "Sai rồi."), ("", "1.0", "Đúng.")], [("false", 1.0)]),
    "short_answer": ([("Hà Nội", "1.0", ""), ("Ha Noi", "0.5", "")], [("Ha Noi", 0.5)]),
    "numerical": ([("24:2", "1.0", ""), ("*", "0.0", "Chưa đúng.")], [("*", 0.0)]),
    "multiple_answer": ([("A", "0.5", ""), ("B", "0.5", ""), ("C", "-1.0", "")], [("C", -1.0)]),
}


@pytest.mark.parametrize("qtype", sorted(ROWS))
def test_each_kind_of_question_round_trips_through_gift(app_ctx, qtype: str) -> None:
    from lms.authoring.quiz_editor import build_question

    rows, (last,) = ROWS[qtype]
    form = _question_form("Câu?", rows, type=qtype)
    data = {**form, "answers": [
        {k: form[f"answers-{n}-{k}"] for k in ("text", "match", "grade", "feedback")}
        for n in range(8)
    ]}  # fmt: skip
    written = gift.parse_one(build_question(data, None))
    assert written.type == qtype
    assert (written.answers[-1].text, written.answers[-1].fraction) == last


@pytest.mark.parametrize("number", ["1.000", "19.000.000", "3,5", "ba", "1..2.000"])
def test_numbers_that_gift_would_misread_are_refused(app_ctx, number: str) -> None:
    from lms.authoring.quiz_editor import QuestionInvalid, build_question

    rows = [{"text": number, "match": "", "grade": "1.0", "feedback": ""}]
    data = {"type": "numerical", "title": "", "text": "Bao nhiêu?", "general_feedback": ""}
    with pytest.raises(QuestionInvalid, match="1"):
        build_question(data | {"answers": rows}, None)


def test_matching_needs_what_each_item_matches(app_ctx) -> None:
    from lms.authoring.quiz_editor import QuestionInvalid, build_question

    pairs = [{"text": t, "match": m, "grade": "0.0", "feedback": ""} for t, m in
             (("Chủ tịch", "24 giờ"), ("Phó chủ tịch", "12 giờ"), ("", "48 giờ"))]  # fmt: skip
    data = {"type": "matching", "title": "", "text": "Ghép", "general_feedback": ""}
    question = gift.parse_one(build_question(data | {"answers": pairs}, None))
    assert [(a.text, a.match) for a in question.answers][-1] == ("", "48 giờ")
    pairs[1]["match"] = ""
    with pytest.raises(QuestionInvalid, match="2"):
        build_question(data | {"answers": pairs}, None)


def test_replacing_a_question_keeps_every_other_line(app_ctx) -> None:
    from lms.authoring.quiz_editor import put_question

    source = (
        "// Chủ đề tiền lương\n::A::Một? {=a ~b}\n\n// ghi chú\n::B::Hai? {=c ~d}\n\n::C::Ba? {T}"
    )
    replaced = put_question(source, 1, "::B::Hai mới? {=c ~d}\n")
    assert replaced == source.replace("Hai?", "Hai mới?")
    assert put_question("", None, "::X::? {T}\n") == "::X::? {T}\n"
