"""GET /api/v1/statements: completions and quiz results as xAPI statements, for staff (their
subtree) and admins (everything), paged like an LRS (`limit`, `more`, `since`, `until`,
`ascending`)."""

from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from lms import audit
from lms.accounts.permissions import STAFF_ROLES
from lms.progress import xapi

bp = Blueprint("xapi", __name__, cli_group=None)
XAPI_VERSION = "1.0.3"


def _instant(name: str) -> datetime | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(name)
    return value


def _query() -> xapi.Query:
    """The request's filters; ValueError for anything malformed."""
    limit = int(request.args.get("limit", "100") or 100)
    if limit < 0:
        raise ValueError("limit")
    cursor = request.args.get("cursor")
    return xapi.Query(
        limit=limit or xapi.MAX_LIMIT,  # 0 asks for the server's maximum (xAPI §2.1.3)
        ascending=request.args.get("ascending", "false").lower() == "true",
        since=_instant("since"),
        until=_instant("until"),
        cursor=xapi.Cursor.decode(cursor) if cursor else None,
    )


def _more(cursor: xapi.Cursor | None) -> str:
    if cursor is None:
        return ""
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return url_for("xapi.statements", **args, cursor=cursor.encode())


@bp.get("/api/v1/statements")
def statements() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        abort(401, _("Sign in as staff to read statements."))
    if current_user.role not in STAFF_ROLES:
        abort(403)
    try:
        query = _query()
    except ValueError:
        abort(400, _("Invalid parameter: use limit, since, until (ISO 8601 with a time zone), "
                     "ascending or the cursor given in “more”."))  # fmt: skip
    found = xapi.page(current_user, query, current_app.config["BASE_URL"])
    # An export of learning records: logged like every other (EXP-03, LOG-01).
    audit.log_event("statements.read", count=len(found.statements), by=current_user.username)
    response = jsonify(statements=found.statements, more=_more(found.next_cursor))
    response.headers["X-Experience-API-Version"] = XAPI_VERSION
    return response
