"""AC-08: an exception inside a permission or scope check denies (the generic error page, no
data) and is logged. SESS-08: keys rotate through SECRET_KEY_FALLBACKS; a cookie signed with
a retired key is anonymous. XSS-06, XSS-09: templates and code keep to the safe patterns."""

import re
from pathlib import Path

import pytest

from lms import create_app
from lms.accounts.models import Role
from lms.db import db
from tests.conftest import Client, base_config, fresh_database
from tests.factories import make_course, make_tree, make_user

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def prod(database_url: str):  # type: ignore[no-untyped-def]
    app = create_app(
        base_config(database_url)
        | {"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SECRET_KEY": "k" * 40}
    )
    app.test_client_class = Client
    yield app
    with app.app_context():
        db.engine.dispose()


def _broken(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise RuntimeError("the permission store is unreachable")


class _BrokenUser:
    """A signed-in user whose role cannot be read."""

    is_authenticated = True

    @property
    def role(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("the role could not be loaded")


@pytest.mark.parametrize(
    ("target", "who", "path"),
    [
        ("lms.authoring.services.can_edit", "giangvien", "/teach/khoa-kin"),
        ("lms.orgs.services.get_person_in_scope", "canbo.a", "/people/{person}"),
        ("lms.accounts.permissions.current_user", "canbo.a", "/orgs/"),
    ],
)
def test_a_failing_permission_check_denies(
    app, prod, monkeypatch, caplog, target: str, who: str, path: str
) -> None:
    tree = make_tree()
    make_user("canbo.a", role=Role.STAFF, org=tree["a"])
    make_user("giangvien", role=Role.TRAINER)
    person = make_user(phone="0912000001", org=tree["a_union"], full_name="Bí Mật Riêng")
    make_course("khoa-kin", title="Khóa Kín Đáo")
    db.session.commit()
    client = prod.test_client()
    assert client.login(who).status_code == 302
    monkeypatch.setattr(target, _BrokenUser() if target.endswith("current_user") else _broken)
    response = client.get(path.format(person=person.id))
    assert response.status_code in (403, 404, 500)
    page = response.get_data(as_text=True)
    assert "Bí Mật Riêng" not in page and "Khóa Kín Đáo" not in page
    assert any(r.levelname == "ERROR" for r in caplog.records)  # the failure is logged


def test_keys_rotate_through_fallbacks(tmp_path: Path) -> None:
    """A cookie signed with the previous key stays valid while it is a fallback, and is
    anonymous once the key is retired."""
    with fresh_database(tmp_path, "lms_keys") as url:
        old, new = "ancienne-cle-" + "a" * 30, "nouvelle-cle-" + "b" * 30
        apps = {
            "old": create_app(base_config(url) | {"SECRET_KEY": old}),
            "rotated": create_app(
                base_config(url) | {"SECRET_KEY": new, "SECRET_KEY_FALLBACKS": [old]}
            ),
            "retired": create_app(base_config(url) | {"SECRET_KEY": new}),
        }
        with apps["old"].app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
            make_user("hocvien.khoa")
            db.session.commit()
        try:
            for app in apps.values():
                app.test_client_class = Client
            signed_in = apps["old"].test_client()
            assert signed_in.login("hocvien.khoa").status_code == 302
            cookie = signed_in.get_cookie("lms").value
            for name, expected in (("rotated", 200), ("retired", 302)):
                client = apps[name].test_client()
                client.set_cookie("lms", cookie)
                assert client.get("/account").status_code == expected, name
        finally:
            for app in apps.values():
                with app.app_context():
                    db.engine.dispose()


def test_templates_keep_to_the_safe_patterns() -> None:
    """XSS-06: no inline event handler and no inline script in any template; XSS-09: no `|safe`
    and no autoescape switched off (trusted HTML goes through the `markup` filter, which
    sanitises again)."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(ROOT)
        found += [f"{name}: handler {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        found += [f"{name}: inline script" for _ in re.findall(r"<script(?![^>]*\bsrc=)", text)]
        found += [f"{name}: |safe" for _ in re.findall(r"\|\s*safe\b", text)]
        found += [f"{name}: autoescape off" for _ in re.findall(r"autoescape\s+false", text)]
    assert not found, found


def test_code_keeps_to_the_safe_patterns() -> None:
    """XSS-09: no template built from strings, and Markdown is turned into HTML in one place
    only (lms/markdown.py, which sanitises it with nh3 right after)."""
    found = []
    for source in sorted((ROOT / "lms").rglob("*.py")):
        text = source.read_text(encoding="utf-8")
        name = str(source.relative_to(ROOT))
        if "render_template_string" in text:
            found.append(f"{name}: render_template_string")
        if name != "lms/markdown.py" and re.search(r"\bmarkdown\.(markdown|Markdown)\(", text):
            found.append(f"{name}: Markdown rendered outside lms/markdown.py")
    assert not found, found
    markdown = (ROOT / "lms" / "markdown.py").read_text(encoding="utf-8")
    assert "return Markup(sanitise(html))" in markdown
