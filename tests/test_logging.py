"""LOG-01: the security events are logged, one line each, with the UTC time, the request id, the
user id and the address. LOG-02 (and SESS-07): a whole journey's log holds no password, no
session cookie, no CSRF token, no session token and no JWT. The log is read in the production
format (the formatter and filter that lms.audit installs)."""

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lms.accounts.models import Role
from lms.audit import RequestContextFilter
from lms.db import db
from tests.conftest import TEST_PASSWORD, Client
from tests.factories import make_course, make_module, make_tree, make_user

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z (?P<level>[A-Z]+) (?P<logger>[\w.]+) "
    r"event=(?P<event>\S+) request=(?P<request>[0-9a-f]{16}|-) user=(?P<user>\d+|-) "
    r"ip=(?P<ip>\S+) (?P<message>.*)$"
)
NEW_PASSWORD = "doi-mat-khau-moi-2026"  # noqa: S105
JITSI_SECRET = "bi-mat-jitsi-0123456789abcdef-0123456789"  # noqa: S105


@pytest.fixture
def log_text(app) -> Iterator[io.StringIO]:  # type: ignore[no-untyped-def]
    """Everything the lms loggers write during the test, in the production format."""
    root = logging.getLogger("lms")
    installed = next(h for h in root.handlers if any(
        isinstance(f, RequestContextFilter) for f in h.filters
    ))  # fmt: skip
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(installed.formatter)
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


@pytest.fixture
def people(app) -> dict:  # type: ignore[no-untyped-def]
    tree = make_tree()
    trainer = make_user("giangvien", role=Role.TRAINER)
    course = make_course("khoa-giang-vien")
    make_module(course, "mo-dun-quiz")
    from lms.catalog.models import CourseTrainer

    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    people = {
        "admin": make_user("quantri", role=Role.ADMIN),
        "learner": make_user(phone="0912000001", org=tree["a_union"], position="chair"),
        "trainer": trainer,
        "officer": make_user("canbo.moi"),
        "staff": make_user("canbo.a", role=Role.STAFF, org=tree["a"]),
    }
    make_module(make_course("khoa-bao-cao", published=True), "nhan-thuc", kind="awareness")
    db.session.commit()
    return {name: user.id for name, user in people.items()}


def client_for(app) -> Client:  # type: ignore[no-untyped-def]
    app.test_client_class = Client
    return app.test_client()


def events(buffer: io.StringIO) -> dict[str, list[re.Match]]:
    found: dict[str, list[re.Match]] = {}
    for line in buffer.getvalue().splitlines():
        match = LINE.match(line)
        assert match, f"a log line out of format: {line!r}"
        found.setdefault(match["event"], []).append(match)
    return found


def test_security_events_carry_time_request_user_and_address(app, people, log_text) -> None:
    learner, admin, trainer = client_for(app), client_for(app), client_for(app)
    learner.post_form("/login", {"username": "0912000001", "password": "sai-mat-khau-roi"})
    learner.login("0912000001")
    learner.get("/orgs/")  # 403
    learner.post("/account/sessions/end-others", data={})  # no CSRF token
    learner.post_form(
        "/account/password",
        {
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },  # fmt: skip
    )
    learner.logout()
    admin.login("quantri")
    admin.post_form(
        f"/people/{people['officer']}",
        {"full_name": "GV", "role": "staff", "org": "A", "active": "y"},  # fmt: skip
    )
    trainer.login("giangvien")
    trainer.get("/teach/khoa-giang-vien/export.zip").close()
    staff = client_for(app)
    staff.login("canbo.a")
    for report in ("csv", "xlsx", "json"):  # the coverage report leaving the dashboard
        assert staff.get(f"/reports/coverage?format={report}").status_code == 200
    assert staff.get("/reports/coverage/print").status_code == 200
    assert staff.get("/api/v1/statements").status_code == 200
    for _ in range(6):
        client_for(app).post_form("/login", {"username": "quantri", "password": "doan-sai-nhe"})

    seen = events(log_text)
    signed_in = {
        "login.ok": None, "access.denied": people["learner"], "csrf.failed": people["learner"],
        "password.changed": people["learner"], "logout": people["learner"],
        "role.changed": people["admin"], "export.downloaded": people["trainer"],
        "coverage.exported": people["staff"], "statements.read": people["staff"],
    }  # fmt: skip
    for event, user_id in signed_in.items():
        assert event in seen, f"{event} not logged: {sorted(seen)}"
        if user_id is not None:
            assert any(m["user"] == str(user_id) for m in seen[event]), seen[event][0].string
    formats = {re.search(r"format=(\w+)", m["message"])[1] for m in seen["coverage.exported"]}
    assert formats == {"csv", "xlsx", "json", "print"}
    assert all("scope=A " in m["message"] for m in seen["coverage.exported"])
    assert f"id={people['learner']}" in seen["login.ok"][0]["message"]
    for event in ("login.failed", "login.throttled"):
        assert "account=" in seen[event][0]["message"]  # nobody signed in: the name tried
    now = datetime.now(UTC).replace(tzinfo=None)
    for matches in seen.values():
        for match in matches:
            if match["logger"] == "lms.audit":
                assert match["ip"] == "127.0.0.1" and match["request"] != "-", match.string
            written = datetime.fromisoformat(match["time"])
            assert now - timedelta(minutes=2) < written <= now + timedelta(seconds=1)  # UTC


def test_a_whole_journey_logs_no_secret(app, people, log_text, monkeypatch) -> None:
    """Sign in (once wrongly), study, join a live session with a Jitsi token, change the
    password, sign out: none of the secrets that passed by is in the log."""
    from tests.test_access_matrix import _live_session_of

    monkeypatch.setitem(app.config, "JITSI_DOMAIN", "meet.ldld.example.vn")
    monkeypatch.setitem(app.config, "JITSI_APP_ID", "lms-test")
    monkeypatch.setitem(app.config, "JITSI_APP_SECRET", JITSI_SECRET)
    from lms.accounts.models import User

    live = _live_session_of(db.session.get(User, people["trainer"]))
    db.session.commit()
    client = client_for(app)
    secrets = [TEST_PASSWORD, NEW_PASSWORD, "sai-mat-khau-roi", JITSI_SECRET]
    client.post_form("/login", {"username": "0912000001", "password": "sai-mat-khau-roi"})
    client.login("0912000001")
    secrets += [client.get_cookie("lms").value, client.csrf_token()]
    join = client.post_form(f"/live/{live}/join")
    assert join.status_code == 200  # the embedded meeting, its token in the frame's address
    page = join.get_data(as_text=True)
    tokens = re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", page)
    assert tokens, "the join page should carry a Jitsi token"
    secrets += tokens
    client.post_form(
        "/account/password",
        {
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },  # fmt: skip
    )
    client.logout()
    text = log_text.getvalue()
    assert "event=login.ok" in text and "event=logout" in text  # the journey was logged
    leaked = [s[:12] + "…" for s in secrets if s and s in text]
    assert not leaked, leaked
    assert not re.search(r"eyJ[\w-]{10,}\.", text), "a JWT in the log"


@pytest.mark.parametrize(
    "name", ["an\n2026-01-01T00:00:00Z INFO lms.audit event=login.ok user=1", "\x1b[31mđỏ\x1b[0m"]
)
def test_a_name_cannot_forge_or_colour_a_log_line(app, client, log_text, name: str) -> None:
    """INJ-05: what a visitor types is written escaped, on the one line of its event."""
    client.post_form("/login", {"username": name, "password": "khong-quan-trong"})
    lines = [line for line in log_text.getvalue().splitlines() if "event=login.failed" in line]
    assert len(lines) == 1 and len(log_text.getvalue().splitlines()) == 1
    assert "\x1b" not in lines[0] and ("\\x0a" in lines[0] or "\\x1b" in lines[0])
