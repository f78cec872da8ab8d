from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(
        _l("Username or phone number"),
        validators=[
            DataRequired(_l("Please enter your username or phone number.")),
            Length(max=100),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "inputmode": "text"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please enter a new password.")), Length(max=1024)],
        description=_l(
            "At least 8 characters. A short sentence is easy to remember and hard to guess."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Please type the new password again.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    end_others = BooleanField(_l("Sign out my other devices"), default=True)


class LanguageForm(BaseForm):
    locale = SelectField(
        _l("Language"), choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]
    )
    next = HiddenField()


class InviteCodeForm(BaseForm):
    code = StringField(
        _l("Code on your slip"),
        validators=[
            DataRequired(_l("Please type the code printed on your slip.")),
            Length(max=40),
        ],
        description=_l("10 letters and digits, for example ABCDE-23456."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
    )


class SetPasswordForm(BaseForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please enter a new password.")), Length(max=1024)],
        description=_l(
            "At least 8 characters. A short sentence is easy to remember and hard to guess."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Please type the new password again.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
