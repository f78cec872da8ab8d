"""Taking a quiz over HTTP: the learner's path, other people's attempts, CSRF, the key kept back."""

import re

import pytest
import sqlalchemy as sa

from lms.catalog.models import ModuleStatus
from lms.db import db
from lms.quizzes.models import Attempt, Response
from tests.quizzes.helpers import answer_form, latest_attempt, questions_of


def _start(client, world) -> tuple[str, Attempt]:  # type: ignore[no-untyped-def]
    response = client.post_form(f"/modules/{world.module.id}/quiz/start")
    assert response.status_code == 302
    public_id = response.headers["Location"].rsplit("/", 1)[1]
    return public_id, latest_attempt(world.learner.id)


def _responses(attempt: Attempt) -> int:
    stmt = sa.select(sa.func.count()).select_from(Response)
    return db.session.scalar(stmt.where(Response.attempt_id == attempt.id)) or 0


def test_a_learner_fails_then_passes_and_reads_the_feedback(client, quiz_world) -> None:
    client.login("hocvien.a")
    overview = f"/modules/{quiz_world.module.id}/quiz"
    assert client.get(overview).status_code == 200
    public_id, attempt = _start(client, quiz_world)
    assert client.get(f"/attempts/{public_id}").status_code == 200
    response = client.post_form(f"/attempts/{public_id}/submit", answer_form(attempt, False))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/attempts/{public_id}/review"
    page = client.get(f"/attempts/{public_id}/review").get_data(as_text=True)
    assert "Chưa đúng: đó là mức cũ." in page  # the chosen option's feedback
    assert "Mức mới áp dụng từ 01/7/2025." in page  # the general feedback
    assert "Đúng: Quyết định 61/QĐ-TLĐ." not in page  # not the feedback of other options
    assert client.get(f"/attempts/{public_id}").headers["Location"].endswith("/review")

    second_id, second = _start(client, quiz_world)
    assert second_id != public_id and second.attempt_no == 2
    client.post_form(f"/attempts/{second_id}/submit", answer_form(second, True))
    db.session.expire_all()
    assert (second.score, second.passed) == (100.0, True)
    page = client.get(f"/attempts/{second_id}/review").get_data(as_text=True)
    assert "Đúng: Quyết định 61/QĐ-TLĐ." in page and "100" in page
    listing = client.get(overview).get_data(as_text=True)
    assert f"/attempts/{public_id}/review" in listing and f"/attempts/{second_id}/review" in listing


def test_start_resumes_the_attempt_in_progress(client, quiz_world) -> None:
    client.login("hocvien.a")
    first, _ = _start(client, quiz_world)
    again, _ = _start(client, quiz_world)
    assert first == again
    page = client.get(f"/modules/{quiz_world.module.id}/quiz").get_data(as_text=True)
    assert f'href="/attempts/{first}"' in page


def test_a_third_start_is_refused_with_409(client, quiz_world) -> None:
    """QUIZ-05 over HTTP."""
    quiz_world.module.max_attempts = 1
    db.session.commit()
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    client.post_form(f"/attempts/{public_id}/submit", answer_form(attempt, False))
    assert client.post_form(f"/modules/{quiz_world.module.id}/quiz/start").status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


@pytest.mark.parametrize("suffix", ["", "/review"])
def test_another_learner_gets_404_that_looks_like_any_404(client, quiz_world, suffix) -> None:
    """AC-02: same status and the same size whether the attempt exists or not."""
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    client.post_form(f"/attempts/{public_id}/submit", answer_form(attempt, True))
    client.logout()
    client.login("hocvien.b")
    theirs = client.get(f"/attempts/{public_id}{suffix}")
    missing = client.get(f"/attempts/{'0' * 32}{suffix}")
    assert theirs.status_code == missing.status_code == 404
    assert len(theirs.get_data()) == len(missing.get_data())


def test_another_learner_cannot_save_or_submit(client, quiz_world) -> None:
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    form = answer_form(attempt, True)
    client.logout()
    client.login("hocvien.b")
    assert client.post_form(f"/attempts/{public_id}/save", form).status_code == 404
    assert client.post_form(f"/attempts/{public_id}/submit", form).status_code == 404
    db.session.expire_all()
    assert _responses(attempt) == 0 and not attempt.is_submitted


def test_anonymous_is_sent_to_sign_in_and_back_to_the_attempt(client, quiz_world) -> None:
    """SESS-06: after signing in again the learner lands on the attempt page, not a POST URL."""
    for path in (f"/modules/{quiz_world.module.id}/quiz", f"/attempts/{'0' * 32}"):
        assert client.get(path).headers["Location"].startswith("/login?next=")
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    client.post_form(f"/attempts/{public_id}/save", answer_form(attempt, True))
    client.logout()
    response = client.post_form(f"/attempts/{public_id}/submit", answer_form(attempt, False))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2Fattempts%2F{public_id}"
    signed_in = client.post_form(
        "/login",
        {
            "username": "hocvien.a",
            "password": "mat-khau-thu-nghiem",
            "next": f"/attempts/{public_id}",
        },
    )
    assert signed_in.headers["Location"] == f"/attempts/{public_id}"
    assert "checked" in client.get(f"/attempts/{public_id}").get_data(as_text=True)
    db.session.expire_all()
    assert not attempt.is_submitted


@pytest.mark.parametrize("action", ["save", "submit"])
def test_a_post_without_csrf_token_is_400_and_saves_nothing(client, quiz_world, action) -> None:
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    form = answer_form(attempt, True)
    assert client.post_form(f"/attempts/{public_id}/{action}", form, csrf=False).status_code == 400
    forged = form | {"csrf_token": "forged"}
    assert (
        client.post_form(f"/attempts/{public_id}/{action}", forged, csrf=False).status_code == 400
    )
    db.session.expire_all()
    assert _responses(attempt) == 0 and attempt.revision == 0 and not attempt.is_submitted


def test_autosave_over_fetch_answers_json(client, quiz_world) -> None:
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    headers = {"X-CSRFToken": client.csrf_token(), "Accept": "application/json"}
    url = f"/attempts/{public_id}/save"
    saved = client.post(url, data=answer_form(attempt, True), headers=headers)
    assert saved.status_code == 200 and saved.get_json() == {"saved": True, "revision": 1}
    stale = client.post(url, data=answer_form(attempt, False), headers=headers)  # revision 0
    assert stale.status_code == 409
    assert stale.get_json() == {"saved": False, "error": "stale", "revision": 1}
    no_token = client.post(
        url, data=answer_form(attempt, False), headers={"Accept": "application/json"}
    )
    assert no_token.status_code == 400
    client.logout()
    assert client.post(url, data={}, headers=headers).status_code in (400, 401)


def test_a_form_save_redirects_back_and_the_page_shows_the_answers(client, quiz_world) -> None:
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    response = client.post_form(f"/attempts/{public_id}/save", answer_form(attempt, True))
    assert response.headers["Location"] == f"/attempts/{public_id}"
    page = client.get(f"/attempts/{public_id}").get_data(as_text=True)
    assert 'name="revision" value="1"' in page
    assert 'value="Hà Nội"' in page and 'value="24"' in page


def test_a_stale_submit_shows_the_saved_state_with_409(client, quiz_world) -> None:
    """QUIZ-04: an older tab submits revision 0 after another tab saved revision 1."""
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    old_tab = answer_form(attempt, False)
    client.post_form(f"/attempts/{public_id}/save", answer_form(attempt, True))
    response = client.post_form(f"/attempts/{public_id}/submit", old_tab)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'name="revision" value="1"' in page and 'value="Hà Nội"' in page
    db.session.expire_all()
    assert not attempt.is_submitted


def test_a_second_submit_is_409_showing_the_saved_result(client, quiz_world) -> None:
    """QUIZ-03/QUIZ-04 (replay after grading): 409, and the first result is unchanged."""
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    form = answer_form(attempt, True)
    assert client.post_form(f"/attempts/{public_id}/submit", form).status_code == 302
    replay = client.post_form(f"/attempts/{public_id}/submit", answer_form(attempt, False))
    assert replay.status_code == 409
    assert "100" in replay.get_data(as_text=True)
    save = client.post_form(f"/attempts/{public_id}/save", answer_form(attempt, False))
    assert save.status_code == 409
    db.session.expire_all()
    assert attempt.score == 100.0 and attempt.passed


def test_unpublished_modules_have_no_quiz_pages(client, quiz_world) -> None:
    client.login("hocvien.a")
    public_id, _attempt = _start(client, quiz_world)
    quiz_world.module.status = ModuleStatus.RETIRED
    db.session.commit()
    assert client.get(f"/modules/{quiz_world.module.id}/quiz").status_code == 404
    assert client.post_form(f"/modules/{quiz_world.module.id}/quiz/start").status_code == 404
    assert client.get(f"/attempts/{public_id}").status_code == 404
    assert client.get("/modules/999999/quiz").status_code == 404


_OPTION = re.compile(r'<li><label class="quiz-option">.*?</label></li>', re.S)


def test_the_attempt_page_and_save_json_hold_no_key(client, quiz_world) -> None:
    """QUIZ-01: no fraction, feedback, correct flag; right and wrong options look the same."""
    client.login("hocvien.a")
    public_id, attempt = _start(client, quiz_world)
    page = client.get(f"/attempts/{public_id}").get_data(as_text=True)
    for question in questions_of(attempt):
        for item in question.data["answers"]:
            if item.get("feedback_html"):
                assert item["feedback_html"] not in page
        if question.general_feedback_html:
            assert question.general_feedback_html not in page
    for word in ("fraction", "feedback", "correct", "is_correct", "answer_key", "<!--"):
        assert word not in page.lower()
    assert "onclick" not in page and "<script>" not in page
    options = _OPTION.findall(page)
    shapes: dict[str, set[str]] = {}
    for li in options:
        name = re.search(r'name="([^"]+)"', li).group(1)
        shapes.setdefault(name, set()).add(re.sub(r'value="[^"]*"|<span>.*?</span>', "", li))
    assert len(options) >= 8 and all(len(shape) == 1 for shape in shapes.values())
    headers = {"X-CSRFToken": client.csrf_token(), "Accept": "application/json"}
    saved = client.post(f"/attempts/{public_id}/save", data=answer_form(attempt), headers=headers)
    assert set(saved.get_json()) == {"saved", "revision"}


def test_the_page_works_without_javascript(client, quiz_world) -> None:
    client.login("hocvien.a")
    public_id, _attempt = _start(client, quiz_world)
    page = client.get(f"/attempts/{public_id}").get_data(as_text=True)
    assert f'action="/attempts/{public_id}/save"' in page
    assert f'formaction="/attempts/{public_id}/submit"' in page
    assert '<script src="/static/quiz.js" defer></script>' in page
