"""Invitations and reset links: single-use, expiring secrets that let one person set a password.

Each invitation has two secrets: a long token for the link (shared by Zalo or SMS) and a short
code to type at /invite (printed on a slip). Only their SHA-256 hashes are stored, so neither
can be read back from the database; a new invitation for a person revokes the older ones.
"""

import base64
import hashlib
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts import services
from lms.accounts.models import Invitation, InvitationKind, LoginFailure, User
from lms.db import db, utcnow

# No 0/O or 1/I: the code is read off paper and typed on a phone. 32**10 is about 10**15.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
# Failed code entries are counted in the sign-in throttling table under this account name,
# which no username or phone can take.
THROTTLE_ACCOUNT = "#invite-code"


class InvitationError(ValueError):
    """The link or code cannot be used; `code` says why, `status` is the HTTP answer."""

    STATUS = {"unknown": 404, "used": 410, "expired": 410, "revoked": 410, "disabled": 403}

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.status = self.STATUS[code]


MESSAGES = {
    "unknown": _l(
        "This sign-in link or code is not valid. Check that it was copied or typed in full, "
        "or ask your federation staff for a new one."
    ),
    "used": _l(
        "This sign-in link has already been used. Sign in with your password, or ask your "
        "federation staff for a new link."
    ),
    "expired": _l("This sign-in link has expired. Ask your federation staff for a new one."),
    "revoked": _l(
        "This sign-in link was replaced by a newer one. Use the newest link or slip you received."
    ),
    "disabled": _l("This account is disabled. Contact your federation staff."),
}


def message(error: InvitationError) -> str:
    return str(MESSAGES[error.code])


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation with its secrets, which exist only in this object (shown once)."""

    invitation: Invitation
    token: str
    code: str

    @property
    def link(self) -> str:
        return f"{current_app.config['BASE_URL'].rstrip('/')}/invite/{self.token}"

    @property
    def code_display(self) -> str:
        return f"{self.code[:5]}-{self.code[5:]}"

    @property
    def qr(self) -> str:
        return qr_data_uri(self.link)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-.]", "", text or "").upper()


def issue(user: User, *, by: User | None) -> IssuedInvitation:
    """A new invitation (or reset link, when the person has a password) for one person."""
    return issue_many([user], by=by)[0]


def issue_many(users: Sequence[User], *, by: User | None) -> list[IssuedInvitation]:
    """New invitations for many people at once; any older open invitation of theirs is revoked."""
    now = utcnow()
    expires = now + timedelta(days=int(current_app.config["INVITATION_DAYS"]))
    ids = [u.id for u in users]
    for start in range(0, len(ids), 5000):
        db.session.execute(
            sa.update(Invitation)
            .where(
                Invitation.user_id.in_(ids[start : start + 5000]),
                Invitation.used_dt.is_(None),
                Invitation.revoked_dt.is_(None),
            )
            .values(revoked_dt=now)
        )
    issued = [_new_invitation(user, by, now, expires) for user in users]
    db.session.add_all(i.invitation for i in issued)
    db.session.flush()
    audit.log_event(
        "invitation.issued", count=len(issued), by=by.username if by else "cli",
        account=users[0].username if len(users) == 1 else "-",
    )  # fmt: skip
    return issued


def _new_invitation(user: User, by: User | None, now: datetime, expires: datetime):  # type: ignore[no-untyped-def]
    token, code = secrets.token_urlsafe(32), _new_code()
    invitation = Invitation(
        user_id=user.id,
        kind=InvitationKind.INVITE if user.password_hash is None else InvitationKind.RESET,
        token_hash=_hash(token),
        code_hash=_hash(code),
        created_by_id=by.id if by else None,
        created_dt=now,
        expires_dt=expires,
    )
    return IssuedInvitation(invitation, token, code)


def _check_usable(invitation: Invitation | None, now: datetime) -> Invitation:
    if invitation is None:
        raise InvitationError("unknown")
    if invitation.used_dt is not None:
        raise InvitationError("used")
    if invitation.revoked_dt is not None:
        raise InvitationError("revoked")
    if invitation.expires_dt <= now:
        raise InvitationError("expired")
    if not invitation.user.active:
        raise InvitationError("disabled")
    return invitation


def find_by_token(token: str) -> Invitation:
    """The usable invitation behind a link's token; InvitationError says why not."""
    invitation = None
    if token and len(token) <= 100:
        invitation = db.session.scalars(
            sa.select(Invitation).where(Invitation.token_hash == _hash(token))
        ).first()
    return _check_usable(invitation, utcnow())


def find_by_code(text: str, ip: str) -> Invitation:
    """The usable invitation behind a typed code; failures count towards a per-address limit."""
    now = utcnow()
    check_code_throttle(ip, now)
    code = normalise_code(text)
    invitation = None
    if CODE_RE.fullmatch(code):
        # Codes may repeat across years: prefer the newest, which is the one that can work.
        invitation = db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.code_hash == _hash(code))
            .order_by(Invitation.id.desc())
        ).first()
    try:
        return _check_usable(invitation, now)
    except InvitationError:
        db.session.add(LoginFailure(account=THROTTLE_ACCOUNT, ip=ip[:64], created_dt=now))
        audit.log_event("invitation.code_failed")
        raise


def check_code_throttle(ip: str, now: datetime) -> None:
    """Raise Throttled after too many wrong codes from one address within the sign-in window."""
    cfg = current_app.config
    window = timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    count, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(LoginFailure.created_dt)).where(
            LoginFailure.account == THROTTLE_ACCOUNT,
            LoginFailure.ip == ip[:64],
            LoginFailure.created_dt >= now - window,
        )
    ).one()
    if count >= cfg["INVITE_CODE_MAX_FAILURES"]:
        audit.log_event("invitation.throttled")
        wait = int((services._aware(oldest) + window - now).total_seconds()) + 1
        raise services.Throttled(max(wait, 1))


def pending(invitation_id: object) -> Invitation | None:
    """The invitation a browser opened earlier (its id kept in the signed session), if usable."""
    if not isinstance(invitation_id, int):
        return None
    try:
        return _check_usable(db.session.get(Invitation, invitation_id), utcnow())
    except InvitationError:
        return None


def accept(invitation: Invitation, password: str) -> User:
    """Set the person's password and use the invitation up; every earlier session ends."""
    user = invitation.user
    services.validate_new_password(user, password)
    now = utcnow()
    # One conditional UPDATE: of two simultaneous submissions, only one can use the link.
    used = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_dt.is_(None))
        .values(used_dt=now)
    ).rowcount
    if used != 1:
        raise InvitationError("used")
    services.set_password(user, password)
    ended = services.end_other_sessions(user, None)
    audit.log_event(
        "invitation.used", account=user.username, kind=invitation.kind.value, sessions_ended=ended
    )
    return user


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the page's CSP allows data: images)."""
    import qrcode  # here, not at start: only slips and certificates draw one
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
