import pytest

from lms.accounts.phones import InvalidPhone, looks_like_phone, normalise_phone


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "0912 345 678",
        "+84912345678",
        "84912345678",
        "+84 912 345 678",
        "0084912345678",
        "091.234.5678",
        "091-234-5678",
        "(+84) 912 345 678",
        " 0912345678 ",
    ],
)
def test_spellings_of_one_mobile_number_are_the_same_person(raw: str) -> None:
    assert normalise_phone(raw) == "0912345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0276 3812 345", "02763812345"),  # landline: 02x area code, 11 digits
        ("+84 276 3812 345", "02763812345"),
        ("0388123456", "0388123456"),
        ("0567123456", "0567123456"),
        ("0789123456", "0789123456"),
        ("0868123456", "0868123456"),
    ],
)
def test_other_valid_numbers(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "091234567",
        "09123456789",
        "0112345678",
        "0412345678",
        "0612345678",
        "+1 202 555 0143",
        "0912abc678",
        "hello",
        "0212345678",
    ],
)
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_usernames_are_not_mistaken_for_phones() -> None:
    assert looks_like_phone("+84 912 345 678")
    assert not looks_like_phone("canbo.dmc")
    assert not looks_like_phone("nguyenvan2021")
