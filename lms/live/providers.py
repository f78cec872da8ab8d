"""Live-session providers: where a session takes place and how a participant joins it.

Pure functions of their inputs (no request, no database), so views and tests call them alike.
Each provider is a small class in `PROVIDERS`, looked up by the `provider` stored on the session
(STYLE rule 11):

- `prepare(title, course_slug, url, settings)` returns the location to store: a new room name
  for Jitsi, the validated and normalised URL for the others. It raises `LinkError`.
- `join(location, user, settings, moderator=..., now=...)` returns a `Join`: the URL to open and,
  for a self-hosted Jitsi, what the IFrame API needs (script, domain, room, per-participant JWT).

Rules come from shared/INTEROP.md §1.1 (JWT claims, room names, three moderator conventions),
§1.3.4 (meet.jit.si cuts embedded calls after 5 minutes: a new-tab link, no token) and §1.8
(Google Meet codes, an allowlist for every other link), and SECURITY-TESTS LIVE-02/03, INJ-08.
"""

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

import jwt

from lms.db import unaccent

PUBLIC_JITSI_DOMAINS = frozenset({"meet.jit.si"})
ROOM_SLUG_MAX = 40
ROOM_RANDOM_LENGTH = 8
ROOM_MAX = ROOM_SLUG_MAX + 1 + ROOM_RANDOM_LENGTH
ROOM_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
# Paths a Jitsi web server answers itself, so they can never be rooms (docker-jitsi-meet#295).
RESERVED_ROOMS = frozenset(
    {
        "http-bind",
        "xmpp-websocket",
        "colibri-ws",
        "external_api.js",
        "config.js",
        "interface_config.js",
        "logging_config.js",
        "libs",
        "css",
        "static",
        "images",
        "fonts",
        "lang",
        "sounds",
        "about",
        "_api",
        "_unlock",
        "conference-request",
        "room-census",
    }
)
# Validated as in INTEROP §1.8 (anchored by fullmatch: `$` would let a trailing newline through).
GOOGLE_MEET_PATTERN = re.compile(
    r"https://meet\.google\.com/([a-z]+(?:-[a-z]+){2})/?(?:\?[^#\s]*)?", re.IGNORECASE
)
GOOGLE_MEET_SHAPE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}")
_UNSAFE_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\]")


class LinkError(ValueError):
    """A pasted link refused; `code` is one of "missing_url", "not_https", "bad_google_meet",
    "host_not_allowed", "bad_url" (malformed: spaces, control characters, a bad port)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Participant(Protocol):
    id: Any
    full_name: str | None
    email: str | None


def _host(value: str) -> str:
    """A host as compared: lowercase, IDNA (punycode), without a trailing dot."""
    host = value.strip().lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _without_port(value: str) -> str:
    host, _, port = value.strip().partition(":")
    return host if port.isdigit() else value.strip()


@dataclass(frozen=True)
class LiveSettings:
    """The live-session settings of the app (lms/config.py names, DESIGN.md §6)."""

    jitsi_domain: str = "meet.jit.si"
    jitsi_app_id: str = ""
    jitsi_app_secret: str = field(default="", repr=False)  # kept out of logs and tracebacks
    jitsi_audience: str = "jitsi"
    jitsi_token_minutes: int = 180
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "LiveSettings":
        hosts = str(config.get("LIVE_ALLOWED_HOSTS") or "")
        domain = str(config.get("JITSI_DOMAIN") or "meet.jit.si").strip().lower()
        domain = domain.removeprefix("https://").rstrip("/")
        return cls(
            jitsi_domain=domain,
            jitsi_app_id=str(config.get("JITSI_APP_ID") or "").strip(),
            jitsi_app_secret=str(config.get("JITSI_APP_SECRET") or ""),
            jitsi_audience=str(config.get("JITSI_AUDIENCE") or "jitsi").strip(),
            jitsi_token_minutes=int(config.get("JITSI_TOKEN_MINUTES") or 180),
            allowed_hosts=frozenset(_host(_without_port(h)) for h in hosts.split(",") if h.strip()),
        )

    @property
    def token_auth(self) -> bool:
        """Both app id and secret set: the Jitsi server expects a JWT from every participant."""
        return bool(self.jitsi_app_id and self.jitsi_app_secret)

    @property
    def public_jitsi(self) -> bool:
        """The public meet.jit.si: no embedding, no tokens (INTEROP §1.3.4)."""
        return self.jitsi_domain in PUBLIC_JITSI_DOMAINS

    @property
    def jitsi_host(self) -> str:
        """The Jitsi domain's host, without port or tenant path."""
        return _host(_without_port(self.jitsi_domain.split("/")[0]))


@dataclass(frozen=True)
class Join:
    """How one participant joins: `url` opens in a new tab; with `embed`, the page loads
    `script_url` and calls `JitsiMeetExternalAPI(domain, {roomName: room, jwt: token})`."""

    url: str
    embed: bool
    script_url: str | None
    domain: str
    room: str | None
    token: str | None


def slugify(text: str) -> str:
    """ASCII slug of a (Vietnamese) title: 'Họp Công đoàn' -> 'hop-cong-doan'."""
    ascii_text = unaccent(unicodedata.normalize("NFC", text)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def new_room_name(title: str, course_slug: str = "") -> str:
    """`slug(course, session)[:40] + "-" + 8 random base32 characters` (INTEROP §1.1.5)."""
    slug = slugify(f"{course_slug} {title}")[:ROOM_SLUG_MAX].strip("-") or "live"
    while True:
        suffix = "".join(secrets.choice(_BASE32) for _ in range(ROOM_RANDOM_LENGTH))
        room = f"{slug}-{suffix}"
        if room not in RESERVED_ROOMS:  # cannot happen with a suffix; kept as a guard
            return room


def is_room_name(value: str) -> bool:
    return (
        len(value) <= ROOM_MAX
        and ROOM_PATTERN.fullmatch(value) is not None
        and value not in RESERVED_ROOMS
    )


def _timestamp(now: datetime | None) -> int:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(moment.timestamp())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def jitsi_token(
    room: str,
    user: Participant,
    settings: LiveSettings,
    *,
    moderator: bool,
    now: datetime | None = None,
) -> str:
    """A per-participant HS256 JWT for `room` (INTEROP §1.1.1-1.1.4, LIVE-02/03).

    Moderator rights are written in all three conventions, and every `context.user` value is a
    string (an empty email is left out, never null)."""
    issued = _timestamp(now)
    user_claims = {
        "id": _text(user.id),
        "name": _text(user.full_name),
        "affiliation": "owner" if moderator else "member",
        "moderator": "true" if moderator else "false",
    }
    email = _text(getattr(user, "email", None)).strip()
    if email:
        user_claims["email"] = email
    claims = {
        "aud": settings.jitsi_audience,
        "iss": settings.jitsi_app_id,
        "sub": settings.jitsi_host,
        "room": room,
        "nbf": issued - 10,
        "exp": issued + int(timedelta(minutes=settings.jitsi_token_minutes).total_seconds()),
        "moderator": bool(moderator),
        "context": {"user": user_claims},
    }
    return jwt.encode(claims, settings.jitsi_app_secret, algorithm="HS256")


class Provider:
    """Base of the live-session providers; `key` is the value stored on the session."""

    key: ClassVar[str] = ""
    embeddable: ClassVar[bool] = False

    @classmethod
    def prepare(cls, title: str, course_slug: str, url: str, settings: LiveSettings) -> str:
        raise NotImplementedError

    @classmethod
    def join(
        cls,
        location: str,
        user: Participant,
        settings: LiveSettings,
        *,
        moderator: bool,
        now: datetime | None = None,
    ) -> Join:
        raise NotImplementedError


class Jitsi(Provider):
    """A Jitsi room on the configured domain; embedded and with tokens when self-hosted."""

    key = "jitsi"
    embeddable = True

    @classmethod
    def prepare(cls, title: str, course_slug: str, url: str, settings: LiveSettings) -> str:
        return new_room_name(title, course_slug)

    @classmethod
    def join(
        cls,
        location: str,
        user: Participant,
        settings: LiveSettings,
        *,
        moderator: bool,
        now: datetime | None = None,
    ) -> Join:
        if not is_room_name(location):
            raise ValueError(f"not a room name: {location!r}")
        domain = settings.jitsi_domain
        url = f"https://{domain}/{location}"
        if settings.public_jitsi:
            return Join(
                url=url, embed=False, script_url=None, domain=domain, room=location, token=None
            )
        token = None
        if settings.token_auth:
            token = jitsi_token(location, user, settings, moderator=moderator, now=now)
            url = f"{url}?jwt={token}"
        return Join(
            url=url,
            embed=True,
            script_url=f"https://{domain}/external_api.js",
            domain=domain,
            room=location,
            token=token,
        )


def _external(location: str) -> Join:
    host = urlsplit(location).hostname or ""
    return Join(url=location, embed=False, script_url=None, domain=host, room=None, token=None)


def _start(url: str) -> str:
    value = (url or "").strip()
    if not value:
        raise LinkError("missing_url")
    if not value.lower().startswith("https://"):
        raise LinkError("not_https")
    if _UNSAFE_CHARS.search(value):
        raise LinkError("bad_url")
    return value


class ExternalLink(Provider):
    """A link that opens in a new tab: nothing to sign, nothing to embed."""

    @classmethod
    def join(
        cls,
        location: str,
        user: Participant,
        settings: LiveSettings,
        *,
        moderator: bool,
        now: datetime | None = None,
    ) -> Join:
        return _external(location)


class GoogleMeet(ExternalLink):
    """A pasted Google Meet link, opened in a new tab (INTEROP §1.8)."""

    key = "google_meet"

    @classmethod
    def prepare(cls, title: str, course_slug: str, url: str, settings: LiveSettings) -> str:
        value = _start(url)
        if GOOGLE_MEET_PATTERN.fullmatch(value) is None:
            raise LinkError("bad_google_meet")
        return value.lower()

    @staticmethod
    def code_shape_ok(url: str) -> bool:
        """False when the code is valid but not the usual 3-4-3 letters: warn, do not refuse."""
        found = GOOGLE_MEET_PATTERN.fullmatch((url or "").strip())
        return found is not None and GOOGLE_MEET_SHAPE.fullmatch(found[1].lower()) is not None


class OtherLink(ExternalLink):
    """Any https link on an allowlisted host (LIVE_ALLOWED_HOSTS or the Jitsi domain; INJ-08)."""

    key = "other"

    @classmethod
    def prepare(cls, title: str, course_slug: str, url: str, settings: LiveSettings) -> str:
        parts = urlsplit(_start(url))
        if "@" in parts.netloc:  # https://allowed.example@evil.example
            raise LinkError("host_not_allowed")
        try:
            port = parts.port
        except ValueError:
            raise LinkError("bad_url") from None
        host = _host(parts.hostname or "")
        if not host or host not in settings.allowed_hosts | {settings.jitsi_host}:
            raise LinkError("host_not_allowed")
        netloc = host if port is None else f"{host}:{port}"
        return urlunsplit(("https", netloc, parts.path, parts.query, parts.fragment))


PROVIDERS: dict[str, type[Provider]] = {
    "jitsi": Jitsi,
    "google_meet": GoogleMeet,
    "other": OtherLink,
}


def get_provider(key: str) -> type[Provider]:
    """The provider class stored under `key`; KeyError for an unknown one."""
    return PROVIDERS[key]
