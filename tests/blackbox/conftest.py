"""The black-box suite: the app as it is deployed (gunicorn, two workers) on 127.0.0.1 with a
fresh database of the backend under test, set up only with the `lms` command line (init-db,
import-courses, demo), and spoken to only over HTTP, as an outsider would."""

import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKEND, REQUIRE_ALL, fresh_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "hoc-tap-2021"  # noqa: S105 - the demo's published password
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _lms(env: dict, *args: str) -> None:
    done = subprocess.run(
        [str(BIN / "lms"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"lms {' '.join(args)}: {done.stderr}"


@dataclass(frozen=True)
class Server:
    url: str
    database_url: str
    env: dict
    log: Path  # what gunicorn and the app wrote: access lines, audit events, errors


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn serving a database set up with `lms init-db`, `import-courses` and `demo`."""
    if shutil.which("gunicorn", path=str(BIN)) is None:
        message = "black-box suite: gunicorn is not installed (pip install -e '.[test]')"
        pytest.fail(message) if REQUIRE_ALL else pytest.skip(message)
    folder = tmp_path_factory.mktemp("blackbox")
    with fresh_database(folder, "lms_blackbox") as url:
        env = {**os.environ, "LMS_DATABASE_URL": url, "LMS_SECURE_COOKIES": "false",
               "LMS_SECRET_KEY": secrets.token_urlsafe(32),
               "LMS_ROSTER_UPLOAD_FOLDER": str(folder / "roster-uploads")}  # fmt: skip
        for args in (["init-db"], ["import-courses", "courses"], ["demo"]):
            _lms(env, *args)
        port = _free_port()
        env["LMS_BASE_URL"] = f"http://127.0.0.1:{port}"
        log = folder / "server.log"
        with open(log, "w", encoding="utf-8") as output:
            process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
                [str(BIN / "gunicorn"), "--workers", "2", "--threads", "8", "--bind",
                 f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app"],  # fmt: skip
                env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            _wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            yield Server(f"http://127.0.0.1:{port}", url, env, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log.read_text(encoding='utf-8')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not become healthy within 30 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Visitor:
    """One person's browser, reduced to what matters: cookies, forms with their CSRF token, and
    redirects that are reported rather than followed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict | None = None) -> Answer:  # fmt: skip
        url = path if path.startswith("http") else self.server.url + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Answer(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def token(self) -> str:
        match = CSRF.search(self.get("/help").text)
        assert match, "no CSRF token on the help page"
        return match.group(1)

    def post(self, path: str, fields: dict | list, *, token: str | None = None) -> Answer:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        pairs.append(("csrf_token", token or self.token()))
        body = urllib.parse.urlencode(pairs, doseq=True).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> "Visitor":
        answer = self.post("/login", {"username": username, "password": password})
        assert answer.status == 302, f"sign-in of {username}: {answer.status}"
        return self

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@pytest.fixture
def visitor(server: Server) -> Visitor:
    return Visitor(server)


@pytest.fixture(scope="package")
def backend_name() -> str:
    return "PostgreSQL" if BACKEND == "postgresql" else "SQLite"
