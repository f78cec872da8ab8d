"""Request plumbing shared by every room: settings, locale, headers, request ids and errors."""

import functools
import logging
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from babel import numbers
from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import audit, config, inputs, statement_count, templating
from lms.db import VN_TZ, db, forget_connections, vn_today
from lms.markdown import render_plain

log = logging.getLogger("lms")


def apply_settings(app: Flask) -> None:
    """Derive dependent settings and refuse an unsafe production configuration."""
    key = app.config.get("SECRET_KEY") or ""
    if key in ("", config.DEFAULT_SECRET_KEY) and not (app.debug or app.testing):
        raise RuntimeError(
            "LMS_SECRET_KEY is not set: refusing to start with the development key. "
            "Set LMS_SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app))
    secure = bool(app.config["SECURE_COOKIES"])
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    # The __Host- prefix pins the cookie to this host and path; browsers demand Secure for it.
    app.config["SESSION_COOKIE_NAME"] = "__Host-lms" if secure else "lms"
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def database_url(app: Flask) -> str:
    """The SQLAlchemy URL: LMS_DATABASE_URL, or a SQLite file in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if not url:
        import os

        os.makedirs(app.instance_path, exist_ok=True)
        return f"sqlite:///{app.instance_path}/lms.db"
    # People paste plain postgresql:// URLs; the installed driver is psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return str(url)


def engine_options(app: Flask) -> dict:
    """Check pooled connections before use (a restarted server or a killed connection is
    replaced without restarting the app) and wait for a lock at most DATABASE_LOCK_TIMEOUT_MS,
    so that a locked database gives a 503 rather than a request that hangs (REL-01); no
    parallel workers on PostgreSQL, whose cost outweighs their gain on our short statements,
    and index probes priced as what they are on a database that sits in memory or on SSD
    (random_page_cost 1.1 rather than the 4 of spinning disks): at 4 the district reports
    read all 124.000 chairs of the national officer table to join 2.600 of them (XL)."""
    wait_ms = int(app.config["DATABASE_LOCK_TIMEOUT_MS"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        connect_args: dict = {"timeout": wait_ms / 1000}  # SQLite's busy timeout
    else:
        options = (
            f"-c lock_timeout={wait_ms} -c max_parallel_workers_per_gather=0"
            " -c random_page_cost=1.1"
        )
        connect_args = {"options": options}
    return {"pool_pre_ping": True, "connect_args": connect_args}


def select_locale() -> str:
    """The user's own choice, then the pre-login cookie, then Vietnamese; never the browser's."""
    choices = ("vi", "en")
    if not has_request_context():  # command-line tools speak Vietnamese
        return "vi"
    if current_user and current_user.is_authenticated and current_user.locale in choices:
        return str(current_user.locale)
    lang = request.cookies.get("lang")
    return lang if lang in choices else "vi"


def select_timezone() -> str:
    return "Asia/Ho_Chi_Minh"


def init_app(app: Flask) -> None:
    """Register the filters, hooks and error handlers used on every request."""
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        vndate=format_vn_date,
        vndatetime=format_vn_datetime,
        number=format_number,
        markup=trusted_html,
        plaintext=render_plain,
    )
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "vi")
    app.jinja_env.globals["today"] = vn_today
    templating.install(app)
    app.url_map.converters["int"] = inputs.DatabaseId
    # First of all before-request hooks: CSRFProtect's check (registered earlier) must already
    # see the request id in its log line and a body that could be read.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_secure_headers)
    statement_count.install(app)  # only when LMS_COUNT_SQL is set
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(PermissionError, _no_scope)
    app.register_error_handler(sa.exc.DBAPIError, _database_error)
    app.register_error_handler(Exception, _server_error)
    audit.configure(app)


def format_vn_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy, taking an aware datetime into Vietnam's time zone first."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(VN_TZ)
    return value.strftime("%d/%m/%Y")


def format_vn_datetime(value: datetime | None) -> str:
    """HH:MM dd/mm/yyyy in Vietnam's time zone."""
    if value is None:
        return ""
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def format_number(value: float | int | None) -> str:
    """1.000,5 in Vietnamese, 1,000.5 in English."""
    if value is None:
        return ""
    if type(value) is int:
        # Most figures on the reports are counts: grouped here in threes with the locale's
        # symbol, as Babel's pattern groups them, at a thirtieth of its cost (a coverage page
        # shows some 150 of them).
        return f"{value:,}".replace(",", _group_symbol(str(get_locale())))
    return format_decimal(value)


@functools.cache
def _group_symbol(locale: str) -> str:
    return numbers.get_group_symbol(locale)


def _start_request() -> None:
    g.request_id = secrets.token_hex(8)
    # A form body over the form limit gets a clear 413 before anything reads it (REL-03);
    # Werkzeug would otherwise fail the parse and the CSRF check would report a missing token.
    limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if (
        limit
        and request.mimetype == "application/x-www-form-urlencoded"
        and (request.content_length or 0) > limit
    ):
        from werkzeug.exceptions import RequestEntityTooLarge

        raise RequestEntityTooLarge()
    if request.mimetype == "application/x-www-form-urlencoded":
        inputs.refuse_unreadable_form(request.get_data(cache=True))


def content_security_policy(form_action: str = "") -> str:
    """The pages' CSP; `form_action` adds an origin a form's answer may redirect to."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors 'none'; form-action 'self'{' ' + form_action if form_action else ''}"
    )


def _secure_headers(response):  # type: ignore[no-untyped-def]
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    # The live-session embed page sets its own, allowing camera and microphone for its meeting.
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
    if request.endpoint != "static":
        # Pages may carry personal data: never keep them in a shared or back/forward cache.
        headers["Cache-Control"] = "no-store"
    if current_app.config["SECURE_COOKIES"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if getattr(g, "request_id", None):
        headers["X-Request-Id"] = g.request_id
    return response


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or (
            best == "application/json"
            and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
        )
    )


def error_response(
    status: int, message: str, template: str = "errors/error.html"
) -> ResponseReturnValue:
    """An error page (or JSON) in the user's language with the request id for support."""
    request_id = getattr(g, "request_id", "")
    if wants_json():
        return jsonify(error=message, status=status, request_id=request_id), status
    return render_template(template, status=status, message=message, request_id=request_id), status


ERROR_MESSAGES = {
    400: lambda: _(
        "The request could not be understood. Please check what you entered and try again."
    ),
    403: lambda: _("You do not have permission to open this page."),
    404: lambda: _("The page you asked for does not exist or is not available to you."),
    405: lambda: _("This action cannot be performed this way."),
    413: lambda: _("What you sent is too large. Please shorten it or send a smaller file."),
    429: lambda: _("Too many attempts. Please wait a little and try again."),
    500: lambda: _("Something went wrong on our side. Please try again in a moment."),
    503: lambda: _("The system is temporarily unavailable. Please try again in a few minutes."),
}


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if status == 403:
        audit.log_event("access.denied", path=request.path)
    # abort(code, description) carries a translated message; Werkzeug's English default does not.
    custom = exc.description if exc.description != type(exc).description else None
    message = custom or ERROR_MESSAGES.get(status, ERROR_MESSAGES[400])()
    response = make_response(error_response(status, message))
    # Keep Retry-After (429) and Allow (405) that the exception carries.
    for name, value in exc.get_headers():
        if name in ("Retry-After", "Allow"):
            response.headers[name] = value
    return response


def _no_scope(exc: PermissionError) -> ResponseReturnValue:
    """A staff account attached to no unit has no part of the tree to see (lms.orgs.services.
    scope_root): every scoped page refuses it, fail closed (AC-08), rather than failing."""
    db.session.rollback()
    audit.log_event("access.denied", path=request.path, reason="no_scope")
    message = _("Your account is not attached to any unit yet: ask an administrator to attach it.")
    return error_response(403, message)


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    audit.log_event("csrf.failed", path=request.path, reason=exc.description)
    return error_response(
        400,
        _(
            "Your form has expired or was sent from another page. Please go back, reload the page "
            "and send it again."
        ),
    )


# A server that cannot be reached, a lock not granted in time, a file that is not a database
# (SQLite reports that as a plain DatabaseError): outages, not bugs. Subclasses such as
# IntegrityError or ProgrammingError are bugs and get the 500 page.
_OUTAGES = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DatabaseError)


def _database_error(exc: sa.exc.DBAPIError) -> ResponseReturnValue:
    if isinstance(exc, sa.exc.DataError):
        # A value the database refuses (out of range, NUL in text) that no check caught:
        # refused input, not an outage. Logged as an error so that the check gets written.
        db.session.rollback()
        log.error("value refused by the database", extra={"event": "db.refused_value"})
        return error_response(400, ERROR_MESSAGES[400]())
    if type(exc) not in _OUTAGES:
        return _server_error(exc)
    forget_connections()
    log.error("database unavailable: %s", type(exc).__name__, extra={"event": "db.unavailable"})
    return error_response(503, ERROR_MESSAGES[503]())


def _server_error(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    db.session.rollback()
    log.exception("unhandled error", extra={"event": "error"})
    return error_response(500, ERROR_MESSAGES[500]())


def safe_next_url(target: str | None) -> str | None:
    """A local path to return to after sign-in, or None for anything that could leave the site."""
    if not target or any(ch in target for ch in "\\\r\n\t\x00"):
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def trusted_html(value: str | None) -> Markup:
    """HTML that lms.markdown rendered at import, sanitised once more on the way out."""
    return Markup(templating.sanitised(value or ""))  # sanitised here  # noqa: S704  # nosec B704
