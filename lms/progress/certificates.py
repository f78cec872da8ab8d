"""Certificates: issued from standing completions, shown to their owner, verified by anyone."""

import base64
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, make_response, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import orm

from lms import audit
from lms.accounts.models import User
from lms.catalog.models import Module, ModuleKind, ModuleStatus
from lms.db import db
from lms.progress.models import Certificate, Completion

bp = Blueprint("certificates", __name__, cli_group=None)


# -- services ---------------------------------------------------------------------------------


def issue_certificates(user: User, module: Module) -> list[Certificate]:
    """Issue the module's certificate and, once every published core module of its course has a
    standing completion, the course's; return only the certificates issued by this call."""
    # One issuer per person at a time (PostgreSQL row lock; SQLite serialises writers anyway),
    # so two completions committed together still see each other and yield one course certificate.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    done = _standing_dates(user.id, module.course_id)
    if module.id not in done:
        return []
    issued = []
    if _find(user.id, module.course_id, module.id) is None:
        issued.append(_issue(user.id, module.course_id, module.id, done[module.id]))
    core = _published_core_ids(module.course_id)
    if core and core <= done.keys() and _find(user.id, module.course_id, None) is None:
        issued.append(_issue(user.id, module.course_id, None, max(done[m] for m in core)))
    db.session.flush()
    for cert in issued:
        audit.log_event("certificate.issued", user=user.id, code=cert.code, module=cert.module_id)
    return issued


def certificates_of(user: User) -> list[Certificate]:
    """The learner's standing certificates, newest first, with course and module loaded."""
    certs = db.session.scalars(_CERTIFICATES_OF, {"user_id": user.id}).all()
    if not certs:
        return []
    rows = _completion_rows(user.id, {c.course_id for c in certs})
    return [c for c in certs if _stands_on(c, rows)]


def get_by_code(code: str) -> Certificate | None:
    """The certificate with this code (typed in any case, spaces trimmed), or None."""
    code = code.strip().upper()
    if not code or len(code) > 16:
        return None
    return db.session.scalars(
        _loaded(sa.select(Certificate)).where(Certificate.code == code)
    ).one_or_none()


def get_owned(user: User, code: str) -> Certificate | None:
    """The certificate with this code if it belongs to the user; None for anyone else's."""
    cert = get_by_code(code)
    return cert if cert is not None and cert.user_id == user.id else None


def stands(cert: Certificate) -> bool:
    """A certificate falls when a completion it rests on is revoked and not replaced; a core
    module published after a course certificate was issued does not take that certificate away."""
    return _stands_on(cert, _completion_rows(cert.user_id, {cert.course_id}))


def _completion_rows(user_id: int, course_ids: set[int]) -> list[sa.Row]:
    """The person's completions in these courses, revoked ones too: one query for a whole list
    of certificates."""
    return db.session.execute(
        sa.select(Completion.module_id, Completion.revoked_dt, Module.course_id, Module.kind)
        .join(Module, Module.id == Completion.module_id)
        .where(Completion.user_id == user_id, Module.course_id.in_(course_ids))
    ).all()


def _stands_on(cert: Certificate, rows: list[sa.Row]) -> bool:
    mine = [
        r
        for r in rows
        if r.course_id == cert.course_id
        and (r.kind == ModuleKind.CORE if cert.module_id is None else r.module_id == cert.module_id)
    ]
    standing = {r.module_id for r in mine if r.revoked_dt is None}
    return bool(standing) and all(r.module_id in standing for r in mine)


def _standing_dates(user_id: int, course_id: int) -> dict[int, datetime]:
    rows = db.session.execute(
        sa.select(Completion.module_id, Completion.completed_dt)
        .join(Module, Module.id == Completion.module_id)
        .where(Completion.user_id == user_id, Module.course_id == course_id)
        .where(Completion.revoked_dt.is_(None))
    ).all()
    return {module_id: completed for module_id, completed in rows}


def _published_core_ids(course_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Module.id).where(
                Module.course_id == course_id,
                Module.kind == ModuleKind.CORE,
                Module.status == ModuleStatus.PUBLISHED,
            )
        )
    )


def _find(user_id: int, course_id: int, module_id: int | None) -> Certificate | None:
    return db.session.scalars(
        sa.select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.course_id == course_id,
            Certificate.module_id.is_(None)
            if module_id is None
            else Certificate.module_id == module_id,
        )
    ).first()


def _issue(user_id: int, course_id: int, module_id: int | None, when: datetime) -> Certificate:
    # Dated by the completion it records: a class attended in 2021 and imported later is a
    # certificate of 2021, and re-issuing never moves the date.
    cert = Certificate(user_id=user_id, course_id=course_id, module_id=module_id, issued_dt=when)
    db.session.add(cert)
    return cert


def _loaded(query: sa.Select) -> sa.Select:
    return query.options(
        orm.joinedload(Certificate.user),
        orm.joinedload(Certificate.course),
        orm.joinedload(Certificate.module),
    )


# Built once (the learner's home page runs it on every visit); bound per person.
_CERTIFICATES_OF = (
    _loaded(sa.select(Certificate))
    .where(Certificate.user_id == sa.bindparam("user_id"))
    .order_by(Certificate.issued_dt.desc(), Certificate.id.desc())
)


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateView:
    """What a certificate page shows, already normalised for display (names NFC)."""

    cert: Certificate
    name: str
    course_title: str
    module_title: str | None
    verify_url: str
    standing: bool


def present(cert: Certificate) -> CertificateView:
    """The display data of a certificate; never the phone, unit or username."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return CertificateView(
        cert=cert,
        name=_nfc(cert.user.full_name),
        course_title=_nfc(cert.course.title),
        module_title=_nfc(cert.module.title) if cert.module is not None else None,
        verify_url=base + url_for("certificates.verify", code=cert.code),
        standing=stands(cert),
    )


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI, usable in a page (CSP allows data: images) and a PDF."""
    import qrcode  # here, not at start: only slips and certificates draw one
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# WeasyPrint (with Pango) is imported where a PDF is made, not at start: it adds about 40 MB
# and 0.7 s to every worker, and most workers never render a certificate.


def pdf_fetcher():  # type: ignore[no-untyped-def]
    """Only data: URLs: no file://, no http(s) (WeasyPrint would otherwise read local files)."""
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)


def render_pdf(html: str) -> bytes:
    """Render HTML to PDF with nothing fetched from disk or the network."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=pdf_fetcher()).write_pdf()


def attachment_header(name: str, extension: str) -> str:
    """RFC 6266 attachment: an ASCII fallback plus the UTF-8 name; no quotes, CR or LF leak."""
    clean = _nfc(" ".join(name.split()))[:120]
    plain = unicodedata.normalize("NFKD", clean.replace("Đ", "D").replace("đ", "d"))
    ascii_name = re.sub(r"[^A-Za-z0-9]+", "-", plain.encode("ascii", "ignore").decode()).strip("-")
    fallback = f"{ascii_name or 'download'}.{extension}"
    encoded = quote(f"{clean}.{extension}", safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# -- views ------------------------------------------------------------------------------------


def _owned_or_404(code: str) -> Certificate:
    # Someone else's certificate answers exactly like a code that does not exist (AC-02).
    return get_owned(current_user, code) or abort(404)


@bp.get("/certificates/<code>")
@login_required
def show(code: str) -> ResponseReturnValue:
    view = present(_owned_or_404(code))
    return render_template("progress/certificate.html", c=view, qr=qr_data_uri(view.verify_url))


@bp.get("/certificates/<code>.pdf")
@login_required
def pdf(code: str) -> ResponseReturnValue:
    view = present(_owned_or_404(code))
    if not view.standing:
        abort(404)
    html = render_template("progress/certificate_pdf.html", c=view, qr=qr_data_uri(view.verify_url))
    response = make_response(render_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    title = view.module_title or view.course_title
    response.headers["Content-Disposition"] = attachment_header(
        " - ".join((_("Certificate"), title, view.cert.code)), "pdf"
    )
    return response


@bp.get("/verify/<code>")
def verify(code: str) -> ResponseReturnValue:
    cert = get_by_code(code)
    view = present(cert) if cert is not None else None
    response = make_response(render_template("progress/verify.html", c=view), 200 if view else 404)
    # A person's name behind an unguessable code: keep it out of search engines.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
