"""xAPI statements of completions and quiz results: valid for ralph and for the checks ralph
misses (shared/INTEROP.md §3), stable across exports, paged like an LRS, scoped (EXP-03)."""

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from lms.db import VN_TZ, db
from lms.progress import external, xapi
from lms.progress import services as progress
from lms.quizzes import services as quizzes
from tests.factories import make_quiz
from tests.progress.conftest import days_ago

BASE = "https://lms.example.org"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DURATION = re.compile(r"PT\d+H\d+M\d+\.\d{2}S")
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _attempt(user, module):  # type: ignore[no-untyped-def]
    """Start and submit an attempt with no answers (graded questions score 0)."""
    attempt, _ = quizzes.start_attempt(user, quizzes.available_quiz(module.id))
    db.session.flush()
    return quizzes.submit_attempt(quizzes.load_attempt(user, attempt.public_id), user, {}, 0)


def _tick() -> None:
    """Statements print `stored` to the millisecond and the since/until test cuts between two
    that differ: keep the fixture's steps at least a millisecond apart, however fast it runs."""
    time.sleep(0.002)


@pytest.fixture
def history(app, records, monkeypatch):  # type: ignore[no-untyped-def]
    """District A: an external completion, a revoked online one, a failed and a passed quiz;
    district B: one external completion."""
    monkeypatch.setitem(app.config, "BASE_URL", BASE + "/")
    chair_a, chair_b = records["chair_a"], records["chair_b"]
    make_quiz(records["wages"], "Đúng hay sai? {T}")
    _attempt(chair_a, records["wages"])  # nothing answered: failed
    _tick()
    make_quiz(records["awareness"], "::Giới thiệu::Phần sau là một tình huống.")
    _attempt(chair_a, records["awareness"])  # nothing graded: 100
    _tick()
    online = progress.completions_of(chair_a, [records["awareness"].id])[records["awareness"].id]
    external.revoke(records["staff_a"], online, "Làm lại bài kiểm tra")
    _tick()
    external.record_external(records["staff_a"], chair_a, records["wages"], day=days_ago(12),
                             class_name="Lớp bồi dưỡng của tỉnh")  # fmt: skip
    _tick()
    external.record_external(records["staff_b"], chair_b, records["wages"], day=days_ago(4),
                             class_name="Lớp huyện B")  # fmt: skip
    db.session.commit()
    return records


def _all(actor=None) -> list[dict]:  # type: ignore[no-untyped-def]
    return list(xapi.export(actor, BASE))


def _extra_checks(statement: dict) -> None:
    """What INTEROP §3.4 says ralph does not catch, and the exporter rules of §3.2."""
    now = datetime.now(UTC)
    assert uuid.UUID(statement["id"]).variant == uuid.RFC_4122
    assert "version" not in statement
    for key in ("timestamp", "stored"):
        assert STAMP.fullmatch(statement[key]), statement[key]
        assert datetime.fromisoformat(statement[key]) <= now
    assert statement["verb"]["display"]["en-US"]
    actor = statement["actor"]
    assert [k for k in IFIS if k in actor] == ["account"]
    assert actor["account"]["homePage"] == BASE and "name" not in actor
    obj = statement["object"]
    if obj["objectType"] == "Activity":
        assert obj["id"].startswith(BASE + "/xapi/activities/")
    result = statement.get("result", {})
    if "score" in result:
        score = result["score"]
        assert type(score["scaled"]) is float and -1 <= score["scaled"] <= 1
        assert score["min"] <= score["raw"] <= score["max"] and score["min"] < score["max"]
        assert DURATION.fullmatch(result["duration"])
    context = statement.get("context")
    if context:
        uuid.UUID(context["registration"])
        assert all(isinstance(v, list) for v in context["contextActivities"].values())
        assert set(context["contextActivities"]) <= {"parent", "grouping", "category", "other"}
        assert all(k.startswith(BASE + "/xapi/extensions/") for k in context.get("extensions", {}))


def test_every_statement_passes_ralph_and_the_extra_checks(history) -> None:
    statements = _all()
    verbs = sorted(s["verb"]["display"]["en-US"] for s in statements)
    assert verbs == ["completed", "completed", "completed", "failed", "passed", "voided"]
    for statement in statements:
        BaseXapiStatement.model_validate(statement)
        _extra_checks(statement)
    assert len({s["id"] for s in statements}) == len(statements)


def test_what_the_statements_say(history) -> None:
    by_verb = {}
    for s in _all():
        by_verb.setdefault(s["verb"]["display"]["en-US"], []).append(s)
    chair = history["chair_a"]
    [failed], [passed], [void] = by_verb["failed"], by_verb["passed"], by_verb["voided"]
    assert failed["result"]["score"] == {"scaled": 0.0, "raw": 0.0, "min": 0, "max": 100}
    assert failed["result"]["success"] is False and passed["result"]["success"] is True
    assert passed["result"]["score"]["scaled"] == 1.0
    assert failed["object"]["id"] == f"{BASE}/xapi/activities/quiz/chu-de-2021/tien-luong"
    assert failed["context"]["contextActivities"]["parent"][0]["id"] == (
        f"{BASE}/xapi/activities/module/chu-de-2021/tien-luong"
    )
    assert failed["actor"]["account"]["name"] == str(chair.id)
    revoked = next(s for s in by_verb["completed"] if s["id"] == void["object"]["id"])
    assert revoked["context"]["extensions"][f"{BASE}/xapi/extensions/source"] == "online"
    assert void["actor"]["account"]["name"] == str(history["staff_a"].id)
    [outside] = [s for s in by_verb["completed"]
                 if s["context"]["extensions"].get(f"{BASE}/xapi/extensions/class")
                 == "Lớp bồi dưỡng của tỉnh"]  # fmt: skip
    class_day = datetime.fromisoformat(outside["timestamp"]).astimezone(VN_TZ)
    assert class_day.date() == days_ago(12) and class_day.hour == 0  # the class date
    assert datetime.fromisoformat(outside["stored"]).astimezone(VN_TZ).date() == days_ago(0)
    assert outside["object"]["definition"]["name"] == {"vi": "Tiền lương"}
    registration = xapi.Builder(BASE).uuid("registration", chair.id, "chu-de-2021")
    assert outside["context"]["registration"] == registration == failed["context"]["registration"]


def test_export_is_identical_every_time(runner, history, tmp_path) -> None:
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert runner.invoke(args=["export-xapi", str(first)]).exit_code == 0
    assert runner.invoke(args=["export-xapi", str(second)]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    statements = json.loads(first.read_text(encoding="utf-8"))
    assert len(statements) == 6
    for statement in statements:
        BaseXapiStatement.model_validate(statement)
    stored = [s["stored"] for s in statements]
    assert stored == sorted(stored)  # oldest first
    stdout = runner.invoke(args=["export-xapi", "-"])
    assert json.loads(stdout.output) == statements


def _get(client, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    return response.get_json()


def _people(statements: list[dict]) -> set[str]:
    return {
        s["actor"]["account"]["name"] for s in statements if s["verb"]["id"] != xapi.VERBS["voided"]
    }


def test_staff_see_statements_of_their_district_only(client, history) -> None:
    a, b = str(history["chair_a"].id), str(history["chair_b"].id)
    client.login("canbo.a")
    seen_a = _get(client, "/api/v1/statements?limit=0")["statements"]
    assert _people(seen_a) == {a} and len(seen_a) == 5
    client.logout()
    client.login("canbo.b")
    seen_b = _get(client, "/api/v1/statements")["statements"]
    assert _people(seen_b) == {b} and len(seen_b) == 1
    client.logout()
    client.login("quantri")
    assert len(_get(client, "/api/v1/statements")["statements"]) == 6


def test_paging_with_more_returns_everything_once(client, history) -> None:
    client.login("quantri")
    seen, url, pages = [], "/api/v1/statements?limit=2", 0
    while url:
        body = _get(client, url)
        assert len(body["statements"]) <= 2
        seen += body["statements"]
        url, pages = body["more"], pages + 1
    assert pages == 3
    assert [s["id"] for s in seen] == [s["id"] for s in reversed(_all())]  # newest first
    ascending, url = [], "/api/v1/statements?limit=4&ascending=true"
    while url:
        body = _get(client, url)
        ascending += body["statements"]
        url = body["more"]
    assert ascending == _all()


def test_since_and_until_filter_on_stored(client, history) -> None:
    statements = _all()
    # Cut just before the first `stored` (printed to the millisecond) after the first two that
    # differs from the one before it: a passed quiz and the completion it gives can share one.
    stored = [s["stored"] for s in statements]
    cut = next(i for i in range(2, len(stored)) if stored[i] != stored[i - 1])
    middle = datetime.fromisoformat(stored[cut]) - timedelta(microseconds=1)
    client.login("quantri")
    since = _get(client, f"/api/v1/statements?since={middle.isoformat().replace('+00:00', 'Z')}")
    until = _get(client, f"/api/v1/statements?until={middle.isoformat().replace('+00:00', 'Z')}")
    assert {s["id"] for s in since["statements"]} | {s["id"] for s in until["statements"]} == {
        s["id"] for s in statements
    }
    assert not {s["id"] for s in since["statements"]} & {s["id"] for s in until["statements"]}
    assert len(until["statements"]) >= 2


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=abc", "since=hôm-qua", "since=2021-11-03T00:00:00", "cursor=!!",
     "cursor=" + "MjAyMXwxfDE", "until=2021-13-01T00:00:00Z"],
)  # fmt: skip
def test_malformed_parameters_are_refused(client, history, query) -> None:
    client.login("canbo.a")
    response = client.get(f"/api/v1/statements?{query}")
    assert response.status_code == 400
    assert "Tham số không hợp lệ" in response.get_json()["error"]


def test_only_signed_in_staff_may_read(client, history) -> None:
    anonymous = client.get("/api/v1/statements")
    assert anonymous.status_code == 401 and anonymous.is_json
    for username in ("0912000001", "giangvien"):
        client.login(username)
        assert client.get("/api/v1/statements").status_code == 403
        client.logout()


def test_duration_format() -> None:
    assert xapi.duration(0) == "PT0H0M0.00S"
    assert xapi.duration(3723.456) == "PT1H2M3.46S"
    assert xapi.duration(-5) == "PT0H0M0.00S"


def test_a_cursor_round_trips(app_ctx) -> None:
    cursor = xapi.Cursor(datetime(2021, 11, 3, 1, 2, 3, 456789, tzinfo=UTC), 1, 42)
    assert xapi.Cursor.decode(cursor.encode()) == cursor
