"""Vietnamese first: the catalogue is complete, English is in step, and formats follow Vietnam."""

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lms.web import format_number, format_vn_date, format_vn_datetime

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lms" / "translations"


def _catalog(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_template_matches_the_code(tmp_path: Path) -> None:
    """Every translatable string in code and templates is in messages.pot."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(fresh, "rb") as fh:
        current = _ids(read_po(fh))
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        committed = _ids(read_po(fh))
    assert current - committed == set(), "run `make extract-messages` and translate the new strings"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_catalogue_is_complete(lang: str) -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = _ids(read_po(fh))
    catalog = _catalog(lang)
    assert template - _ids(catalog) == set()
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    ]
    assert untranslated == []


def test_vietnamese_keeps_placeholders() -> None:
    for message in _catalog("vi"):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        for name in ("%(value)s", "%(num)d", "%(name)s", "%(min)s", "%(id)s", "%(date)s"):
            assert (name in source) == (name in target), (source, target)


def test_dates_times_and_numbers_in_vietnamese_form(app_ctx) -> None:
    assert format_vn_date(date(2021, 11, 3)) == "03/11/2021"
    # 16:30 UTC is 23:30 in Vietnam, still the same day; 17:30 UTC is the next day there.
    assert format_vn_date(datetime(2021, 11, 2, 17, 30, tzinfo=UTC)) == "03/11/2021"
    assert format_vn_datetime(datetime(2021, 11, 3, 12, 30, tzinfo=UTC)) == "19:30 03/11/2021"
    assert format_number(1000.5) == "1.000,5"
    assert format_number(1250) == "1.250"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_counts_are_grouped_as_babel_groups_them(app, locale) -> None:
    from flask_babel import format_decimal, refresh

    with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
        refresh()
        for value in (0, 7, 999, 1000, -1250, 154003, 1990866, 10**12):
            assert format_number(value) == format_decimal(value), value
        assert format_number(1250) == ("1.250" if locale == "vi" else "1,250")
