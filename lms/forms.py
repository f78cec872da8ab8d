"""The base form of every screen: CSRF, and text normalised to NFC with edges trimmed."""

import unicodedata

from flask_wtf import FlaskForm


def normalise_text(value: object) -> object:
    """NFC-normalise and trim a submitted string; strip NUL, which PostgreSQL text refuses."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).replace("\x00", "").strip()
    return value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            # Passwords are normalised by the password rules themselves, never trimmed.
            if unbound_field.field_class.__name__ != "PasswordField":
                options["filters"] = (*unbound_field.kwargs.get("filters", ()), normalise_text)
            return unbound_field.bind(form=form, **options)


class EmptyForm(BaseForm):
    """For button-only POSTs: carries just the CSRF token."""
