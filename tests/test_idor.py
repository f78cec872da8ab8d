"""AC-02, AC-03: ids swapped between people and between districts. Learner A asking for B's
attempt, review, certificate or session by its address gets the very page a made-up address
gets (same status, same length, same text once the request id is blanked); staff of district A
asking for district B's people, units or sessions, or searching for them, get nothing of B."""

import re

import pytest

from lms.accounts.models import Role
from lms.db import db
from tests.conftest import Client
from tests.factories import make_course, make_module, make_quiz, make_tree, make_user


@pytest.fixture
def two_districts(app) -> dict:  # type: ignore[no-untyped-def]
    """Learners A (district A) and B (district B), each with a submitted attempt, an attempt in
    progress and a certificate; a live session for district B; staff of each district."""
    from tests.test_access_matrix import _quiz_taught_by

    tree = make_tree()
    make_user("canbo.a", role=Role.STAFF, org=tree["a"], full_name="Cán bộ A")
    make_user("canbo.b", role=Role.STAFF, org=tree["b"], full_name="Cán bộ B")
    trainer = make_user("giangvien", role=Role.TRAINER)
    a = make_user(phone="0912000001", org=tree["a_union"], position="chair", full_name="Học A")
    b = make_user(phone="0912000002", org=tree["b_union"], position="chair", full_name="Học Bê")
    module = make_module(make_course("khoa-idor"), "mo-dun")
    make_quiz(module, "Câu hỏi? {=Đúng ~Sai}")
    _quiz_taught_by(trainer)
    ids = {"a": a.id, "b": b.id, "module": module.id}
    for key, person in (("a", a), ("b", b)):
        ids |= {f"{key}_{name}": value for name, value in _attempts(person, module).items()}
        ids[f"{key}_cert"] = _certificate_for_module(person, key)
    ids["b_live"] = _live_for(trainer, "B")
    db.session.commit()
    return ids


def _attempts(person, module) -> dict:  # type: ignore[no-untyped-def]
    from lms.quizzes import services as quizzes

    ctx = quizzes.available_quiz(module.id)
    done, _ = quizzes.start_attempt(person, ctx)
    db.session.flush()
    quizzes.submit_attempt(quizzes.load_attempt(person, done.public_id), person, {}, 0)
    open_, _ = quizzes.start_attempt(person, ctx)
    db.session.flush()
    return {"done": done.public_id, "open": open_.public_id}


def _certificate_for_module(person, key: str) -> str:  # type: ignore[no-untyped-def]
    from lms.progress.certificates import issue_certificates
    from lms.progress.models import Completion, CompletionSource

    module = make_module(make_course(f"khoa-cn-{key}", title="Khóa chứng nhận"), "chuyen-de")
    db.session.add(Completion(user_id=person.id, module_id=module.id, source=CompletionSource.LIVE))
    db.session.flush()
    return issue_certificates(person, module)[0].code


def _live_for(trainer, district: str) -> str:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    import sqlalchemy as sa

    from lms.catalog.models import Module
    from lms.db import utcnow
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    module = db.session.scalars(sa.select(Module).where(Module.slug == "mo-dun-quiz")).one()
    start = (utcnow() + timedelta(days=2)).astimezone(live.VN).replace(tzinfo=None)
    return live.schedule(
        trainer, module, title=f"Buổi của huyện {district}",
        start_local=start.replace(second=0, microsecond=0), minutes=60, provider="jitsi",
        audience_codes=[district], settings=LiveSettings(),
    ).public_id  # fmt: skip


def signed_in(app, username: str) -> Client:  # type: ignore[no-untyped-def]
    app.test_client_class = Client
    client = app.test_client()
    assert client.login(username).status_code == 302
    return client


def blank(body: str, *values: str) -> str:
    """The page with what legitimately differs blanked: the request id, the CSRF token, and the
    address asked for (a 404 page may echo it)."""
    for value in values:
        body = body.replace(value, "ADDRESS")
    body = re.sub(r'name="csrf_token" value="[^"]+"', "TOKEN", body)
    return re.sub(r"\b[0-9a-f]{16}\b", "ID", body)


SWAPS = [
    ("/attempts/{b_open}", "/attempts/{fake32}"),
    ("/attempts/{b_done}/review", "/attempts/{fake32}/review"),
    ("/certificates/{b_cert}", "/certificates/ZZZZZZZZZZ"),
    ("/certificates/{b_cert}.pdf", "/certificates/ZZZZZZZZZZ.pdf"),
]


@pytest.mark.parametrize(("theirs", "made_up"), SWAPS, ids=[s[0] for s in SWAPS])
def test_another_learners_things_look_like_nothing_at_all(
    app, two_districts, theirs: str, made_up: str
) -> None:
    ids = two_districts | {"fake32": "0" * 32}
    client = signed_in(app, "0912000001")
    a_theirs, a_fake = theirs.format(**ids), made_up.format(**ids)
    got, never = client.get(a_theirs), client.get(a_fake)
    assert got.status_code == never.status_code == 404
    assert blank(got.get_data(as_text=True), a_theirs) == blank(
        never.get_data(as_text=True), a_fake
    )
    assert "Học Bê" not in got.get_data(as_text=True)
    # Their own, for comparison, is there.
    own = client.get(theirs.replace("{b_", "{a_").format(**ids))
    assert own.status_code == 200


def test_another_learners_attempt_refuses_answers_and_submits(app, two_districts) -> None:
    from lms.quizzes.models import Attempt

    client = signed_in(app, "0912000001")
    path = f"/attempts/{two_districts['b_open']}"
    for action in ("save", "submit"):
        assert client.post_form(f"{path}/{action}", {"revision": "0"}).status_code == 404
    attempt = db.session.scalars(
        db.select(Attempt).where(Attempt.public_id == two_districts["b_open"])
    ).one()
    db.session.refresh(attempt)
    assert attempt.revision == 0 and attempt.submitted_dt is None


def test_public_addresses_carry_no_guessable_ids(two_districts) -> None:
    """Attempts and sessions are 32 random hex characters, certificates 10 random letters."""
    for key in ("a_open", "a_done", "b_open", "b_done", "b_live"):
        assert re.fullmatch(r"[0-9a-f]{32}", two_districts[key])
    assert two_districts["a_open"] != two_districts["b_open"]
    for key in ("a_cert", "b_cert"):
        assert re.fullmatch(r"[A-Z2-9]{10}", two_districts[key])


def test_a_learner_of_district_a_cannot_reach_district_bs_session(app, two_districts) -> None:
    client = signed_in(app, "0912000001")
    live = two_districts["b_live"]
    assert client.get(f"/live/{live}").status_code == 403
    assert client.post_form(f"/live/{live}/join").status_code == 403
    assert client.get(f"/live/{live}.ics").status_code == 403
    assert "Buổi của huyện B" not in client.get("/live/").get_data(as_text=True)


def test_staff_of_district_a_get_nothing_of_district_b(app, two_districts) -> None:
    """The person of B by id, ±1 around it, B's unit by code, B's session, a search for B."""
    client = signed_in(app, "canbo.a")
    b = two_districts["b"]
    for user_id in (b, b + 1000, 2**31 - 1):
        assert client.get(f"/people/{user_id}").status_code == 404
    assert client.get(f"/people/{two_districts['a']}").status_code == 200
    for code in ("B", "B-1"):
        assert client.get(f"/orgs/{code}").status_code == 404
    assert client.get(f"/live/{two_districts['b_live']}").status_code == 403
    for query in ("Học Bê", "0912000002", "B-1", "%", "_", "' OR 1=1--"):
        page = client.get("/people/", query_string={"q": query}).get_data(as_text=True)
        rows = re.findall(r'<a href="/people/(\d+)">', page)  # the people found
        assert str(b) not in rows, query
    found = client.get("/people/", query_string={"q": "Học A"}).get_data(as_text=True)
    assert str(two_districts["a"]) in re.findall(r'<a href="/people/(\d+)">', found)
    listing = client.get("/people/").get_data(as_text=True)
    assert "Học A" in listing and "Học Bê" not in listing
    home = client.get("/").get_data(as_text=True)
    assert "LĐLĐ huyện A" in home and "LĐLĐ huyện B" not in home


def test_staff_of_district_b_get_nothing_of_district_a(app, two_districts) -> None:
    client = signed_in(app, "canbo.b")
    assert client.get(f"/people/{two_districts['a']}").status_code == 404
    assert client.get(f"/people/{two_districts['b']}").status_code == 200
    assert client.get("/orgs/A-1").status_code == 404
    assert "Học A" not in client.get("/people/").get_data(as_text=True)


def test_a_forged_user_id_completes_nothing_for_someone_else(app, two_districts) -> None:
    """COMP-01: the person is the one signed in; a posted user_id is never read."""
    import sqlalchemy as sa

    from lms.catalog.models import Module
    from lms.progress.models import LessonProgress
    from tests.factories import make_lesson

    module = db.session.get(Module, two_districts["module"])
    make_lesson(module, "bai-mot")
    db.session.commit()
    client = signed_in(app, "0912000001")
    done = client.post_form("/learn/khoa-idor/mo-dun/bai-mot/done", {"user_id": two_districts["b"]})
    assert done.status_code == 302
    owners = db.session.scalars(sa.select(LessonProgress.user_id)).all()
    assert owners == [two_districts["a"]]
