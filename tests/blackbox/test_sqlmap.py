"""INJ-01 from outside: sqlmap (level 1, risk 1; boolean, error and UNION techniques) against the
main GET parameters and forms of each role's pages. sqlmap exits 0 whatever it finds, so its
report is read: nothing may be injectable, and no request may have made the server fail."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.blackbox.conftest import Server, Visitor

SQLMAP = Path(sys.executable).parent / "sqlmap"
# (who, method, path, parameters to test, form fields for a POST)
TARGETS = [
    ("anonymous", "GET", "/login?next=/help", ["next"], None),
    ("anonymous", "POST", "/login", ["username"], {"username": "an", "password": "mat-khau-sai"}),
    ("canbo.dmc", "GET", "/people/?q=Nguyen&status=activated&page=1", ["q", "status", "page"],
     None),
    # The coverage report's parameters, read by the same code for the page and the exports;
    # the JSON form answers fastest.
    ("canbo.dmc", "GET", "/reports/coverage?format=json&course=chu-de-2021&org=DMC"
     "&as_of=2025-06-30&sector=non_state&responsible=province&status=done&q=Nguyen&sort=name",
     ["course", "org", "as_of", "sector", "responsible", "status", "q", "sort"], None),
    ("canbo.dmc", "GET", "/api/v1/statements?limit=5&since=2021-01-01T00:00:00Z"
     "&until=2030-01-01T00:00:00Z&ascending=true", ["limit", "since", "until", "ascending"],
     None),
    ("admin", "GET", "/people/new?org=DMC", ["org"], None),
    ("admin", "GET", "/orgs/new?parent=DMC", ["parent"], None),
    ("giangvien", "GET", "/teach/chu-de-2021/dinh-huong/quiz/question?n=1", ["n"], None),
    ("giangvien", "GET", "/teach/chu-de-2021/dinh-huong/quiz/stats?version=1", ["version"], None),
    ("0901000001", "POST", "/lessons/{lesson}/posts", ["body", "parent_id"],
     {"body": "Xin chào", "parent_id": "1"}),
]  # fmt: skip


def _first_lesson_id(server: Server) -> int:
    page = (
        Visitor(server).sign_in("0901000001").get("/learn/chu-de-2021/dinh-huong/cong-doan-la-gi")
    )
    match = re.search(r'action="/lessons/(\d+)/posts"', page.text)
    assert match, "no discussion form on the first lesson"
    return int(match.group(1))


def run_sqlmap(url: str, parameters: list[str], dbms: str, folder: Path, extra: list[str]) -> str:
    """sqlmap's report (its exit code is 0 whatever it finds)."""
    if not SQLMAP.exists():
        pytest.fail("sqlmap is not installed (pip install -e '.[test]')")
    threads = "1" if "--csrf-token" in extra else "2"  # sqlmap refuses threads with CSRF tokens
    command = [
        str(SQLMAP), "-u", url, "-p", ",".join(parameters), "--batch", "--level", "1",
        "--risk", "1", "--technique", "BEU", "--dbms", dbms, "--threads", threads,
        "--timeout", "10", "--retries", "1", "--disable-coloring", "--output-dir", str(folder),
        "--skip-waf", "--flush-session", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t[0]} {t[1]} {t[2].split('?')[0]}")
def test_nothing_is_injectable(server: Server, backend_name: str, tmp_path: Path, target) -> None:
    who, method, path, parameters, form = target
    if "{lesson}" in path:
        path = path.format(lesson=_first_lesson_id(server))
    visitor = Visitor(server)
    if who != "anonymous":
        visitor.sign_in(who)
    extra = ["--cookie", visitor.cookie()] if visitor.cookie() else []
    if method == "GET":  # the page itself answers, so sqlmap's probes reach the code behind it
        assert visitor.get(path).status == 200, path
    if method == "POST":
        data = "&".join(f"{k}={v}" for k, v in form.items())
        extra += ["--data", f"{data}&csrf_token={visitor.token()}", "--csrf-token", "csrf_token",
                  "--csrf-url", f"{server.url}/help", "--ignore-code", "401,429"]  # fmt: skip
    report = run_sqlmap(server.url + path, parameters, backend_name, tmp_path, extra)
    if method == "GET":  # a redirect here would be the sign-in page: nothing really tested
        assert not re.search(r"got a 30\d redirect", report), report[-3000:]
    found = re.findall(r"^.*(?:is vulnerable|identified the following injection).*$", report, re.M)
    assert not found, "\n".join(found) + report[-3000:]
    for parameter in parameters:
        assert re.search(
            rf"parameter '{parameter}' (?:does not seem to be injectable|is not injectable)"
            rf"|all tested parameters do not appear to be injectable",
            report,
        ), f"sqlmap did not finish testing {parameter}:\n{report[-3000:]}"
    errors = re.findall(r"HTTP error codes detected during run:\n?(.*)", report)
    assert not any("500" in e for e in errors), errors


def test_the_sweep_finds_a_planted_injection(tmp_path: Path) -> None:
    """The oracle can fail: a tiny app that builds its SQL from the query string is reported."""
    import sqlite3
    import threading
    from urllib.parse import parse_qs

    from werkzeug.serving import make_server

    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.executescript("CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('An'), ('Binh');")
    lock = threading.Lock()

    def vulnerable(environ, start_response):  # type: ignore[no-untyped-def]
        name = parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
        with lock:
            try:
                sql = f"SELECT name FROM t WHERE name = '{name}'"  # noqa: S608 - planted on purpose
                rows = database.execute(sql).fetchall()
                body, status = repr(rows).encode(), "200 OK"
            except sqlite3.Error as exc:
                body, status = str(exc).encode(), "500 Internal Server Error"
        start_response(status, [("Content-Type", "text/plain")])
        return [body]

    server = make_server("127.0.0.1", 0, vulnerable, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/search?q=An"
        report = run_sqlmap(url, ["q"], "SQLite", tmp_path, [])
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert re.search(r"is vulnerable|identified the following injection", report), report[-2000:]
