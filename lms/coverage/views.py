import os

from flask import (
    Blueprint,
    Response,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wsgi import wrap_file

from lms.accounts.permissions import STAFF_ROLES, require_role
from lms.coverage import dashboard, exports, services
from lms.coverage.services import Context, Params
from lms.db import vn_today

bp = Blueprint("coverage", __name__, cli_group=None)

FORMATS = ("html", "json", "csv", "xlsx")
CONTACT_FORMATS = ("html", "csv")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_BYTES = 64 * 1024


def link(endpoint: str = "coverage.report", **changes: object) -> str:
    """This report's URL with some parameters changed (empty ones dropped)."""
    args: dict[str, object] = {**request.args.to_dict(), **changes}
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in ("", None)})


def _params() -> Params:
    args = request.args
    return Params(
        course=args.get("course", "")[:80],
        org=args.get("org", "")[:40],
        as_of=args.get("as_of", "")[:20],
        sector=args.get("sector", "")[:20],
        responsible=args.get("responsible", "")[:20],
        status=args.get("status", "")[:20],
        q=args.get("q", "")[:100],
        sort=args.get("sort", "")[:20] or "name",
        page=max(1, args.get("page", 1, type=int) or 1),
    )


@bp.get("/reports/coverage")
@require_role(*STAFF_ROLES)
def report() -> ResponseReturnValue:
    params, fmt = _params(), request.args.get("format", "html")
    try:
        if fmt not in FORMATS:
            raise services.CoverageError("bad_filter", value=fmt[:20])
        ctx = services.resolve(current_user, params)
    except services.CoverageError as exc:
        return _refused(exc, fmt, params)
    if fmt == "html":
        return _dashboard(ctx, params)
    _log_export(ctx, fmt)
    if fmt == "json":
        return _json(ctx, params)
    return _csv(ctx, params) if fmt == "csv" else _xlsx(ctx, params)


@bp.get("/reports/coverage/print")
@require_role(*STAFF_ROLES)
def print_report() -> ResponseReturnValue:
    params = _params()
    try:
        ctx = services.resolve(current_user, params)
    except services.CoverageError as exc:
        return _refused(exc, "html", params)
    ids, unit_count = services.printable_ids(ctx, q=params.q, sort=params.sort)
    if ids is not None:  # the units' names leave the dashboard only then
        _log_export(ctx, "print")
    return render_template(
        "coverage/print.html",
        ctx=ctx,
        targets=services.targets(ctx),
        labels=_labels(ctx),
        units=services.every_unit(ctx, sort=params.sort, ids=ids) if ids is not None else None,
        unit_count=unit_count,
        print_limit=services.PRINT_LIMIT,
        title=exports.report_title(ctx),
        link=link,
    )


@bp.get("/reports/coverage/contacts")
@require_role(*STAFF_ROLES)
def contacts() -> ResponseReturnValue:
    """Every chair to contact in the scope, a page at a time (the dashboard shows the first),
    or all of them as a CSV call list."""
    params, fmt = _params(), request.args.get("format", "html")
    try:
        if fmt not in CONTACT_FORMATS:
            raise services.CoverageError("bad_filter", value=fmt[:20])
        ctx = services.resolve(current_user, params)
    except services.CoverageError as exc:
        return _refused(exc, "html", params)
    if fmt == "csv":
        # The call list carries names and phone numbers: logged like the units (EXP-03), and
        # streamed like them, the chairs read 5.000 at a time (EXP-06).
        exports.log_export(ctx, fmt, current_user.username, table="contacts")
        return Response(
            stream_with_context(line.encode("utf-8") for line in exports.contact_lines(ctx)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{_contacts_filename(ctx)}"'},
        )
    found = dashboard.laggards(ctx, page=params.page, per_page=dashboard.LAGGARDS_PER_PAGE)
    return render_template("coverage/contacts.html", ctx=ctx, laggards=found, link=link)


def _labels(ctx: Context) -> dict[str, str]:
    return {key: exports.target_label(key, ctx) for key in services.TARGETS}


def _refused(exc: services.CoverageError, fmt: str, params: Params) -> ResponseReturnValue:
    text = services.message(exc)
    if fmt == "json":
        return jsonify(error=text, status=exc.status), exc.status
    page = render_template(
        "coverage/refused.html", error=text, params=params, status_labels=exports.STATUS_LABELS
    )
    return page, exc.status


def _log_export(ctx: Context, fmt: str) -> None:
    """Every form in which the units leave the dashboard carries names: logged (EXP-03)."""
    exports.log_export(ctx, fmt, current_user.username)


def _dashboard(ctx: Context, params: Params) -> ResponseReturnValue:
    found = services.targets(ctx)
    modules = dashboard.counted_modules(ctx)
    return render_template(
        "coverage/dashboard.html",
        ctx=ctx,
        params=params,
        targets=found,
        labels=_labels(ctx),
        units=services.unit_page(
            ctx,
            q=params.q,
            sort=params.sort,
            page=params.page,
            per_page=services.PAGE_ON_SCREEN,
        ),
        units_per_page=services.PAGE_ON_SCREEN,
        laggards=dashboard.laggards(ctx, per_page=dashboard.LAGGARDS_SHOWN),
        funnel=dashboard.funnel(ctx, found, modules),
        chart=dashboard.chart(ctx, found),
        status_labels=exports.STATUS_LABELS,
        link=link,
    )


def _json(ctx: Context, params: Params) -> ResponseReturnValue:
    found = services.targets(ctx)
    units = None
    if request.args.get("summary") != "1":
        units = services.unit_page(
            ctx, q=params.q, sort=params.sort, page=params.page, per_page=services.PER_PAGE
        )
    return jsonify(services.report_json(ctx, found, units))


def _filename(ctx: Context, extension: str) -> str:
    scope = ctx.root.code if ctx.root is not None else "toan-bo"
    return f"bao-cao-bao-phu_{ctx.course.slug}_{scope}_{ctx.as_of.isoformat()}.{extension}"


def _contacts_filename(ctx: Context) -> str:
    scope = ctx.root.code if ctx.root is not None else "toan-bo"
    return f"can-lien-he_{ctx.course.slug}_{scope}_{vn_today().isoformat()}.csv"


def _csv(ctx: Context, params: Params) -> ResponseReturnValue:
    # Streamed (EXP-06): units are read 5.000 at a time and sent as they are written, so a
    # national export never sits whole in memory. The rows need the request's contexts
    # (database session, language), which stream_with_context keeps for the generator.
    lines = exports.csv_lines(ctx, exports.iter_units(ctx, q=params.q, sort=params.sort))
    return Response(
        stream_with_context(line.encode("utf-8") for line in lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(ctx, "csv")}"'},
    )


def _xlsx(ctx: Context, params: Params) -> ResponseReturnValue:
    # Built in a temporary file (units read 5.000 at a time), then sent from it 64 KiB at a
    # time (or by the server's sendfile): the worker never holds the workbook (EXP-06). The
    # response closes the file when it is done, which deletes it.
    units = exports.iter_units(ctx, q=params.q, sort=params.sort)
    book = exports.xlsx_file(ctx, services.targets(ctx), units)
    response = Response(
        wrap_file(request.environ, book, buffer_size=CHUNK_BYTES),
        mimetype=XLSX,
        direct_passthrough=True,
        headers={"Content-Disposition": f'attachment; filename="{_filename(ctx, "xlsx")}"'},
    )
    response.content_length = os.fstat(book.fileno()).st_size
    return response
