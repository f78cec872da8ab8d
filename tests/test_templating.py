"""Template translation looked up once per render, and the sanitised-HTML memo: same output as
Flask-Babel's and Jinja's own callables, in either language, under force_locale, and safe."""

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from markupsafe import Markup

from lms import templating
from lms.web import trusted_html

PAGE = (
    "{{ _('Home') }}|{{ ngettext('%(num)d lesson', '%(num)d lessons', 3) }}"
    "|{{ _('Saved %(when)s', when='<b>') }}|{% trans %}Home{% endtrans %}"
)


def _render(app: Flask, source: str, lang: str = "vi") -> str:
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        return render_template_string(source)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("vi", "Trang chủ|3 bài học|Đã lưu lúc &lt;b&gt;|Trang chủ"),
        ("en", "Home|3 lessons|Saved &lt;b&gt;|Home"),
    ],
)
def test_templates_translate_and_escape_like_babel(app: Flask, lang: str, expected: str) -> None:
    assert _render(app, PAGE, lang) == expected


SOURCES = [
    PAGE,
    "{{ _('100%% done') }}|{{ _('plain') }}|{{ ngettext('%(num)d minute', '%(num)d minutes', 1) }}",
    "{% trans n=2 %}{{ n }} of <b>{% endtrans %}|{{ pgettext('menu', 'Home') }}",
    "{{ npgettext('c', '%(num)d lesson', '%(num)d lessons', 2, x='<i>') }}",
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_output_is_that_of_jinjas_own_callables(app: Flask, source: str, lang: str) -> None:
    """Jinja's new-style gettext formats every message ('%%' is a percent sign) and escapes."""
    from flask_babel import get_translations
    from jinja2 import Environment

    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        stock = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
        stock.install_gettext_translations(get_translations(), newstyle=True)  # type: ignore[attr-defined]
        assert render_template_string(source) == stock.from_string(source).render()


def test_a_missing_placeholder_fails_as_in_jinja(app: Flask) -> None:
    with pytest.raises(KeyError):
        _render(app, "{{ _('%(n)s left') }}")


def test_force_locale_inside_a_request_is_honoured(app: Flask) -> None:
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Home') }}") == "Trang chủ"
        with force_locale("en"):
            assert render_template_string("{{ _('Home') }}") == "Home"
        assert render_template_string("{{ _('Home') }}") == babel_gettext("Home")


def test_a_render_without_context_processors_asks_babel(app: Flask) -> None:
    """An imported macro or a bare Template.render has no per-render translations."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert app.jinja_env.from_string("{{ _('Home') }}").render() == "Home"


def test_sanitised_html_is_reused_and_stays_clean() -> None:
    hostile = '<p onclick="x()">Đọc <a href="javascript:alert(1)">đây</a></p><script>y()</script>'
    before = templating.sanitised.cache_info().hits
    first, second = trusted_html(hostile), trusted_html(hostile)
    assert first == second == Markup("<p>Đọc <a rel=\"noopener noreferrer nofollow\">đây</a></p>")
    assert templating.sanitised.cache_info().hits == before + 1
    assert templating.sanitised.cache_info().maxsize == 2048  # bounded memory per process


CASES = [
    ("site.home", {}),
    ("static", {"filename": "app.css"}),
    ("progress.lesson", {"course_slug": "khoá", "module_slug": "a b", "lesson_slug": "c/d"}),
    ("orgs.people", {"page": 1}),
    ("orgs.people", {"page": True}),
    ("orgs.people", {"q": ["a", "b"]}),
    ("site.home", {"_anchor": "main"}),
    ("orgs.detail", {"code": Markup("A&B")}),
]


@pytest.mark.parametrize("root", ["", "/lms"])
def test_remembered_paths_are_those_flask_builds(app: Flask, root: str) -> None:
    from flask import url_for as flask_url_for

    with app.test_request_context("/", base_url=f"http://localhost{root}/"):
        for endpoint, values in CASES * 2:  # the second round comes from the memo
            assert templating.url_for(endpoint, **values) == flask_url_for(endpoint, **values)
        assert templating.url_for("site.home") == root + "/"
        kept = templating._path.cache_info().currsize
        templating.url_for("orgs.people", q=["x"])
        templating.url_for("orgs.detail", code=Markup("Z"))
        assert templating._path.cache_info().currsize == kept  # objects are never kept


def test_csrf_field_global_writes_what_the_macro_writes(app: Flask) -> None:
    with app.test_request_context("/"):
        macro = render_template_string(
            '{% from "_macros/forms.html" import csrf_field %}{{ csrf_field() }}'
        )
        assert render_template_string("{{ csrf_field() }}") == macro
        assert macro.startswith('<input type="hidden" name="csrf_token" value="')
