"""Live sessions: scheduling, who they are for (LIVE-01), joins and confirmed attendance.

Services add and flush, never commit: the view or command commits once. Progress is never
imported: confirming attendance sends `signals.attendance_confirmed`, which progress receives.
"""

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.models import Role, User
from lms.authoring.services import can_edit
from lms.catalog.models import Course, CourseTrainer, Module
from lms.db import db, read_columns, utcnow
from lms.live import calendar
from lms.live.models import Attendance, LiveAudience, LiveSession
from lms.live.providers import PROVIDERS, Join, LinkError, LiveSettings, get_provider
from lms.live.signals import attendance_confirmed, attendance_withdrawn
from lms.orgs.models import Officer, Organization
from lms.orgs.services import get_org_by_code, scope_root

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE_MAX = 300
MINUTES_MIN = 15
MINUTES_MAX = 600
CONFIRM_VIA = ("list", "csv")


class LiveError(ValueError):
    """A rule about live sessions was broken; `code` names it, `params` fill its message."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


MESSAGES = {
    "forbidden": _l("Only the course's trainers and administrators may do this."),
    "bad_title": _l("Title: please enter a title of at most 300 characters."),
    "bad_minutes": _l("Duration: enter a whole number of minutes between 15 and 600."),
    "bad_start": _l("Start: enter a date and time (YYYY-MM-DD HH:MM, Vietnam time)."),
    "unknown_provider": _l("Provider: unknown provider “%(value)s”."),
    "unknown_org": _l("Audience: there is no unit with the code “%(value)s”."),
    "trainer_not_allowed": _l("Trainer: “%(value)s” is not a trainer of this course."),
    "missing_url": _l("Link: please paste the meeting link."),
    "not_https": _l("Link: the meeting link must start with https://."),
    "bad_google_meet": _l("Link: this is not a Google Meet link (https://meet.google.com/…)."),
    "host_not_allowed": _l("Link: links to this site are not allowed."),
    "bad_url": _l("Link: the meeting link is malformed."),
    "not_in_audience": _l("This live session is not for your unit."),
    "outside_audience": _l(
        "%(name)s is not in the audience of this live session: their attendance cannot be "
        "confirmed."
    ),
    "cancelled": _l("This live session has been cancelled."),
    "has_attendance": _l(
        "Attendance has been confirmed at this session: it can no longer be cancelled."
    ),
    "unknown_user": _l("There is no account with the id %(value)s."),
    "bad_via": _l("Unknown confirmation method “%(value)s”."),
    "csv_too_large": _l("The attendance file is too large (at most 2 MB)."),
    "csv_encoding": _l("The attendance file must be a CSV file saved as UTF-8."),
    "csv_empty": _l("The attendance file is empty."),
    "csv_no_columns": _l(
        "The attendance file has no username, phone or email column "
        "(e.g. ten_dang_nhap, dien_thoai, email)."
    ),
    # Reasons for an unmatched CSV row.
    "row_empty": _l("No username, phone or email on this row."),
    "row_not_found": _l("No account matches this row."),
    "row_ambiguous": _l("Several accounts share this email; use the username or phone."),
    "row_outside_audience": _l("This person is not in the audience of this session."),
}


def message(error: LiveError) -> str:
    """The translated sentence for a LiveError."""
    text = str(MESSAGES[error.code])
    return text % error.params if error.params else text


# ---- scheduling ----------------------------------------------------------------------------


def to_utc(start_local: datetime) -> datetime:
    """A Vietnam wall-clock time (naive) as an aware UTC datetime; aware values are converted."""
    if start_local.tzinfo is None:
        start_local = start_local.replace(tzinfo=VN)
    return start_local.astimezone(UTC)


def may_manage(actor: User | None, session_or_module: LiveSession | Module) -> bool:
    """The command line (None), admins, the session's trainer and the course's trainers."""
    if actor is None:
        return True
    if isinstance(session_or_module, LiveSession):
        if actor.id == session_or_module.trainer_id and actor.role in (Role.TRAINER, Role.ADMIN):
            return True
        module = db.session.get(Module, session_or_module.module_id)
    else:
        module = session_or_module
    return module is not None and can_edit(actor, module.course_id)


def schedule(
    actor: User | None,
    module: Module,
    *,
    title: str,
    start_local: datetime,
    minutes: int,
    provider: str,
    url: str | None = None,
    notes: str = "",
    audience_codes: Iterable[str] = (),
    trainer: User | None = None,
    covers_module: bool = False,
    settings: LiveSettings,
) -> LiveSession:
    """Add a live session for `module`; `actor` None means the command line (trusted)."""
    if not may_manage(actor, module):
        raise LiveError("forbidden")
    title = _clean_title(title)
    _check_when(start_local, minutes)
    if provider not in PROVIDERS:
        raise LiveError("unknown_provider", value=provider)
    if trainer is None and actor is not None and actor.role == Role.TRAINER:
        trainer = actor
    if trainer is not None and (
        trainer.role not in (Role.TRAINER, Role.ADMIN) or not can_edit(trainer, module.course_id)
    ):
        raise LiveError("trainer_not_allowed", value=trainer.username)
    orgs = _audience_orgs(audience_codes)
    course_slug = db.session.scalar(sa.select(Course.slug).where(Course.id == module.course_id))
    try:
        location = get_provider(provider).prepare(title, course_slug or "", url or "", settings)
    except LinkError as exc:
        raise LiveError(exc.code) from exc
    session = LiveSession(
        module_id=module.id,
        title=title,
        start_dt=to_utc(start_local),
        minutes=minutes,
        provider=provider,
        location=location,
        notes=(notes or "").strip(),
        trainer_id=trainer.id if trainer else None,
        covers_module=bool(covers_module),
    )
    db.session.add(session)
    db.session.flush()
    for org in orgs:
        db.session.add(LiveAudience(session_id=session.id, org_id=org.id))
    db.session.flush()
    return session


def _clean_title(title: str) -> str:
    title = unicodedata.normalize("NFC", title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise LiveError("bad_title")
    return title


def _check_when(start_local: datetime, minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise LiveError("bad_minutes")
    if not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise LiveError("bad_minutes")
    if not isinstance(start_local, datetime):
        raise LiveError("bad_start")


def _audience_orgs(codes: Iterable[str]) -> list[Organization]:
    orgs: list[Organization] = []
    for code in dict.fromkeys(c.strip() for c in codes if c and c.strip()):
        org = get_org_by_code(code)
        if org is None:
            raise LiveError("unknown_org", value=code)
        orgs.append(org)
    return orgs


def audience_of(session: LiveSession) -> list[str]:
    """The codes of the units the session is for (empty: everyone), sorted."""
    return list(
        db.session.scalars(
            sa.select(Organization.code)
            .join(LiveAudience, LiveAudience.org_id == Organization.id)
            .where(LiveAudience.session_id == session.id)
            .order_by(Organization.code)
        )
    )


def update(
    actor: User | None,
    session: LiveSession,
    *,
    title: str,
    start_local: datetime,
    minutes: int,
    url: str | None = None,
    notes: str = "",
    audience_codes: Iterable[str] = (),
    covers_module: bool = False,
    settings: LiveSettings,
) -> LiveSession:
    """Change a session's details. The provider stays (a Jitsi room keeps its name, so links
    already shared still work); a Google Meet or other link may be replaced."""
    if not may_manage(actor, session):
        raise LiveError("forbidden")
    if session.cancelled_dt is not None:
        raise LiveError("cancelled")
    session.title = _clean_title(title)
    _check_when(start_local, minutes)
    orgs = _audience_orgs(audience_codes)
    if session.provider != "jitsi" and (url or "").strip() != session.location:
        try:
            session.location = get_provider(session.provider).prepare(
                session.title, "", url or "", settings
            )
        except LinkError as exc:
            raise LiveError(exc.code) from exc
    session.start_dt = to_utc(start_local)
    session.minutes = minutes
    session.notes = (notes or "").strip()
    session.covers_module = bool(covers_module)
    db.session.execute(sa.delete(LiveAudience).where(LiveAudience.session_id == session.id))
    for org in orgs:
        db.session.add(LiveAudience(session_id=session.id, org_id=org.id))
    db.session.flush()
    return session


def cancel(actor: User | None, session: LiveSession, *, now: datetime | None = None) -> None:
    """Cancel a session nobody has been confirmed at; its page then says so and joins stop."""
    if not may_manage(actor, session):
        raise LiveError("forbidden")
    if session.cancelled_dt is not None:
        return
    confirmed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Attendance)
        .where(Attendance.session_id == session.id, Attendance.confirmed_dt.is_not(None))
    )
    if confirmed:
        raise LiveError("has_attendance")
    session.cancelled_dt = now or utcnow()
    db.session.flush()


def get_session(session_id: int) -> LiveSession | None:
    return db.session.get(LiveSession, session_id)


def get_session_by_public_id(public_id: str) -> LiveSession | None:
    return db.session.scalars(
        sa.select(LiveSession).where(LiveSession.public_id == public_id)
    ).first()


# ---- who a session is for (LIVE-01) --------------------------------------------------------


def _user_paths(user: User) -> list[str]:
    """Paths of the user's own unit and of every union where they hold a current position."""
    return _paths_of([user.id]).get(user.id, [])


def _paths_of(user_ids: list[int]) -> dict[int, list[str]]:
    """`_user_paths` of several people in one statement."""
    own = (
        sa.select(User.id, Organization.path)
        .join(Organization, Organization.id == User.org_id)
        .where(User.id.in_(user_ids))
    )
    held = (
        sa.select(Officer.user_id, Organization.path)
        .join(Organization, Organization.id == Officer.org_id)
        .where(Officer.user_id.in_(user_ids), Officer.ended_on.is_(None))
    )
    found: dict[int, list[str]] = {}
    for user_id, path in read_columns(sa.union_all(own, held), {}):
        found.setdefault(user_id, []).append(path)
    return found


def outside_audience(session: LiveSession, users: list[User]) -> list[User]:
    """The people among `users` the session is not for: nobody confirms their attendance,
    so a trainer cannot complete a module for another district by sending its ids."""
    audience = _audience_paths([session.id]).get(session.id)
    if not audience or not users:
        return []
    paths = _paths_of([u.id for u in users])
    return [
        u
        for u in users
        if not _always_allowed(u, session) and not _covers(audience, paths.get(u.id, []))
    ]


def _audience_paths(session_ids: list[int]) -> dict[int, list[str]]:
    """The audience units' paths of each session (sessions for everyone are absent)."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(LiveAudience.session_id, Organization.path)
        .join(Organization, Organization.id == LiveAudience.org_id)
        .where(LiveAudience.session_id.in_(session_ids))
    )
    found: dict[int, list[str]] = {}
    for session_id, path in rows:
        found.setdefault(session_id, []).append(path)
    return found


def _covers(audience: list[str] | None, user_paths: list[str]) -> bool:
    if not audience:
        return True
    return any(p.startswith(a) for a in audience for p in user_paths)


def _always_allowed(user: User, session: LiveSession) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.TRAINER:
        return user.id == session.trainer_id or may_manage(user, session)
    return False


def in_audience(user: User, session: LiveSession) -> bool:
    """True when the session is for this signed-in user (or they run it, or are an admin)."""
    if user is None or not getattr(user, "is_active", True):
        return False
    if _always_allowed(user, session):
        return True
    audience = _audience_paths([session.id]).get(session.id)
    if not audience:
        return True
    return _covers(audience, _user_paths(user))


# Built once: learners' home and module pages run them on every request.
_UPCOMING = (
    sa.select(LiveSession)
    .where(LiveSession.cancelled_dt.is_(None), LiveSession.start_dt > sa.bindparam("since"))
    .order_by(LiveSession.start_dt, LiveSession.id)
)
_UPCOMING_OF_MODULE = _UPCOMING.where(LiveSession.module_id == sa.bindparam("module_id"))


def upcoming_for(
    user: User, *, module: Module | None = None, now: datetime | None = None, limit: int = 10
) -> list[LiveSession]:
    """Sessions not cancelled and not yet over that are for this user, soonest first.

    Three queries whatever the number of sessions: the user's units, the candidate sessions,
    and the audiences of those sessions."""
    now = now or utcnow()
    # Longest possible session: anything that started earlier is over.
    params: dict = {"since": now - timedelta(minutes=MINUTES_MAX)}
    stmt = _UPCOMING
    if module is not None:
        stmt, params["module_id"] = _UPCOMING_OF_MODULE, module.id
    found = db.session.scalars(stmt, params)
    candidates = [s for s in found if s.start_dt + timedelta(minutes=s.minutes) > now]
    if not candidates:
        return []
    audiences = _audience_paths([s.id for s in candidates])
    if user.role == Role.ADMIN:
        return candidates[:limit]
    paths = _user_paths(user)
    chosen = []
    for session in candidates:
        if _covers(audiences.get(session.id), paths) or user.id == session.trainer_id:
            chosen.append(session)
            if len(chosen) >= limit:
                break
    return chosen


def _staff_sees(audience: list[str] | None, scope_path: str | None) -> bool:
    """Staff see a session for everyone, for units inside their scope, or for a unit above it."""
    if not audience or scope_path is None:
        return True
    return any(a.startswith(scope_path) or scope_path.startswith(a) for a in audience)


def may_share(user: User, session: LiveSession) -> bool:
    """Who may see a session's page and share its announcement: its managers, and staff whose
    part of the tree the session concerns."""
    if may_manage(user, session):
        return True
    if user.role != Role.STAFF:
        return False
    try:
        root = scope_root(user)
    except PermissionError:
        return False
    audience = _audience_paths([session.id]).get(session.id)
    return _staff_sees(audience, root.path if root else None)


def sessions_for(
    user: User, *, now: datetime | None = None, recent_days: int = 30
) -> tuple[list[LiveSession], list[LiveSession]]:
    """(upcoming, recently ended) sessions for the live page: learners see theirs; trainers
    the sessions of their courses; staff those that concern their scope; admins all."""
    now = now or utcnow()
    if user.role == Role.LEARNER:
        return upcoming_for(user, now=now, limit=100), []
    stmt = (
        sa.select(LiveSession)
        .where(LiveSession.start_dt > now - timedelta(days=recent_days))
        .order_by(LiveSession.start_dt, LiveSession.id)
    )
    if user.role == Role.TRAINER:
        taught = sa.select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)
        modules = sa.select(Module.id).where(Module.course_id.in_(taught))
        stmt = stmt.where(
            sa.or_(LiveSession.module_id.in_(modules), LiveSession.trainer_id == user.id)
        )
    found = list(db.session.scalars(stmt))
    if user.role == Role.STAFF:
        try:
            root = scope_root(user)
        except PermissionError:
            return [], []
        audiences = _audience_paths([s.id for s in found])
        found = [s for s in found if _staff_sees(audiences.get(s.id), root.path if root else None)]
    upcoming = [s for s in found if s.start_dt + timedelta(minutes=s.minutes) > now]
    recent = [s for s in reversed(found) if s.start_dt + timedelta(minutes=s.minutes) <= now]
    return upcoming, recent


# ---- joining and attendance ----------------------------------------------------------------


def _attendance_row(session_id: int, user_id: int) -> Attendance:
    """The person's Attendance row, created if missing (safe against a concurrent insert)."""
    stmt = sa.select(Attendance).where(
        Attendance.session_id == session_id, Attendance.user_id == user_id
    )
    row = db.session.scalars(stmt).first()
    if row is not None:
        return row
    with db.session.begin_nested() as nested:
        row = Attendance(session_id=session_id, user_id=user_id, join_count=0)
        db.session.add(row)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            nested.rollback()  # another request created it first: use that one
            row = None
    if row is None:
        row = db.session.scalars(stmt).one()
    return row


def is_moderator(user: User, session: LiveSession) -> bool:
    return user.role == Role.ADMIN or (
        session.trainer_id is not None and user.id == session.trainer_id
    )


def join_link(
    user: User, session: LiveSession, settings: LiveSettings, *, now: datetime | None = None
) -> Join:
    """How this user would join (a per-person token for a self-hosted Jitsi), recording nothing.

    Raises LiveError "not_in_audience" (LIVE-01) or "cancelled"."""
    if session.cancelled_dt is not None:
        raise LiveError("cancelled")
    if not in_audience(user, session):
        raise LiveError("not_in_audience")
    return get_provider(session.provider).join(
        session.location, user, settings, moderator=is_moderator(user, session), now=now or utcnow()
    )


def join(
    user: User, session: LiveSession, settings: LiveSettings, *, now: datetime | None = None
) -> Join:
    """`join_link`, and the join recorded server-side (first join time, one more join)."""
    now = now or utcnow()
    result = join_link(user, session, settings, now=now)
    row = _attendance_row(session.id, user.id)
    if row.first_join_dt is None:
        row.first_join_dt = now
    row.join_count = Attendance.join_count + 1  # atomic in SQL: concurrent joins both count
    db.session.flush()
    return result


def attendance_of(session: LiveSession) -> list[tuple[Attendance, User]]:
    """Everyone recorded at the session (joined or confirmed), by name."""
    return list(
        db.session.execute(
            sa.select(Attendance, User)
            .join(User, User.id == Attendance.user_id)
            .where(Attendance.session_id == session.id)
            .order_by(User.full_name, User.id)
        ).all()
    )


def confirm_attendance(
    actor: User | None,
    session: LiveSession,
    user_ids: Iterable[int],
    *,
    via: str = "list",
    now: datetime | None = None,
) -> int:
    """Confirm these people attended; returns how many were newly confirmed.

    Rows are created for people who never clicked join. Already confirmed people are left as
    they are, and nobody is un-confirmed here. `attendance_confirmed` is sent once per newly
    confirmed person, inside this transaction."""
    if not may_manage(actor, session):
        raise LiveError("forbidden")
    if via not in CONFIRM_VIA:
        raise LiveError("bad_via", value=via)
    if session.cancelled_dt is not None:
        raise LiveError("cancelled")
    ids = list(dict.fromkeys(int(i) for i in user_ids))
    if not ids:
        return 0
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    for user_id in ids:
        if user_id not in users:
            raise LiveError("unknown_user", value=user_id)
    outside = outside_audience(session, [users[i] for i in ids])
    if outside:
        raise LiveError("outside_audience", name=outside[0].full_name)
    now = now or utcnow()
    existing = {
        a.user_id: a
        for a in db.session.scalars(
            sa.select(Attendance).where(
                Attendance.session_id == session.id, Attendance.user_id.in_(ids)
            )
        )
    }
    newly: list[User] = []
    for user_id in ids:
        row = existing.get(user_id) or _attendance_row(session.id, user_id)
        if row.confirmed_dt is not None:
            continue
        row.confirmed_dt = now
        row.confirmed_by_id = actor.id if actor else None
        row.confirmed_via = via
        newly.append(users[user_id])
    db.session.flush()
    module = db.session.get(Module, session.module_id)
    for user in newly:
        attendance_confirmed.send(
            session, user=user, module=module, covers_module=session.covers_module,
            when=attended_at(session, now),
        )  # fmt: skip
    return len(newly)


def attended_at(session: LiveSession, now: datetime) -> datetime:
    """When attending counts as done: the session's end, as a class counts on its own day
    however late it is confirmed (COMP-06); `now` for a confirmation made before the end."""
    return min(session.start_dt + timedelta(minutes=session.minutes), now)


def withdraw_attendance(actor: User, session: LiveSession, user_id: int) -> bool:
    """Undo a confirmation made by mistake; False when the person was not confirmed.

    The join history stays. `attendance_withdrawn` lets progress take back a completion that
    rested on this attendance alone."""
    if not may_manage(actor, session):
        raise LiveError("forbidden")
    row = db.session.scalars(
        sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.user_id == user_id
        )
    ).first()
    if row is None or row.confirmed_dt is None:
        return False
    row.confirmed_dt = None
    row.confirmed_by_id = None
    row.confirmed_via = None
    db.session.flush()
    user = db.session.get(User, user_id)
    module = db.session.get(Module, session.module_id)
    attendance_withdrawn.send(
        session, user=user, module=module, covers_module=session.covers_module, actor=actor
    )
    return True


# ---- calendar ------------------------------------------------------------------------------


def session_ics_for(
    session: LiveSession,
    settings: LiveSettings,
    base_url: str,
    *,
    page_url: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """The session as an .ics file with a stable UID `<public_id>@<host of base_url>`.

    The link written is `page_url` (the session's page in the app) when given, else the
    meeting's address without any token: a calendar file must never carry a JWT."""
    host = urlsplit(base_url).hostname or "lms"
    if page_url:
        link = page_url
    elif session.provider == "jitsi":
        link = f"https://{settings.jitsi_domain}/{session.location}"
    else:
        link = session.location
    organizer = ""
    if session.trainer_id is not None:
        organizer = (
            db.session.scalar(sa.select(User.full_name).where(User.id == session.trainer_id)) or ""
        )
    return calendar.session_ics(
        uid=f"{session.public_id}@{host}",
        title=session.title,
        start=session.start_dt,
        minutes=session.minutes,
        description=session.notes or "",
        url=link,
        organizer_name=organizer,
        now=now or utcnow(),
    )
