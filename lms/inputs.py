"""Input that no browser sends, refused before a view sees it: form bodies that are not UTF-8,
and ids beyond what a database INTEGER holds (REL-04, QUIZ-07)."""

from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from lms.audit import clean


def refuse_unreadable_form(body: bytes) -> None:
    """A form body that is not UTF-8 (no browser sends one) is refused naming the field;
    Werkzeug would silently parse it as an empty form (REL-04)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pairs = [pair.partition(b"=") for pair in body.split(b"&")]
        names = [name for name, _eq, value in pairs if not _utf8(name + value)]
        raise BadRequest(
            _(
                "The field %(name)s contains characters that could not be read. Please type it "
                "again.",
                name=clean(names[0].decode("utf-8", "replace")[:40] if names else "?"),
            )
        ) from None


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: ids beyond a 32-bit INTEGER column are simply not found (SQLite
    would overflow and PostgreSQL refuse to compare them: a 500 otherwise)."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


MAX_ID = 2**31 - 1


def form_id(value: object) -> int | None:
    """An id posted in a form, or None when it is not one a database row could have."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None
