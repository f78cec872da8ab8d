"""REL-03, REL-04: hostile input never gets a 500. Every POST route of the access matrix gets
NUL bytes, invalid UTF-8, duplicated keys, long strings, foreign JSON types and huge ids, as
the role that may really use it; refused form input is a 400 naming the field, keeping what
was typed and writing nothing."""

import re
from urllib.parse import quote_from_bytes

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from lms.accounts.models import Role
from lms.db import db
from tests.conftest import Client
from tests.factories import make_user
from tests.test_access_matrix import MATRIX, USERS, world  # noqa: F401 - the shared fixture

# Names the views read from request.form directly, beside the declared form fields.
RAW_FIELDS = {"status", "step", "action", "publish", "body", "parent_id", "reason", "user_id",
              "via", "revision", "answer", "choice", "text", "locale", "next"}  # fmt: skip
BIG_ID = "9" * 30


def declared_field_names() -> set[str]:
    """Every field name of every form class of the app (imported with the app's views)."""
    names: set[str] = set()
    todo = list(FlaskForm.__subclasses__())
    while todo:
        form = todo.pop()
        todo.extend(form.__subclasses__())
        names |= {n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField)}
    return names


def actor(expected: dict) -> str:
    """The role that really gets its input processed by the route (not refused at the door)."""
    for role in ("anonymous", "learner", "trainer", "admin", "staff_a"):
        if expected[role] in (200, 400, 415):
            return role
    return next(r for r in ("learner", "trainer", "admin", "staff_a") if expected[r] == 302)


def encoded(pairs: list[tuple[str, bytes]]) -> bytes:
    return "&".join(f"{k}={quote_from_bytes(v)}" for k, v in pairs).encode()


POST_ROUTES = sorted(k for k in MATRIX if k[1] == "POST")


@pytest.mark.parametrize("key", POST_ROUTES, ids=lambda k: k[0])
def test_every_post_route_survives_hostile_forms(app, world, key, caplog) -> None:  # noqa: F811
    path_template, _data, expected = MATRIX[key]
    path = path_template.format(**world)
    app.test_client_class = Client
    client = app.test_client()
    role = actor(expected)
    if role != "anonymous":
        assert client.login(USERS[role]).status_code == 302
    token = client.csrf_token().encode()
    names = sorted(declared_field_names() | RAW_FIELDS)
    variants = {
        "nul": [(n, b"a\x00b") for n in names],
        "invalid utf-8": [(n, b"\xff\xfe\xc3(") for n in names],
        "duplicated keys": [(n, v) for n in names for v in (b"1", b"x\x00")],
        "long strings": [(n, b"\xe1\xbb\x87" * 10_000) for n in names],
        "huge ids": [(n, BIG_ID.encode()) for n in names],
        "negative ids": [(n, b"-1") for n in names],
    }
    for name, pairs in variants.items():
        body = encoded([("csrf_token", token), *pairs])
        for url in (path, f"{path}?next=%00%FF&n={BIG_ID}&q=%C3%28&version=-1"):
            response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
            assert response.status_code < 500, (name, url, response.status_code)
            assert "Traceback" not in response.get_data(as_text=True)
    # The last line of defence (a value the database refused becomes a 400) was never needed.
    refused = [r for r in caplog.records if getattr(r, "event", "") == "db.refused_value"]
    assert not refused, "a value reached the database unchecked"


@pytest.mark.parametrize(
    "path",
    ["/modules/{big}/quiz", "/people/{big}", "/verify/{big}", "/certificates/{big}",
     "/live/{big}", "/attempts/{big}", "/uploads/{big}", "/learn/{big}"],
)  # fmt: skip
def test_huge_ids_in_urls_are_not_found(app, client, path: str) -> None:
    """QUIZ-07: an id beyond any database integer is a plain 404 (PostgreSQL would refuse to
    compare it), for staff who may open people and for learners alike."""
    make_user("quantri", role=Role.ADMIN)
    db.session.commit()
    client.login("quantri")
    assert client.get(path.format(big=BIG_ID)).status_code == 404
    assert client.get(path.format(big="-1")).status_code == 404


JSON_BODIES = [b"\xff\xfe{", b"null", b"[1, 2]", b'"x"', b"1e999", b'{"body": 12}',
               b'{"body": ["x"], "source": {"a": 1}}', b'{"body": "a\\u0000b", "source": null}',
               b'{"source": "' + b"x" * 300_000 + b'"}', b'{"body": "\\ud800"}']  # fmt: skip


@pytest.mark.parametrize("key", [("authoring.preview", "POST"), ("quiz_editor.check", "POST")])
def test_json_endpoints_survive_wrong_types_and_bytes(app, world, key) -> None:  # noqa: F811
    path = MATRIX[key][0].format(**world)
    app.test_client_class = Client
    client = app.test_client()
    client.login("giangvien")
    token = client.csrf_token()
    for body in JSON_BODIES:
        response = client.post(
            path,
            data=body,
            content_type="application/json",
            headers={"X-CSRFToken": token, "Accept": "application/json"},
        )
        assert response.status_code < 500, (body[:40], response.status_code)
        assert response.is_json, body[:40]


def test_raw_invalid_utf8_in_a_form_body_is_refused_naming_the_field(app, client) -> None:
    """No browser sends such a body; Werkzeug would read it as an empty form."""
    token = client.csrf_token().encode()
    response = client.post(
        "/login",
        data=b"csrf_token=" + token + b"&username=an\xff\xfe&password=mat-khau-du-dai",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Trường username có ký tự không đọc được" in response.get_data(as_text=True)


def test_invalid_utf8_in_a_multipart_field_is_refused_naming_it(app, client) -> None:
    """The multipart parser turns unreadable bytes into U+FFFD: the field is named, the other
    field keeps what was typed, and nobody is signed in."""
    response = client.post(
        "/login",
        data={
            "csrf_token": client.csrf_token(),
            "username": "Nguyễn\ufffd",
            "password": "mat-khau-du-dai",
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="username-error">([^<]*)</p>', page)
    assert error and "không đọc được" in error.group(1), page
    assert 'value="Nguyễn\ufffd"' in page


def test_nul_bytes_are_stripped_from_a_saved_reflection(app, client, world) -> None:  # noqa: F811
    """NUL never reaches the database (PostgreSQL text refuses it): the text is kept without it."""
    from lms.progress.models import BlockResponse

    client.login(USERS["learner"])
    lesson = MATRIX[("progress.reflect", "POST")][0]
    response = client.post_form(lesson, {"text": "Ý kiến\x00 của tôi"})
    assert response.status_code == 302
    saved = db.session.scalars(sa.select(BlockResponse.value)).all()
    assert {"text": "Ý kiến của tôi"} in saved


def test_a_body_over_the_request_limit_is_413_in_vietnamese(app, client) -> None:
    """REL-03: 26 MB to any address gets the 413 page, before anything reads it."""
    response = client.post(
        "/login",
        data=b"x" * (26 * 1024 * 1024),
        content_type="application/octet-stream",
    )
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)


def test_a_form_over_the_form_limit_is_413_and_writes_nothing(app, client, world) -> None:  # noqa: F811
    from lms.progress.models import BlockResponse

    client.login(USERS["learner"])
    lesson = MATRIX[("progress.reflect", "POST")][0]
    response = client.post_form(lesson, {"text": "ư" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BlockResponse)) == 0


CSV_FILES = {
    "not UTF-8": "ten_dang_nhap\nNguyễn\n".encode("cp1258", "replace") + b"\xff\xfe",
    "NUL bytes": b"ten_dang_nhap,dien_thoai\n0912\x00000001,09\x0012\n",
    "no known column": "họ tên\nNguyễn An\n".encode(),
    "duplicated headers": b"ten_dang_nhap,ten_dang_nhap\n0912000001,x\n",
    "a huge id": f"ten_dang_nhap,dien_thoai\n{BIG_ID},{BIG_ID}\n".encode(),
    "empty": b"",
}


@pytest.mark.parametrize("name", list(CSV_FILES))
def test_an_uploaded_attendance_csv_is_read_or_refused_never_a_500(
    app, world, name: str, caplog  # noqa: F811
) -> None:
    """REL-04 for uploads: a conferencing tool's export, spoilt in each way, gets the
    attendance page back (200 with what matched, or 400 naming the file's problem)."""
    import io

    app.test_client_class = Client
    client = app.test_client()
    client.login(USERS["trainer"])
    response = client.post_form(
        f"/live/{world['live']}/attendance",
        {"file": (io.BytesIO(CSV_FILES[name]), "diem-danh.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert '<p class="error" id="file-error">' in response.get_data(as_text=True)
    assert not [r for r in caplog.records if getattr(r, "event", "") == "db.refused_value"]
