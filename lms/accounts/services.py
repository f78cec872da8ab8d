"""Sign-in, throttling, sessions, passwords and language: the rules, without HTTP."""

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts import passwords
from lms.accounts.models import LoginFailure, Role, User, UserSession
from lms.accounts.phones import InvalidPhone, looks_like_phone, normalise_phone
from lms.db import db, unaccent, utcnow

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
# Refresh a session's last-seen time at most this often, to keep page views free of writes.
TOUCH_EVERY = timedelta(hours=1)


class AccountError(ValueError):
    """A rule was broken; `code` says which (the view turns it into a translated message)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Throttled(Exception):
    """Too many failed sign-ins for this account or address; retry after some seconds."""

    retry_after: int


def login_key(identifier: str) -> str:
    """What someone typed to sign in, canonical: a phone's national form, or lowercase."""
    text = unicodedata.normalize("NFC", identifier or "").strip()
    if looks_like_phone(text):
        try:
            return normalise_phone(text)
        except InvalidPhone:
            pass
    return text.casefold()


def find_user_for_login(identifier: str) -> User | None:
    """The account that a username or current phone number designates."""
    key = login_key(identifier)
    if not key:
        return None
    return db.session.scalars(
        sa.select(User).where(sa.or_(User.username == key, User.phone == key)).limit(1)
    ).first()


def check_throttle(key: str, ip: str, now: datetime | None = None) -> None:
    """Raise Throttled when the account, the address or the pair has failed too often lately."""
    cfg = current_app.config
    now = now or utcnow()
    window = timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    since = now - window
    is_pair = sa.and_(LoginFailure.account == key, LoginFailure.ip == ip)
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(is_pair),
            sa.func.min(LoginFailure.created_dt).filter(is_pair),
            sa.func.count().filter(LoginFailure.account == key),
            sa.func.min(LoginFailure.created_dt).filter(LoginFailure.account == key),
            sa.func.count().filter(LoginFailure.ip == ip),
            sa.func.min(LoginFailure.created_dt).filter(LoginFailure.ip == ip),
        ).where(
            sa.or_(LoginFailure.account == key, LoginFailure.ip == ip),
            LoginFailure.created_dt >= since,
        )
    ).one()
    limits = (
        cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"],
        cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        cfg["LOGIN_MAX_FAILURES_PER_IP"],
    )
    for (count, oldest), limit in zip(zip(row[0::2], row[1::2], strict=True), limits, strict=True):
        if count >= limit:
            oldest = _aware(oldest)
            wait = int((oldest + window - now).total_seconds()) + 1
            audit.log_event("login.throttled", account=key)
            raise Throttled(max(wait, 1))


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back a naive UTC value or a string.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def authenticate(identifier: str, password: str, ip: str) -> User | None:
    """Return the user when the password is right; count a failure otherwise (same for unknown)."""
    key = login_key(identifier)[:64]
    check_throttle(key, ip)
    user = find_user_for_login(identifier)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        db.session.add(LoginFailure(account=key, ip=ip[:64]))
        audit.log_event("login.failed", account=key)
        return None
    db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.account == key, LoginFailure.ip == ip)
    )
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_dt = utcnow()
    # Nobody is signed in yet when this is logged: the line carries the account's id itself.
    audit.log_event("login.ok", account=user.username, id=user.id)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str = "") -> str:
    """Open a server-side session for this user and return its secret token."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(user=user, token_hash=_token_hash(token), user_agent=user_agent[:200])
    )
    user.session_token = token
    return token


# Built once: every signed-in request runs it, and building it costs more than running it.
# The session row is read as its one column, not as an object: nothing else of it is used.
_SESSION_USER = (
    sa.select(User, UserSession.last_seen_dt)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"))
)


def load_session_user(token: str) -> User | None:
    """The active user behind a session token, or None when the session was ended or idled out."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(_SESSION_USER, {"token_hash": _token_hash(token)}).first()
    if row is None:
        return None
    user, last_seen = row
    now = utcnow()
    idle = timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
    if not user.active or last_seen < now - idle:
        return None
    # The new last-seen time is saved when the request is done (save_session_touch), not
    # flushed from here in the middle of the request's reads.
    user.session_touched = last_seen < now - TOUCH_EVERY
    user.session_token = token
    return user


def save_session_touch(token: str) -> None:
    """Save that the session was seen now. Sent as the first statement of a transaction of its
    own: on SQLite a transaction that read first would be refused, not made to wait, if
    someone else committed since it read."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == _token_hash(token))
        .values(last_seen_dt=utcnow())
    )


def end_session(token: str | None) -> None:
    """End one session: its cookie, wherever it was copied, no longer signs anyone in."""
    if token:
        db.session.execute(
            sa.delete(UserSession).where(UserSession.token_hash == _token_hash(token))
        )


def end_other_sessions(user: User, keep_token: str | None) -> int:
    """End every session of the user except the current one; return how many were ended."""
    stmt = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(keep_token))
    return db.session.execute(stmt).rowcount or 0


def validate_new_password(user: User | None, password: str, *, extra: tuple[str, ...] = ()) -> None:
    """Raise AccountError(code) when the new password breaks a rule."""
    personal = tuple(extra)
    if user is not None:
        personal += (user.username, user.phone or "", user.full_name)
    found = passwords.problems(password, personal=personal)
    if found:
        raise AccountError(f"password_{found[0]}", min=passwords.MIN_LENGTH)


def set_password(user: User, password: str) -> None:
    """Store a new password hash (the caller checked the rules)."""
    user.password_hash = passwords.hash_password(password)
    user.password_changed_dt = utcnow()
    user.must_change_password = False


def change_password(user: User, current: str, new: str, *, end_others: bool) -> int:
    """Change one's own password after checking the current one; optionally sign out elsewhere."""
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError("wrong_current_password")
    validate_new_password(user, new)
    set_password(user, new)
    ended = end_other_sessions(user, user.session_token) if end_others else 0
    audit.log_event("password.changed", account=user.username, other_sessions_ended=ended)
    return ended


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise AccountError("unknown_language")
    user.locale = locale


def canonical_username(raw: str) -> str:
    """A username as stored: a phone's national form, or a lowercase ASCII handle."""
    text = unicodedata.normalize("NFC", raw or "").strip()
    if looks_like_phone(text):
        try:
            return normalise_phone(text)
        except InvalidPhone as exc:
            raise AccountError("invalid_phone", value=raw) from exc
    text = text.casefold()
    if not USERNAME_RE.fullmatch(text):
        raise AccountError("invalid_username", value=raw)
    return text


def generate_username(full_name: str) -> str:
    """An unaccented name plus digits ('nguyenvanan27') that nobody has yet."""
    base = unaccent(full_name).casefold()
    base = re.sub(r"[^a-z0-9]", "", base)[:20] or "hocvien"
    for _attempt in range(50):
        candidate = f"{base}{secrets.randbelow(900) + 100}"
        if not db.session.scalar(sa.select(sa.func.count()).where(User.username == candidate)):
            return candidate
    return f"{base}{secrets.token_hex(4)}"


def generate_username_candidates(full_names: list[str]) -> list[str]:
    """Unused usernames for many new people at once: a query per round, not one per person."""
    bases = [re.sub(r"[^a-z0-9]", "", unaccent(n).casefold())[:20] or "hocvien" for n in full_names]
    chosen: dict[int, str] = {}
    pending = list(range(len(bases)))
    for attempt in range(6):
        # Three digits first, as generate_username does; then longer suffixes for common names.
        suffix = (lambda: str(secrets.randbelow(900) + 100)) if attempt < 3 else secrets.token_hex
        tries = {i: f"{bases[i]}{suffix() if attempt < 3 else suffix(4)}" for i in pending}
        taken = _existing_usernames(list(tries.values())) | set(chosen.values())
        pending = []
        for i, name in tries.items():
            if name in taken:
                pending.append(i)
            else:
                chosen[i] = name
                taken.add(name)
        if not pending:
            break
    if pending:
        raise RuntimeError("could not find free usernames")
    return [chosen[i] for i in range(len(bases))]


def _existing_usernames(names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), 5000):
        chunk = names[start : start + 5000]
        found |= set(db.session.scalars(sa.select(User.username).where(User.username.in_(chunk))))
    return found


def create_user(
    *,
    full_name: str,
    role: Role = Role.LEARNER,
    username: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    password: str | None = None,
    org_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account; a phone becomes the username when no username is given."""
    full_name = unicodedata.normalize("NFC", full_name or "").strip()
    if not full_name:
        raise AccountError("missing_full_name")
    norm_phone = None
    if phone:
        try:
            norm_phone = normalise_phone(phone)
        except InvalidPhone as exc:
            raise AccountError("invalid_phone", value=phone) from exc
    name = (
        canonical_username(username) if username else (norm_phone or generate_username(full_name))
    )
    _check_unique(name, norm_phone)
    user = User(
        username=name,
        full_name=full_name,
        phone=norm_phone,
        email=(email or "").strip().casefold() or None,
        role=Role(role),
        org_id=org_id,
        must_change_password=must_change_password,
    )
    if password is not None:
        validate_new_password(user, password)
        set_password(user, password)
        user.must_change_password = must_change_password
    db.session.add(user)
    db.session.flush()
    audit.log_event("user.created", account=user.username, role=user.role.value)
    return user


def _check_unique(username: str, phone: str | None) -> None:
    taken = db.session.scalar(
        sa.select(sa.func.count()).where(
            sa.or_(
                User.username == username,
                User.phone == username,
                *([User.phone == phone, User.username == phone] if phone else []),
            )
        )
    )
    if taken:
        raise AccountError("username_taken", value=phone or username)


MESSAGES = {
    "missing_full_name": _l("Please enter the person's full name."),
    "invalid_phone": _l(
        "“%(value)s” is not a Vietnamese phone number. Enter a mobile number of 10 digits "
        "starting with 03, 05, 07, 08 or 09 (for example 0912 345 678), or a landline of "
        "11 digits starting with 02."
    ),
    "invalid_username": _l(
        "“%(value)s” cannot be a username: use 3 to 64 unaccented letters, digits, dots, "
        "dashes or underscores, or a phone number."
    ),
    "username_taken": _l("An account with the username or phone “%(value)s” already exists."),
    "password_too_short": _l("The password must have at least %(min)s characters."),
    "password_too_long": _l("The password is too long (at most 256 characters)."),
    "password_common": _l("This password is too common and easy to guess. Please choose another."),
    "password_personal": _l("The password must not be your name, username or phone number."),
    "wrong_current_password": _l("The current password is not correct."),
    "unknown_language": _l("This language is not available."),
}


def message(error: AccountError) -> str:
    """The translated sentence for an AccountError."""
    return str(MESSAGES[error.code]) % error.params if error.params else str(MESSAGES[error.code])
