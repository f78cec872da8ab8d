"""The base form of every screen: CSRF, and text normalised to NFC with edges trimmed."""

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import StopValidation


def normalise_text(value: object) -> object:
    """NFC-normalise and trim a submitted string; strip NUL, which PostgreSQL text refuses."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).replace("\x00", "").strip()
    return value


def readable(form: FlaskForm, field: object) -> None:
    """Refuse text that arrived as invalid UTF-8: the multipart parser turns each unreadable
    byte into U+FFFD, which nobody types (REL-04)."""
    data = getattr(field, "data", None)
    if isinstance(data, str) and "\ufffd" in data:
        raise StopValidation(
            str(_l("This field contains characters that could not be read. Please type it again."))
        )


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            # Passwords are normalised by the password rules themselves, never trimmed.
            if unbound_field.field_class.__name__ != "PasswordField":
                options["filters"] = (*unbound_field.kwargs.get("filters", ()), normalise_text)
            if len(unbound_field.args) < 2:  # validators not given positionally
                validators = unbound_field.kwargs.get("validators") or ()
                options["validators"] = (readable, *validators)
            return unbound_field.bind(form=form, **options)


class EmptyForm(BaseForm):
    """For button-only POSTs: carries just the CSRF token."""
