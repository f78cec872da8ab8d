"""The quiz in a phone's browser: answers survive a lost connection (QUIZ-09), and nothing the
browser receives during an attempt gives the answer key away (QUIZ-01)."""

import html
import json
import re
from itertools import groupby

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Response, expect

from lms.db import db
from tests.browser.conftest import (
    PHONE,
    Learner,
    LiveServer,
    Shots,
    answer_quiz,
    attempt_public_id,
    quiz_answers,
    sign_in,
)

MODULE_URL = "/learn/chu-de-2021/dinh-huong"
OFFLINE = "Mất kết nối: câu trả lời được giữ trên điện thoại và sẽ được lưu khi có mạng trở lại."
SAVED = "Đã lưu câu trả lời."
RESTORED = "Các câu trả lời anh/chị làm khi mất kết nối đã được khôi phục."


def _open_quiz(page: Page, learner: Learner) -> None:
    sign_in(page, learner.username)
    page.goto(MODULE_URL)
    page.get_by_role("link", name="Bài kiểm tra chuyên đề").tap()
    expect(page.get_by_role("button", name="Bắt đầu làm bài")).to_be_visible()


def _start_quiz(page: Page) -> str:
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    page.wait_for_url(re.compile(r"/attempts/[0-9a-f]{32}$"))
    return attempt_public_id(page)


def _by_question(answers: dict[str, list[str]]) -> list[dict[str, list[str]]]:
    """The answer fields grouped per question (a matching question has one field per stem)."""

    def question(name: str) -> str:
        return re.match(r"a(\d+)", name).group(1)  # type: ignore[union-attr]

    return [dict(group) for _, group in groupby(answers.items(), key=lambda kv: question(kv[0]))]


def _shown(page: Page, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """What the attempt page shows for these fields, in the same shape."""
    return page.evaluate(
        """(names) => Object.fromEntries(names.map((name) => {
             const els = [...document.querySelectorAll(`#quiz-form [name="${name}"]`)];
             const values = els.filter((el) => !['radio', 'checkbox'].includes(el.type)
                                               || el.checked).map((el) => el.value);
             return [name, values];
           }))""",
        list(fields),
    )


def _draft(page: Page, public_id: str) -> dict | None:
    return page.evaluate(f"JSON.parse(localStorage.getItem('lms-quiz-draft:{public_id}'))")


def _three_answers_offline(
    page: Page, browser: Browser, live_server: LiveServer, learner: Learner, shoot: Shots
) -> tuple[str, dict[str, list[str]]]:
    """Start the quiz, lose the connection, answer three questions: they stay on the phone."""
    _open_quiz(page, learner)
    public_id = _start_quiz(page)
    three = _by_question(quiz_answers(live_server, public_id, right=True))[:3]
    answered = {name: values for fields in three for name, values in fields.items()}

    page.guard.allow(r"ERR_INTERNET_DISCONNECTED")  # type: ignore[attr-defined]
    page.context.set_offline(True)
    answer_quiz(page, answered)
    expect(page.locator("#quiz-status")).to_have_text(OFFLINE)
    draft = _draft(page, public_id)
    assert draft is not None
    assert {name: draft["answers"][name] for name in answered} == answered
    assert _saved(browser, live_server, learner, public_id, answered) == {}
    shoot(page, "offline")
    return public_id, answered


def _saved(
    browser: Browser,
    live_server: LiveServer,
    learner: Learner,
    public_id: str,
    fields: dict[str, list[str]],
) -> dict[str, list[str]]:
    """The answers the server holds for these fields: the attempt page as another phone (with
    no draft of its own) sees it."""
    context = browser.new_context(**PHONE, base_url=live_server.url)
    try:
        other = context.new_page()
        sign_in(other, learner.username)
        other.goto(f"/attempts/{public_id}")
        return {name: values for name, values in _shown(other, fields).items() if values}
    finally:
        context.close()


def _submit_once(page: Page, live_server: LiveServer, public_id: str) -> None:
    mark = live_server.requests.mark()
    page.get_by_role("button", name="Nộp bài").tap()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.locator(".quiz-result")).to_be_visible()
    expect(page.locator(".quiz-review-right")).to_have_count(3)
    submits = [e for e in live_server.requests.since(mark) if e[1].endswith("/submit")]
    assert submits == [("POST", f"/attempts/{public_id}/submit", 302)]


def test_answers_given_offline_are_restored_saved_and_submitted_once(
    page: Page, browser: Browser, live_server: LiveServer, learner: Learner, shoot: Shots
) -> None:
    """QUIZ-09: offline mid-quiz, three answers, back online, reload: the page puts the local
    draft back, saves it, and the attempt is submitted exactly once."""
    public_id, answered = _three_answers_offline(page, browser, live_server, learner, shoot)

    # Back online; the autosave the reconnection starts is slow to get through, so the
    # reloaded page is served first and finds the draft on the phone.
    with live_server.requests.slowed("POST", f"/attempts/{public_id}/save", before=3.0):
        page.context.set_offline(False)
        page.reload()
        expect(page.locator("#quiz-status")).to_have_text(RESTORED)
    assert _shown(page, answered) == answered
    shoot(page, "restored")
    # The draft stays on the phone, now marked as saved by the server (see static/quiz.js).
    page.wait_for_function(
        f"() => (JSON.parse(localStorage.getItem('lms-quiz-draft:{public_id}')) || {{}}).saved",
        timeout=10_000,
    )
    expect(page.locator("#quiz-status")).to_have_text(SAVED)
    live_server.requests.wait_idle()
    assert _saved(browser, live_server, learner, public_id, answered) == answered

    _submit_once(page, live_server, public_id)
    shoot(page, "review")


def test_a_reload_overtaken_by_the_reconnect_autosave_still_shows_the_answers(
    page: Page, browser: Browser, live_server: LiveServer, learner: Learner, shoot: Shots
) -> None:
    """QUIZ-09, the other order: the reload reads the attempt, then the reconnect autosave
    saves the draft and its small answer reaches the old page before the reloaded page (a
    whole HTML page on a slow line) arrives. The answers must still be on the page."""
    public_id, answered = _three_answers_offline(page, browser, live_server, learner, shoot)

    with (
        live_server.requests.slowed("POST", f"/attempts/{public_id}/save", before=0.5),
        live_server.requests.slowed("GET", f"/attempts/{public_id}", after=2.0),
    ):
        page.context.set_offline(False)
        page.reload()
    live_server.requests.wait_idle()
    shoot(page, "reloaded")
    saved = _saved(browser, live_server, learner, public_id, answered)
    assert saved == answered, "the server has the answers"
    assert _shown(page, answered) == answered, "the reloaded page shows the answers"

    _submit_once(page, live_server, public_id)


# -- QUIZ-01 -----------------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")
_KEY_WORDS = re.compile(r"fraction|is_correct|\bcorrect\b", re.IGNORECASE)


def _plain(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def _feedback_texts(live_server: LiveServer, public_id: str) -> list[str]:
    """Every feedback text of the attempt's questions, as plain text."""
    from lms.quizzes.models import Attempt
    from tests.quizzes.helpers import questions_of

    with live_server.app.app_context():
        attempt = db.session.scalars(sa.select(Attempt).where(Attempt.public_id == public_id)).one()
        texts = []
        for q in questions_of(attempt):
            texts.append(q.general_feedback_html or "")
            texts += [a.get("feedback_html") or "" for a in q.data["answers"]]
    return [t for t in (_plain(t) for t in texts) if len(t) >= 12]


class Bodies:
    """The body of every response the page receives, read before the page moves on."""

    def __init__(self, page: Page) -> None:
        self.pending: list[Response] = []
        self.read: dict[str, str] = {}
        page.on("response", lambda response: self.pending.append(response))

    def drain(self) -> None:
        for response in self.pending:
            if response.status in (204, 301, 302, 303, 304) or "favicon" in response.url:
                continue  # no body (the browser fetches the icon for itself, outside the page)
            body = response.text()
            if "json" in (response.headers.get("content-type") or ""):
                body = json.dumps(json.loads(body), ensure_ascii=False)
            self.read[f"{response.request.method} {response.url}"] = body
        self.pending.clear()


def _leaks(text: str, feedback: list[str]) -> list[str]:
    plain = _plain(text)
    found = [f"key word {m.group(0)!r}" for m in _KEY_WORDS.finditer(text)]
    return found + [f"feedback {f[:60]!r}…" for f in feedback if f in plain]


def test_an_attempt_in_progress_gives_no_answer_key_away(
    page: Page, live_server: LiveServer, learner: Learner, shoot: Shots
) -> None:
    """QUIZ-01: the HTML, scripts, styles and autosave JSON the browser gets while an attempt
    runs, and the live DOM, carry no fraction, no feedback and no correctness; the options of
    a right and a wrong answer look the same."""
    _open_quiz(page, learner)
    bodies = Bodies(page)
    public_id = _start_quiz(page)
    feedback = _feedback_texts(live_server, public_id)
    assert len(feedback) > 20  # the shipped quiz explains every answer

    # Right and wrong options are marked up alike: same attributes, classes, no data-*.
    options = page.evaluate(
        """() => [...document.querySelectorAll('#quiz-form .quiz-option')].map((label) => {
             const input = label.querySelector('input');
             return [label.className, input.getAttributeNames().sort().join(' '),
                     label.parentElement.className];
           })"""
    )
    assert options and {tuple(o) for o in options} <= {
        ("quiz-option", "name type value", ""),
    }, sorted({tuple(o) for o in options})
    comments = page.evaluate(
        """() => { const walk = document.createTreeWalker(document, NodeFilter.SHOW_COMMENT);
                   const out = []; while (walk.nextNode()) out.push(walk.currentNode.data);
                   return out; }"""
    )
    assert comments == []
    assert not page.locator("#quiz-form [data-answer], #quiz-form [data-correct]").count()

    # Answer half right, half wrong: the autosave answers in JSON.
    right = _by_question(quiz_answers(live_server, public_id, right=True))
    wrong = _by_question(quiz_answers(live_server, public_id, right=False))
    mixed = {
        k: v for i, fields in enumerate(right) for k, v in (fields if i % 2 else wrong[i]).items()
    }
    with page.expect_response(lambda r: r.url.endswith(f"/attempts/{public_id}/save")) as saved:
        answer_quiz(page, mixed)
    assert saved.value.headers["content-type"].startswith("application/json")
    expect(page.locator("#quiz-status")).to_have_text(SAVED)
    shoot(page, "answered")
    bodies.drain()
    dom = page.content()

    # "Save answers" without JavaScript's help: a plain post, then the attempt page again.
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu câu trả lời").tap()
    expect(page.locator(".flash")).to_have_text(SAVED)
    bodies.drain()
    dom += page.content()

    seen = {**bodies.read, "DOM": dom}
    kinds = " ".join(seen)
    assert f"GET {live_server.url}/attempts/{public_id}" in kinds
    assert f"POST {live_server.url}/attempts/{public_id}/save" in kinds
    assert "/static/quiz.js" in kinds
    leaks = {where: found for where, text in seen.items() if (found := _leaks(text, feedback))}
    assert leaks == {}

    # The oracle is not blind: once submitted, the review shows the feedback.
    page.get_by_role("button", name="Nộp bài").tap()
    page.wait_for_url(re.compile(r"/review$"))
    assert _leaks(page.content(), feedback)
