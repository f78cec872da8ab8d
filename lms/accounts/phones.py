"""Vietnamese phone numbers in one national form, so every spelling finds the same person."""

import re

_SEPARATORS = re.compile(r"[\s.\-()/]")
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")


class InvalidPhone(ValueError):
    """Raised for text that is not a Vietnamese mobile or landline number."""


def normalise_phone(raw: str) -> str:
    """Return the national form ('0912345678'); accept +84, 84, 0084, spaces, dots and dashes."""
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("0084"):
        text = "0" + text[4:]
    elif text.startswith("84") and len(text) in (11, 12):
        text = "0" + text[2:]
    if _MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text):
        return text
    raise InvalidPhone(raw)


def looks_like_phone(raw: str) -> bool:
    """True for text made only of digits and the usual separators (so not a username)."""
    text = _SEPARATORS.sub("", raw or "")
    return bool(text) and bool(re.fullmatch(r"\+?\d{8,15}", text))
