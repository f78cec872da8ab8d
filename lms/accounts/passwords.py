"""Password rules and hashing: argon2id, NFC-normalised, no truncation, no common passwords."""

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8
MAX_LENGTH = 256

# The most common passwords worldwide and in Vietnam, compared case-insensitively.
COMMON_PASSWORDS = frozenset(
    """
    123456 1234567 12345678 123456789 1234567890 0123456789 987654321 11111111 00000000
    88888888 66666666 12341234 123123123 11223344 password password1 password123 passw0rd
    qwerty qwerty123 qwertyuiop abc12345 abcd1234 a1234567 iloveyou admin123 admin1234
    letmein welcome welcome1 matkhau matkhau1 matkhau123 matkhau@123 matkhaumoi 12345678a
    congdoan congdoan1 congdoan123 congdoancoso doanvien doanvien123 vietnam vietnam123
    anhyeuem emyeuanh hanoi123 saigon123 tayninh tayninh123 duongminhchau khongbiet
    123456aa 123456abc zaq12wsx 1q2w3e4r 1qaz2wsx thienthan hoilamgi
    """.split()
)


def normalise(password: str) -> str:
    """The same text whether typed composed or decomposed (NIST SP 800-63B §5.1.1.2)."""
    return unicodedata.normalize("NFC", password)


def problems(password: str, *, personal: tuple[str, ...] = ()) -> list[str]:
    """Codes of the rules a new password breaks: too_short, too_long, common, personal."""
    text = normalise(password)
    found = []
    if len(text) < MIN_LENGTH:
        found.append("too_short")
    if len(text) > MAX_LENGTH:
        found.append("too_long")
    folded = text.casefold()
    if folded in COMMON_PASSWORDS or folded.replace(" ", "") in COMMON_PASSWORDS:
        found.append("common")
    if any(p and p.casefold().replace(" ", "") == folded.replace(" ", "") for p in personal):
        found.append("personal")
    return found


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time on a dummy to hide that."""
    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), normalise(password)) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("lms_dummy_hash", {})
    key = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    if key not in cache:
        cache[key] = _hasher().hash("not-a-real-password")
    return str(cache[key])
