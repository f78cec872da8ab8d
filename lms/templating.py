"""Template helpers that cost little per page: every page calls them dozens of times.

Flask-Babel's template gettext finds the request's translations anew on each call (several
context-local lookups and a locale lookup per string). Here each render looks them up once, and
the callables keep Jinja's new-style semantics exactly (escaping, %-formatting, `num`)."""

from functools import lru_cache
from typing import Any

from flask import Flask, has_request_context, request
from flask import url_for as flask_url_for
from flask_babel import get_translations
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from lms.markdown import sanitise

_KEY = "_lms_translations"


def _translations(context: Context) -> Any:
    # An imported macro without context does not see the render's variables: ask Flask-Babel.
    found = context.get(_KEY)
    return found if found is not None else get_translations()


def _finish(context: Context, text: str, variables: dict) -> str:
    rv: str = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704  # nosec B704
    # Jinja formats every message, so a translator's "%%" becomes "%"; without a "%" it is a no-op.
    return rv % variables if (variables or "%" in rv) else rv


@pass_context
def gettext(context: Context, string: str, **variables: Any) -> str:
    return _finish(context, _translations(context).ugettext(string), variables)


@pass_context
def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _finish(context, _translations(context).ungettext(singular, plural, num), variables)


@pass_context
def pgettext(context: Context, msgctxt: str, string: str, **variables: Any) -> str:
    variables.setdefault("context", msgctxt)
    return _finish(context, _translations(context).upgettext(msgctxt, string), variables)


@pass_context
def npgettext(
    context: Context, msgctxt: str, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("context", msgctxt)
    variables.setdefault("num", num)
    text = _translations(context).unpgettext(msgctxt, singular, plural, num)
    return _finish(context, text, variables)


def _render_translations() -> dict[str, Any]:
    # Run at each render, so force_locale() and a language changed mid-request are honoured.
    return {_KEY: get_translations()}


def install(app: Flask) -> None:
    """Replace Flask-Babel's template callables (installed new-style by Babel.init_app)."""
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]  # as Babel.init_app set it
    app.jinja_env.globals.update(
        gettext=gettext, _=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext
    )
    app.context_processor(_render_translations)
    app.jinja_env.globals.update(csrf_field=csrf_field, url_for=url_for)


_CSRF_FIELD = Markup('<input type="hidden" name="csrf_token" value="%s">')


def csrf_field() -> Markup:
    """The form's CSRF token field, as the macro of _macros/forms.html writes it; a global, so
    the lesson page's partials need not import the macro file each (an import per include)."""
    return _CSRF_FIELD % generate_csrf()


@lru_cache(maxsize=2048)
def sanitised(value: str) -> str:
    """nh3 is deterministic: the same stored HTML gives the same output, so keep recent ones."""
    return sanitise(value)


@lru_cache(maxsize=4096)
def _path(script_root: str, endpoint: str, values: tuple) -> str:
    return flask_url_for(endpoint, **{name: value for name, _kind, value in values})


# Values kept as keys: plain, immutable, compared by value (an object would be kept alive).
_PLAIN = frozenset({str, int, bool, float, type(None)})


def url_for(endpoint: str, **values: Any) -> str:
    """Flask's url_for, remembering paths already built: a page builds twenty or more, the same
    on every request. A path depends only on the endpoint, its values and the script root
    (this app has no URL defaults, subdomains or host matching); anything else is built anew."""
    if (
        endpoint.startswith(".")
        or not has_request_context()  # a mail or a command: full URLs, SERVER_NAME
        or any(name.startswith("_") or type(v) not in _PLAIN for name, v in values.items())
    ):
        return flask_url_for(endpoint, **values)
    # The type is part of the key: 1, 1.0 and True are equal but are written differently.
    key = tuple((name, type(value), value) for name, value in values.items())
    return _path(request.script_root, endpoint, key)
