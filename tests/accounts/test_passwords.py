"""AUTH-03/04/05: length, no truncation, NFC/NFD equality, common passwords, argon2id."""

import unicodedata

import pytest

from lms.accounts import passwords
from lms.accounts.services import AccountError, validate_new_password
from tests.factories import make_user


@pytest.mark.usefixtures("app_ctx")
class TestHashing:
    def test_stored_hash_is_argon2id(self) -> None:
        stored = passwords.hash_password("ngựa-pin-đúng-ghim")
        assert stored.startswith("$argon2id$")
        assert "ngựa" not in stored

    @pytest.mark.parametrize("password", ["12345678ab", "x" * 64, "y" * 200, "ngựa-pin-đúng-ghim"])
    def test_long_and_vietnamese_passwords_verify_exactly(self, password: str) -> None:
        stored = passwords.hash_password(password)
        assert passwords.verify_password(stored, password)
        assert not passwords.verify_password(stored, password[:-1])  # no truncation

    def test_composed_and_decomposed_forms_are_the_same_password(self) -> None:
        nfc = unicodedata.normalize("NFC", "Mật khẩu Đường Ước")
        nfd = unicodedata.normalize("NFD", nfc)
        assert nfc != nfd
        assert passwords.verify_password(passwords.hash_password(nfd), nfc)

    def test_unknown_user_check_runs_on_a_dummy_hash_and_fails(self) -> None:
        assert passwords.verify_password(None, "anything at all") is False

    def test_weaker_parameters_are_flagged_for_rehash(self, app) -> None:
        stored = passwords.hash_password("mot-cau-dai-du")
        app.config["ARGON2_TIME_COST"] = 2
        try:
            assert passwords.needs_rehash(stored)
        finally:
            app.config["ARGON2_TIME_COST"] = 1


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("1234567", "password_too_short"),
        ("123456789", "password_common"),
        ("matkhau123", "password_common"),
        ("password", "password_common"),
        ("PassWord", "password_common"),
        ("z" * 257, "password_too_long"),
    ],
)
def test_weak_passwords_are_refused(app_ctx, password: str, code: str) -> None:
    with pytest.raises(AccountError) as err:
        validate_new_password(None, password)
    assert err.value.code == code


def test_password_equal_to_own_name_or_username_is_refused(app_ctx) -> None:
    user = make_user("nguyenvana", full_name="Nguyễn Văn A")
    for candidate in ("nguyenvana", "NguyenVanA"):
        with pytest.raises(AccountError) as err:
            validate_new_password(user, candidate)
        assert err.value.code == "password_personal"


def test_eight_characters_are_enough(app_ctx) -> None:
    validate_new_password(None, "ca-phe-8")
