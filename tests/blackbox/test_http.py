"""The deployed app seen from outside: each role's main pages with their security headers
(HDR-01), the 10-way submit race over real HTTP (QUIZ-03), a copied cookie replayed after
logout (SESS-03), probes for what must not be served (AC-10, HDR-02), exports inspected as
files (EXP-07 and the course zip), and the server's own log read for secrets (LOG-02)."""

import io
import re
import subprocess
import threading
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.blackbox.conftest import DEMO_PASSWORD, Answer, Server, Visitor
from tests.blackbox.exports import EXPORTS, inspect_export

MAIN_PAGES = {
    None: ["/login", "/help", "/privacy"],
    "0901000001": ["/", "/learn/chu-de-2021", "/learn/chu-de-2021/dinh-huong",
                   "/learn/chu-de-2021/dinh-huong/cong-doan-la-gi", "/notebook", "/live/",
                   "/account"],
    "giangvien": ["/", "/teach/", "/teach/chu-de-2021", "/teach/chu-de-2021/dinh-huong",
                  "/teach/chu-de-2021/dinh-huong/cong-doan-la-gi",
                  "/teach/chu-de-2021/dinh-huong/quiz", "/live/"],
    "canbo.dmc": ["/", "/orgs/DMC", "/people/", "/live/", "/reports/coverage",
                  "/reports/coverage/print", "/roster/", "/completions/import"],
    "admin": ["/", "/orgs/", "/people/", "/people/new", "/orgs/new", "/teach/"],
}  # fmt: skip
CSP = ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")


def assert_headers(answer: Answer, where: str) -> None:
    headers = {k.lower(): v for k, v in answer.headers.items()}
    for part in CSP:
        assert part in headers.get("content-security-policy", ""), (where, part)
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert headers.get("cache-control") == "no-store", where
    assert headers.get("server", "") in ("", "gunicorn"), (where, headers.get("server"))
    assert "access-control-allow-origin" not in headers, where


@pytest.mark.parametrize("who", list(MAIN_PAGES), ids=lambda w: w or "anonymous")
def test_main_pages_answer_with_the_security_headers(server: Server, who: str | None) -> None:
    visitor = Visitor(server)
    if who:
        visitor.sign_in(who)
    for path in MAIN_PAGES[who]:
        answer = visitor.get(path)
        assert answer.status == 200, (who, path, answer.status)
        assert_headers(answer, f"{who} {path}")
        assert 'href="http' not in answer.text.replace(server.url, "")  # nothing external


def test_ten_submits_of_one_attempt_are_graded_once(server: Server) -> None:
    learner = Visitor(server).sign_in("0901000009")
    module = re.search(
        r'href="/modules/(\d+)/quiz"', learner.get("/learn/chu-de-2021/dinh-huong").text
    )
    assert module, "no quiz link on the module page"
    started = learner.post(f"/modules/{module.group(1)}/quiz/start", {})
    attempt = started.headers["Location"]
    page = learner.get(attempt).text
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    token, barrier = learner.token(), threading.Barrier(10)

    def submit(_: int) -> int:
        barrier.wait()
        return learner.post(f"{attempt}/submit", {"revision": revision}, token=token).status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = Counter(pool.map(submit, range(10)))
    assert statuses == Counter({302: 1, 409: 9}), statuses
    review = learner.get(f"{attempt}/review")
    assert review.status == 200 and "quiz-result" in review.text


def test_sign_in_throttling_holds_across_workers(server: Server) -> None:
    """AUTH-02: failures are counted in the database, so two gunicorn workers share the count:
    the 6th wrong password for one name gets 429 with Retry-After, in Vietnamese."""
    statuses, last = [], None
    for _ in range(6):
        visitor = Visitor(server)  # a new connection each time: either worker may answer
        last = visitor.post("/login", {"username": "ai.do.la", "password": "doan-sai-mat-khau"})
        statuses.append(last.status)
    assert statuses == [401] * 5 + [429], statuses
    assert last is not None and int(last.headers["Retry-After"]) > 0
    assert "Vui lòng chờ" in last.text


def test_a_cookie_copied_before_logout_is_refused_after(server: Server) -> None:
    person = Visitor(server).sign_in("canbo.tinh")
    stolen = person.cookie()
    assert person.get("/people/").status == 200
    assert person.post("/logout", {}).status == 302
    thief = Visitor(server)
    replay = thief.request("GET", "/people/", headers={"Cookie": stolen})
    assert replay.status == 302 and "/login" in replay.headers["Location"]
    assert thief.request("GET", "/", headers={"Cookie": stolen}).status == 302


@pytest.mark.parametrize(
    "path", ["/.git/HEAD", "/static/", "/console", "/uploads/../wsgi.py", "/static/../wsgi.py",
             "/static/%2e%2e/wsgi.py", "/khong-co-trang-nay"],
)  # fmt: skip
def test_nothing_else_is_served(server: Server, path: str) -> None:
    answer = Visitor(server).get(path)
    assert answer.status == 404, (path, answer.status)
    assert "Traceback" not in answer.text and "import" not in answer.text


def test_trace_is_refused(server: Server) -> None:
    assert Visitor(server).request("TRACE", "/").status == 405


def test_the_certificate_pdf_embeds_its_fonts(server: Server, tmp_path) -> None:
    """EXP-07: a trainer schedules a session covering a module, the chairperson joins it, the
    trainer confirms her attendance; her certificate PDF embeds every font (pdffonts) and
    reads back (pdftotext)."""
    trainer = Visitor(server).sign_in("giangvien")
    day = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    scheduled = trainer.post(
        "/teach/chu-de-2021/tien-luong/live",
        {
            "title": "Thương lượng tiền lương",
            "date": day,
            "time": "19:30",
            "minutes": "90",
            "provider": "jitsi",
            "audience": "DMC",
            "covers_module": "y",
            "notes": "",
        },  # fmt: skip
    )
    assert scheduled.status == 302, scheduled.text[-2000:]
    listing = trainer.get("/teach/chu-de-2021/tien-luong/live").text
    session = re.findall(r'href="/live/([0-9a-f]{32})/attendance"', listing)[-1]
    learner = Visitor(server).sign_in("0901000001")
    assert learner.post(f"/live/{session}/join", {}).status == 302  # to the meeting
    attendance = trainer.get(f"/live/{session}/attendance").text
    person = re.search(
        r'value="(\d+)"[^>]*></td>\s*<td><label[^>]*>Nguyễn Thị Hồng Nhung', attendance
    )
    assert person, "the chairperson who joined is not on the attendance list"
    confirmed = trainer.post(
        f"/live/{session}/attendance", {"user_id": person.group(1), "via": "list"}
    )
    assert confirmed.status == 302
    code = re.search(r'href="/certificates/([A-Z2-9]{10})"', learner.get("/").text)
    assert code, "no certificate on the learner's home page"
    pdf = learner.get(f"/certificates/{code.group(1)}.pdf")
    assert pdf.status == 200 and pdf.body[:5] == b"%PDF-"
    inspect_export("certificate.pdf", pdf, tmp_path)
    words = subprocess.run(
        ["pdftotext", str(tmp_path / "certificate.pdf"), "-"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert "Nguyễn Thị Hồng Nhung" in words


def test_the_course_export_is_a_clean_zip(server: Server, tmp_path) -> None:
    answer = Visitor(server).sign_in("giangvien").get("/teach/chu-de-2021/export.zip")
    assert answer.status == 200
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    names = zipfile.ZipFile(io.BytesIO(answer.body)).namelist()
    assert "chu-de-2021/course.toml" in names and any(n.endswith("quiz.gift") for n in names)
    assert not [n for n in names if n.startswith("/") or ".." in n.split("/")]
    inspect_export("course.zip", answer, tmp_path)


@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: e.name)
def test_every_registered_export(server: Server, tmp_path, export) -> None:
    """The exports registered in tests/blackbox/exports.py, each fetched as its role."""
    answer = Visitor(server).sign_in(export.who).get(export.path)
    assert answer.status == 200, (export.path, answer.status)
    inspect_export(export.name, answer, tmp_path)


def test_the_server_log_holds_no_secret(server: Server) -> None:
    """LOG-02, SESS-07: the demo password, session cookies and CSRF tokens never reach the log
    (the access log's URLs included), over everything this file did before it."""
    visitor = Visitor(server).sign_in("canbo.godau")
    secrets = [DEMO_PASSWORD, visitor.cookie().split("=", 1)[1], visitor.token()]
    visitor.post("/logout", {})
    text = server.log.read_text(encoding="utf-8")
    assert "event=login.ok" in text and '"GET /help' in text  # the log was really written
    assert not [s for s in secrets if s in text]
    assert not re.search(r"csrf_token=|eyJ[\w-]{10,}\.", text)
    assert "Traceback" not in text, text[text.index("Traceback") - 500 :][:3000]


def test_pdffonts_is_installed() -> None:
    """The export inspection needs poppler-utils (installed by .ci/run)."""
    assert subprocess.run(["pdffonts", "-v"], capture_output=True, check=False).returncode == 0
