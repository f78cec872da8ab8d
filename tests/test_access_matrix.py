"""AC-01: every route × every role has a checked-in decision, generated from the app's URL map.

A new route fails `test_every_route_has_a_decision` until someone writes down who may use it.
Statuses: 200 ok, 302 redirect (to sign-in for anonymous), 400 refused input, 403, 404.
"""

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.db import db
from lms.discussion import services as discussion
from tests.conftest import Client
from tests.factories import (
    make_course,
    make_lesson,
    make_module,
    make_quiz,
    make_tree,
    make_user,
)

ROLES = ("anonymous", "learner", "trainer", "staff_a", "staff_b", "admin")
USERS = {
    "learner": "0912000001",
    "trainer": "giangvien",
    "staff_a": "canbo.a",
    "staff_b": "canbo.b",
    "admin": "quantri",
}


def row(anonymous: int, learner: int, trainer: int, staff_a: int, staff_b: int, admin: int) -> dict:
    return dict(zip(ROLES, (anonymous, learner, trainer, staff_a, staff_b, admin), strict=True))


PUBLIC = row(200, 200, 200, 200, 200, 200)
SIGNED_IN = row(302, 200, 200, 200, 200, 200)
ALL_REDIRECT = row(302, 302, 302, 302, 302, 302)
TEACHERS_REFUSED_INPUT = row(302, 403, 400, 403, 403, 400)
TEACHERS_REDIRECT = row(302, 403, 302, 403, 403, 302)
ADMIN_REDIRECT = row(302, 403, 403, 403, 403, 302)
TEACH = "/teach/khoa-giang-vien"
TEACH_MODULE = f"{TEACH}/mo-dun-quiz"
TEACH_LESSON = f"{TEACH_MODULE}/bai-soan"
LESSON = "/learn/khoa/mo-dun/bai"
TEACHERS = row(302, 403, 200, 403, 403, 200)
QUIZ_EDITOR = "/teach/khoa-giang-vien/mo-dun-quiz/quiz"
LESSON_BODY = """Bài.

```reflect r1
Suy ngẫm?
```

```case c1
situation = "Tình huống."
[[choice]]
text = "A"
consequence = "Hệ quả A."
feedback = "Nhận xét A."
[[choice]]
text = "B"
consequence = "Hệ quả B."
feedback = "Nhận xét B."
```

```check k1
Hai cộng hai? {=bốn#Đúng. ~ba#Sai.}
```
"""

# (endpoint, method): (path template, form data, expected status per role)
# {person} is a learner of district A; staff of district B must not reach it.
MATRIX = {
    ("accounts.login", "GET"): ("/login", None, row(200, 302, 302, 302, 302, 302)),
    ("accounts.login", "POST"): ("/login", {}, row(400, 302, 302, 302, 302, 302)),
    ("accounts.logout", "POST"): ("/logout", {}, row(302, 302, 302, 302, 302, 302)),
    ("accounts.account", "GET"): ("/account", None, SIGNED_IN),
    ("accounts.password", "GET"): ("/account/password", None, SIGNED_IN),
    ("accounts.password", "POST"): ("/account/password", {}, row(302, 400, 400, 400, 400, 400)),
    ("accounts.end_other_sessions", "POST"): (
        "/account/sessions/end-others",
        {},
        row(302, 302, 302, 302, 302, 302),
    ),
    ("accounts.language", "POST"): (
        "/language",
        {"locale": "vi"},
        row(302, 302, 302, 302, 302, 302),
    ),
    # First sign-in and password resets: anyone may type a code; a bogus link is a 404, and the
    # password page without an opened invitation sends back to the code page.
    ("accounts.invite_code", "GET"): ("/invite", None, PUBLIC),
    ("accounts.invite_code", "POST"): ("/invite", {}, row(400, 400, 400, 400, 400, 400)),
    ("accounts.invite_link", "GET"): ("/invite/not-a-real-token", None, row(*[404] * 6)),
    ("accounts.invite_password", "GET"): ("/invite/password", None, ALL_REDIRECT),
    ("accounts.invite_password", "POST"): ("/invite/password", {}, ALL_REDIRECT),
    ("orgs.index", "GET"): ("/orgs/", None, row(302, 403, 403, 302, 302, 200)),
    ("orgs.detail", "GET"): ("/orgs/A-1", None, row(302, 403, 403, 200, 404, 200)),
    ("orgs.create", "GET"): ("/orgs/new", None, row(302, 403, 403, 403, 403, 200)),
    ("orgs.create", "POST"): ("/orgs/new", {}, row(302, 403, 403, 403, 403, 400)),
    ("orgs.people", "GET"): ("/people/", None, row(302, 403, 403, 200, 200, 200)),
    ("orgs.create_person", "GET"): ("/people/new", None, row(302, 403, 403, 403, 403, 200)),
    ("orgs.create_person", "POST"): ("/people/new", {}, row(302, 403, 403, 403, 403, 400)),
    ("orgs.person", "GET"): ("/people/{person}", None, row(302, 403, 403, 200, 404, 200)),
    ("orgs.update_person", "POST"): ("/people/{person}", {}, row(302, 403, 403, 403, 403, 400)),
    # Sign-in links and slips: staff for people and units in their scope (B gets 404), admin all.
    ("orgs.invite_person", "POST"): (
        "/people/{person}/invite",
        {},
        row(302, 403, 403, 200, 404, 200),
    ),
    ("orgs.print_slips", "POST"): ("/orgs/A-1/slips", {}, row(302, 403, 403, 200, 404, 200)),
    # Roster import: any staff (the file is checked against their scope) and admin.
    ("orgs.roster_page", "GET"): ("/roster/", None, row(302, 403, 403, 200, 200, 200)),
    ("orgs.roster_template", "GET"): (
        "/roster/template.xlsx",
        None,
        row(302, 403, 403, 200, 200, 200),
    ),
    ("orgs.roster_preview", "POST"): ("/roster/preview", {}, row(302, 403, 403, 400, 400, 400)),
    ("orgs.roster_apply", "POST"): ("/roster/apply", {}, row(302, 403, 403, 302, 302, 302)),
    # {cert} is a module certificate of {person}: only its owner sees it, anyone may verify it.
    ("certificates.show", "GET"): ("/certificates/{cert}", None, row(302, 200, 404, 404, 404, 404)),
    ("certificates.pdf", "GET"): (
        "/certificates/{cert}.pdf",
        None,
        row(302, 200, 404, 404, 404, 404),
    ),
    ("certificates.verify", "GET"): ("/verify/{cert}", None, PUBLIC),
    # Learning pages: every signed-in person may study every published course.
    ("progress.course", "GET"): ("/learn/khoa", None, SIGNED_IN),
    ("progress.module", "GET"): ("/learn/khoa/mo-dun", None, SIGNED_IN),
    ("progress.lesson", "GET"): ("/learn/khoa/mo-dun/bai", None, SIGNED_IN),
    ("progress.reflect", "POST"): (f"{LESSON}/reflect/r1", {"text": "Ý kiến"}, ALL_REDIRECT),
    ("progress.case", "POST"): (f"{LESSON}/case/c1", {"choice": "0"}, ALL_REDIRECT),
    ("progress.check", "POST"): (f"{LESSON}/check/k1", {"answer": "0"}, ALL_REDIRECT),
    ("progress.complete", "POST"): (f"{LESSON}/done", {}, ALL_REDIRECT),
    ("progress.notebook", "GET"): ("/notebook", None, SIGNED_IN),
    ("discussion.add", "POST"): ("/lessons/{lesson}/posts", {"body": "Xin chào"}, ALL_REDIRECT),
    # Only trainers and admins moderate.
    ("discussion.hide", "POST"): (
        "/posts/{post}/hide",
        {"reason": "Lạc đề"},
        row(302, 403, 302, 403, 403, 302),
    ),
    # Quizzes: any signed-in person may take a published module's quiz; an attempt ({attempt}
    # in progress, {done} submitted, both of {person}) answers its owner only, 404 to anyone else.
    ("quizzes.overview", "GET"): ("/modules/{quiz_module}/quiz", None, SIGNED_IN),
    ("quizzes.start", "POST"): ("/modules/{quiz_module}/quiz/start", {}, ALL_REDIRECT),
    ("quizzes.attempt", "GET"): ("/attempts/{attempt}", None, row(302, 200, 404, 404, 404, 404)),
    ("quizzes.save", "POST"): (
        "/attempts/{attempt}/save",
        {"revision": "0"},
        row(302, 302, 404, 404, 404, 404),
    ),
    ("quizzes.submit", "POST"): (
        "/attempts/{attempt}/submit",
        {"revision": "0"},
        row(302, 302, 404, 404, 404, 404),
    ),
    ("quizzes.review", "GET"): (
        "/attempts/{done}/review",
        None,
        row(302, 200, 404, 404, 404, 404),
    ),
    # Quiz editor: only trainers of the course ("giangvien" teaches {quiz_course}) and admins.
    ("quiz_editor.edit", "GET"): (QUIZ_EDITOR, None, TEACHERS),
    ("quiz_editor.edit", "POST"): (QUIZ_EDITOR, {}, row(302, 403, 400, 403, 403, 400)),
    ("quiz_editor.check", "POST"): (
        f"{QUIZ_EDITOR}/check",
        {},
        row(302, 403, 415, 403, 403, 415),  # JSON only
    ),
    ("quiz_editor.question", "GET"): (f"{QUIZ_EDITOR}/question", None, TEACHERS),
    ("quiz_editor.question", "POST"): (
        f"{QUIZ_EDITOR}/question",
        {},
        row(302, 403, 400, 403, 403, 400),
    ),
    ("quiz_editor.history", "GET"): (f"{QUIZ_EDITOR}/history", None, TEACHERS),
    ("quiz_editor.restore", "POST"): (
        f"{QUIZ_EDITOR}/history/{{quiz_revision}}/restore",
        {},
        row(302, 403, 302, 403, 403, 302),
    ),
    ("quiz_editor.stats", "GET"): (f"{QUIZ_EDITOR}/stats", None, TEACHERS),
    # Authoring: trainers of the course ("giangvien" teaches khoa-giang-vien) and admins only.
    ("authoring.index", "GET"): ("/teach/", None, row(302, 403, 200, 403, 403, 200)),
    ("authoring.course", "GET"): (TEACH, None, TEACHERS),
    ("authoring.create_module", "POST"): (f"{TEACH}/modules", {}, TEACHERS_REFUSED_INPUT),
    ("authoring.add_trainer", "POST"): (f"{TEACH}/trainers", {}, ADMIN_REDIRECT),
    ("authoring.remove_trainer", "POST"): (f"{TEACH}/trainers/999/remove", {}, ADMIN_REDIRECT),
    ("authoring.module", "GET"): (TEACH_MODULE, None, TEACHERS),
    ("authoring.module", "POST"): (TEACH_MODULE, {}, TEACHERS_REFUSED_INPUT),
    ("authoring.module_status", "POST"): (f"{TEACH_MODULE}/status", {}, TEACHERS_REDIRECT),
    ("authoring.move_module", "POST"): (f"{TEACH_MODULE}/move", {}, TEACHERS_REDIRECT),
    ("authoring.create_lesson", "POST"): (f"{TEACH_MODULE}/lessons", {}, TEACHERS_REDIRECT),
    ("authoring.learners", "GET"): (f"{TEACH_MODULE}/learners", None, TEACHERS),
    ("authoring.export_course", "GET"): (f"{TEACH}/export.zip", None, TEACHERS),
    ("authoring.export_module", "GET"): (f"{TEACH_MODULE}/export.zip", None, TEACHERS),
    ("authoring.lesson", "GET"): (TEACH_LESSON, None, TEACHERS),
    ("authoring.lesson", "POST"): (TEACH_LESSON, {}, TEACHERS_REFUSED_INPUT),
    ("authoring.autosave", "POST"): (f"{TEACH_LESSON}/autosave", {}, TEACHERS_REFUSED_INPUT),
    ("authoring.arrange_lesson", "POST"): (f"{TEACH_LESSON}/arrange", {}, TEACHERS_REDIRECT),
    ("authoring.lesson_history", "GET"): (f"{TEACH_LESSON}/history", None, TEACHERS),
    ("authoring.restore_lesson", "POST"): (
        f"{TEACH_LESSON}/history/{{lesson_revision}}/restore",
        {},
        TEACHERS_REDIRECT,
    ),
    ("authoring.upload", "POST"): (f"{TEACH}/uploads", {}, TEACHERS_REFUSED_INPUT),
    ("authoring.preview", "POST"): ("/teach/preview", {}, row(302, 403, 415, 403, 403, 415)),
    # Lesson images are lesson content: every signed-in person may load them.
    ("authoring.image", "GET"): ("/uploads/{image}", None, SIGNED_IN),
    # Live sessions: {live} is a Jitsi session of a course "giangvien" teaches, for district A.
    ("live.schedule", "GET"): (f"{TEACH_MODULE}/live", None, TEACHERS),
    ("live.schedule", "POST"): (f"{TEACH_MODULE}/live", {}, TEACHERS_REFUSED_INPUT),
    ("live.attendance", "GET"): ("/live/{live}/attendance", None, TEACHERS),
    ("live.edit", "GET"): ("/live/{live}/edit", None, TEACHERS),
    ("live.edit", "POST"): ("/live/{live}/edit", {}, TEACHERS_REFUSED_INPUT),
    ("live.cancel", "POST"): ("/live/{live}/cancel", {}, TEACHERS_REDIRECT),
    ("live.index", "GET"): ("/live/", None, SIGNED_IN),
    ("live.withdraw", "POST"): ("/live/{live}/attendance/withdraw", {}, TEACHERS_REFUSED_INPUT),
    ("live.attendance", "POST"): ("/live/{live}/attendance", {}, TEACHERS_REFUSED_INPUT),
    # The audience (district A, its staff), the trainer and admins; district B staff 403.
    ("live.join", "GET"): ("/live/{live}", None, row(302, 200, 200, 200, 403, 200)),
    ("live.enter", "POST"): ("/live/{live}/join", {}, row(302, 302, 302, 302, 403, 302)),
    ("live.calendar", "GET"): ("/live/{live}.ics", None, row(302, 200, 200, 200, 403, 200)),
    # External completions: staff of {person}'s district and admins; {completion} is an
    # external completion of {person} with an evidence file.
    ("completions.person", "GET"): (
        "/people/{person}/completions",
        None,
        row(302, 403, 403, 200, 404, 200),
    ),
    ("completions.person", "POST"): (
        "/people/{person}/completions",
        {},
        row(302, 403, 403, 400, 404, 400),
    ),
    ("completions.revoke", "POST"): (
        "/completions/{completion}/revoke",
        {},
        row(302, 403, 403, 400, 404, 400),
    ),
    ("completions.evidence_file", "GET"): (
        "/completions/{completion}/evidence",
        None,
        row(302, 403, 403, 200, 404, 200),
    ),
    ("completions.import_file", "GET"): (
        "/completions/import",
        None,
        row(302, 403, 403, 200, 200, 200),
    ),
    ("completions.import_file", "POST"): (
        "/completions/import",
        {},
        row(302, 403, 403, 400, 400, 400),
    ),
    ("completions.apply_import", "POST"): (
        "/completions/import/apply",
        {},
        row(302, 403, 403, 400, 400, 400),
    ),
    # xAPI statements: staff (scoped) and admins; a JSON API answers 401, not a redirect.
    ("xapi.statements", "GET"): ("/api/v1/statements", None, row(401, 403, 403, 200, 200, 200)),
    # Coverage: staff see their own subtree (district B staff asking for A get 404), admins all.
    ("coverage.report", "GET"): (
        "/reports/coverage?org=A",
        None,
        row(302, 403, 403, 200, 404, 200),
    ),
    ("coverage.print_report", "GET"): (
        "/reports/coverage/print?org=A-1",
        None,
        row(302, 403, 403, 200, 404, 200),
    ),
    ("coverage.contacts", "GET"): (
        "/reports/coverage/contacts?org=A",
        None,
        row(302, 403, 403, 200, 404, 200),
    ),
    ("site.home", "GET"): ("/", None, SIGNED_IN),
    ("site.healthz", "GET"): ("/healthz", None, PUBLIC),
    ("site.privacy", "GET"): ("/privacy", None, PUBLIC),
    ("site.help_page", "GET"): ("/help", None, PUBLIC),
}


def test_every_route_has_a_decision(app) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = routes - set(MATRIX)
    assert not missing, (
        f"routes without an access decision in tests/test_access_matrix.py: {sorted(missing)}"
    )
    assert not set(MATRIX) - routes, "decisions for routes that no longer exist"


@pytest.fixture
def world(app):
    tree = make_tree()
    make_user("quantri", role=Role.ADMIN)
    make_user("canbo.a", role=Role.STAFF, org=tree["a"])
    make_user("canbo.b", role=Role.STAFF, org=tree["b"])
    trainer = make_user("giangvien", role=Role.TRAINER)
    person = make_user(phone="0912000001", org=tree["a_union"], position="chair")
    cert = _certificate_for(person)
    lesson = make_lesson(make_module(make_course("khoa"), "mo-dun"), "bai", body_md=LESSON_BODY)
    post = discussion.add_post(person, lesson, "Câu hỏi của tôi")
    quiz = _quiz_attempts_of(person)
    quiz |= _quiz_taught_by(trainer)
    live = _live_session_of(trainer)
    completion = _external_completion_of(person)
    db.session.commit()
    return {
        "person": person.id,
        "completion": completion,
        "cert": cert,
        "lesson": lesson.id,
        "post": post.id,
        "live": live,
    } | quiz


def _live_session_of(trainer) -> str:  # type: ignore[no-untyped-def]
    """A Jitsi session of the module "giangvien" teaches, for district A only."""
    from datetime import timedelta

    import sqlalchemy as sa

    from lms.catalog.models import Course, Module
    from lms.db import utcnow
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    module = db.session.scalars(
        sa.select(Module)
        .join(Course, Course.id == Module.course_id)
        .where(Course.slug == "khoa-giang-vien", Module.slug == "mo-dun-quiz")
    ).one()
    start = (utcnow() + timedelta(days=1)).astimezone(live.VN).replace(tzinfo=None)
    session = live.schedule(
        trainer,
        module,
        title="Buổi học trực tuyến",
        start_local=start.replace(second=0, microsecond=0),
        minutes=60,
        provider="jitsi",
        audience_codes=["A"],
        settings=LiveSettings(),
    )
    return session.public_id


def _quiz_attempts_of(person) -> dict:  # type: ignore[no-untyped-def]
    """A quiz with one submitted attempt of {person} and one in progress."""
    from lms.quizzes import services as quizzes

    module = make_module(make_course("khoa-bai-kiem-tra"), "co-bai-kiem-tra")
    make_quiz(module, "Câu hỏi? {=Đúng ~Sai}")
    ctx = quizzes.available_quiz(module.id)
    done, _ = quizzes.start_attempt(person, ctx)
    db.session.flush()
    quizzes.submit_attempt(quizzes.load_attempt(person, done.public_id), person, {}, 0)
    attempt, _ = quizzes.start_attempt(person, ctx)
    db.session.flush()
    return {"quiz_module": module.id, "attempt": attempt.public_id, "done": done.public_id}


def _quiz_taught_by(trainer) -> dict:  # type: ignore[no-untyped-def]
    """A course that {trainer} teaches, whose quiz has one saved revision."""
    from lms.authoring import history
    from lms.authoring import services as authoring
    from lms.authoring.models import RevisionKind
    from lms.catalog.models import CourseTrainer

    course = make_course("khoa-giang-vien")
    module = make_module(course, "mo-dun-quiz")
    make_quiz(module, "Câu hỏi? {=Đúng ~Sai}")
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    quiz = authoring.save_quiz(module, trainer, "Câu hỏi? {=Đúng ~Sai ~Chưa rõ}", 1)
    lesson = make_lesson(module, "bai-soan")
    authoring.save_lesson(
        lesson,
        trainer,
        title="Bài soạn",
        minutes=5,
        kind="reading",
        body="Nội dung mới.",
        version=lesson.version,
    )
    from lms.authoring import uploads

    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
    return {
        "quiz_revision": history.history(RevisionKind.QUIZ, quiz.id)[0].id,
        "lesson_revision": history.history(RevisionKind.LESSON, lesson.id)[0].id,
        "image": uploads.save_upload(course, trainer, png).name,
    }


def _external_completion_of(person) -> int:  # type: ignore[no-untyped-def]
    """A province-class completion of {person}, recorded by an admin with a PDF as evidence."""
    from lms.accounts.models import User
    from lms.db import vn_today
    from lms.progress import external

    admin = db.session.scalars(sa.select(User).where(User.username == "quantri")).one()
    module = make_module(make_course("khoa-lop-tinh"), "chuyen-de-lop")
    return external.record_external(
        admin, person, module, day=vn_today(), class_name="Lớp tỉnh", evidence=b"%PDF-1.4\n"
    ).id


def _certificate_for(person) -> str:  # type: ignore[no-untyped-def]
    from lms.progress.certificates import issue_certificates
    from lms.progress.models import Completion, CompletionSource

    module = make_module(make_course("khoa-chung-nhan", title="Khóa chứng nhận"), "chuyen-de")
    db.session.add(Completion(user_id=person.id, module_id=module.id, source=CompletionSource.LIVE))
    db.session.flush()
    return issue_certificates(person, module)[0].code


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[1]} {k[0]}")
def test_route_answers_each_role_as_decided(app, world, key) -> None:
    path_template, data, expected = MATRIX[key]
    path = path_template.format(**world)
    got = {}
    for role in ROLES:
        app.test_client_class = Client
        client = app.test_client()
        if role != "anonymous":
            assert client.login(USERS[role]).status_code == 302
        if key[1] == "GET":
            response = client.get(path)
            got[role] = response.status_code
            response.close()  # file responses (images, zips) hold an open file
        else:
            got[role] = client.post_form(path, data).status_code
    assert got == expected


@pytest.mark.parametrize("key", sorted(k for k in MATRIX if k[1] == "POST"), ids=lambda k: k[0])
def test_every_write_refuses_a_missing_csrf_token(app, world, key) -> None:
    path = MATRIX[key][0].format(**world)
    app.test_client_class = Client
    client = app.test_client()
    client.login("quantri")
    assert client.post_form(path, {"locale": "en"}, csrf=False).status_code == 400
    assert (
        client.post_form(path, {"locale": "en", "csrf_token": "forged"}, csrf=False).status_code
        == 400
    )
    assert (
        client.post_form(
            f"{path}?csrf_token={client.csrf_token()}", {"locale": "en"}, csrf=False
        ).status_code
        == 400
    )


@pytest.mark.parametrize("path", ["/logout", "/account/sessions/end-others", "/language"])
def test_actions_refuse_get(client, path: str) -> None:
    assert client.get(path).status_code == 405
