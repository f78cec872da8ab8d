"""Real-browser tests: the app served over HTTP on 127.0.0.1 by a real WSGI server, driven by
Debian's Chromium through Playwright at phone size.

One live server for the whole folder: a fresh database of the backend under test (a temporary
SQLite file, or a temporary PostgreSQL database created next to LMS_TEST_DATABASE_URL and
dropped at the end), migrated, with the shipped courses and the demo federation loaded. Each
test gets its own browser context and page; the page fails the test if a dialog opens (XSS-05),
if the console reports an error (CSP violations included) or if the server answered 5xx.

Screenshots go to test-artifacts/screenshots/<backend>/<test>/ (git-ignored; CI keeps them).
"""

import contextlib
import itertools
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lms import create_app
from lms.db import db
from lms.demo import DEMO_PASSWORD
from tests.conftest import BACKEND, base_config, fresh_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# The flags verified in shared/TOOLS.md.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots" / BACKEND
# A cheap Android phone.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
}
DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "vi-VN",
    "timezone_id": "Asia/Ho_Chi_Minh",
}
TIMEOUT_MS = 10_000




def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Chromium drops a static file's request when it moves on to the next page; the development
    server then leaves that file for the garbage collector, which reports it in whichever test
    runs at that moment. That is the test server's doing, not the app's: ignored here only."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(
                pytest.mark.filterwarnings(
                    r"ignore:Exception ignored in.*/static/:pytest.PytestUnraisableExceptionWarning"
                )
            )


# -- the live server ---------------------------------------------------------------------------


class RequestLog:
    """WSGI middleware that records (method, path, status) of every request the server answers,
    and can hold chosen requests back, as a slow mobile connection would."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.entries: list[tuple[str, str, int]] = []
        self.in_flight = 0
        self._delays: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        before, after = self._delays.get((method, path), (0.0, 0.0))
        with self._lock:
            self.in_flight += 1
        try:
            time.sleep(before)  # the request is slow to arrive

            def recording_start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
                with self._lock:
                    self.entries.append((method, path, int(status.split()[0])))
                return start_response(status, headers, exc_info)

            body = self.app(environ, recording_start_response)
            time.sleep(after)  # the answer is ready, and slow to come back
            return body
        finally:
            with self._lock:
                self.in_flight -= 1

    @contextlib.contextmanager
    def slowed(
        self, method: str, path: str, before: float = 0.0, after: float = 0.0
    ) -> Iterator[None]:
        """Inside the block, `method path` reaches the app `before` seconds late, and its
        answer leaves `after` seconds after the app has written it."""
        self._delays[(method, path)] = (before, after)
        try:
            yield
        finally:
            self._delays.pop((method, path), None)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the server is answering no request."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self.in_flight, f"{self.in_flight} request(s) still running"

    def mark(self) -> int:
        with self._lock:
            return len(self.entries)

    def since(self, mark: int) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self.entries[mark:])


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: RequestLog keeps what the tests need."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class LiveServer:
    url: str
    app: Flask
    requests: RequestLog
    _phones: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_learner(self, full_name: str = "Trần Thị Thu Trang") -> "Learner":
        """A fresh learner (a union officer, not a chair) who signs in with the demo password."""
        from lms.orgs import services as orgs

        phone = f"0988{next(self._phones):06d}"
        with self.app.app_context():
            user = orgs.create_person(
                actor=None,
                full_name=full_name,
                role="learner",
                phone=phone,
                org_code="DMC-GOMP",
                position="core_member",
                password=DEMO_PASSWORD,
            )
            db.session.commit()
            return Learner(user.id, phone)


@dataclass(frozen=True)
class Learner:
    id: int
    username: str


@pytest.fixture(scope="package")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser suite: {CHROMIUM} is not installed "
            "(Debian: apt-get install chromium fonts-noto-core; never `playwright install`)"
        )
    return str(CHROMIUM)


@pytest.fixture(scope="package")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A brand-new database of the backend under test, dropped at the end of the run."""
    with fresh_database(tmp_path_factory.mktemp("browser"), "lms_browser") as url:
        yield url


@pytest.fixture(scope="package")
def live_server(chromium_executable: str, live_database_url: str) -> Iterator[LiveServer]:
    """The app, migrated and loaded with the courses and the demo, on a free port of 127.0.0.1."""
    config = base_config(live_database_url) | {
        "TESTING": False,  # errors go through the app's own handlers, as in production
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SECURE_COOKIES": False,  # plain http on 127.0.0.1
    }
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
    runner = app.test_cli_runner()
    for args in (["import-courses", str(ROOT / "courses")], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, f"lms {' '.join(args)} failed:\n{result.output}"

    requests = RequestLog(app)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, requests, threaded=True, request_handler=QuietRequestHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url, app, requests)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright_instance(chromium_executable: str) -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright, chromium_executable: str) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_executable, args=LAUNCH_ARGS, timeout=30_000
    )
    yield browser
    browser.close()


@pytest.fixture(scope="package", autouse=True)
def _fresh_screenshot_folder() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)


class PageGuard:
    """What must not happen on a page: a dialog (an injected script ran, XSS-05), an error in
    the console (CSP violations, script errors, failed loads), a 5xx from the server."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(f"{dialog.type}: {dialog.message!r} on {dialog.page.url}")
        dialog.dismiss()

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"{message.text} ({where})")

    def allow(self, pattern: str) -> None:
        """Accept console errors matching this pattern (e.g. failed fetches while offline)."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        errors = [e for e in self.errors if not any(p.search(e) for p in self.allowed)]
        return [f"dialog opened: {d}" for d in self.dialogs] + [
            f"console error: {e}" for e in errors
        ]


class Shots:
    """Full-page screenshots, numbered in the order taken, one folder per test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True, scale="css")
        return path


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    return Shots(SCREENSHOTS / name)


def _open_context(browser: Browser, live_server: LiveServer, device: dict) -> BrowserContext:
    context = browser.new_context(**device, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _guarded_page(context: BrowserContext, live_server: LiveServer) -> Iterator[Page]:
    page = context.new_page()
    guard = PageGuard(page)
    page.guard = guard  # type: ignore[attr-defined]
    mark = live_server.requests.mark()
    yield page
    failures = guard.problems() + [
        f"server error {status} on {method} {path}"
        for method, path, status in live_server.requests.since(mark)
        if status >= 500
    ]
    assert not failures, "\n".join(failures)


@pytest.fixture
def phone_context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = _open_context(browser, live_server, PHONE)
    yield context
    context.close()


@pytest.fixture
def page(phone_context: BrowserContext, live_server: LiveServer) -> Iterator[Page]:
    """A page on a 360×740 touch phone, guarded against dialogs, console errors and 5xx."""
    yield from _guarded_page(phone_context, live_server)


@pytest.fixture
def desktop_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page on a 1280×800 desktop, with the same guards."""
    context = _open_context(browser, live_server, DESKTOP)
    try:
        yield from _guarded_page(context, live_server)
    finally:
        context.close()


@pytest.fixture
def learner(live_server: LiveServer) -> Learner:
    return live_server.new_learner()


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would, and land on the home page."""
    page.goto("/login")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/$"))


# -- quiz helpers ------------------------------------------------------------------------------


def attempt_public_id(page: Page) -> str:
    match = re.search(r"/attempts/([0-9a-f]{32})", page.url)
    assert match, f"not on an attempt page: {page.url}"
    return match.group(1)


def quiz_answers(live_server: LiveServer, public_id: str, right: bool) -> dict[str, list[str]]:
    """Form fields answering every question of the attempt right or wrong, worked out from
    the answer key in the database (never from the page, which must not carry it)."""
    from lms.quizzes.models import Attempt
    from tests.quizzes.helpers import answer_form

    with live_server.app.app_context():
        attempt = db.session.scalars(sa.select(Attempt).where(Attempt.public_id == public_id)).one()
        data = answer_form(attempt, right=right)
    return {
        name: [str(v) for v in (value if isinstance(value, list) else [value])]
        for name, value in data.items()
        if name not in ("q", "revision")
    }


def answer_quiz(page: Page, answers: dict[str, list[str]]) -> None:
    """Answer on the attempt page as a person would: tap options, pick from lists, type."""
    form = page.locator("#quiz-form")
    for name, values in answers.items():
        fields = form.locator(f'[name="{name}"]')
        first = fields.first
        tag = first.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if tag.startswith("select"):
            first.select_option(values[0])
        elif tag in ("input:radio", "input:checkbox"):
            for value in values:
                form.locator(f'[name="{name}"][value="{value}"]').tap()
        else:
            first.fill(values[0])
