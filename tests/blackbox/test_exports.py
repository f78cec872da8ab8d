"""The export inspectors can fail: each catches a planted fault (a formula cell, a CSV without
BOM, a font not embedded, a path leaving the zip, LF line endings), and passes a clean file."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.blackbox.exports import inspect_csv, inspect_ics, inspect_pdf, inspect_xlsx, inspect_zip


def _xlsx(value: str, *, as_text: bool) -> bytes:
    book = openpyxl.Workbook()
    cell = book.active.cell(row=1, column=1, value=value)
    if as_text:
        cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_formula_in_a_workbook_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="xl/worksheets/sheet1.xml"):
        inspect_xlsx(_xlsx('=HYPERLINK("https://evil.example")', as_text=False), tmp_path)
    inspect_xlsx(_xlsx('=HYPERLINK("https://evil.example")', as_text=True), tmp_path)


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "@SUM(1)", "\t=1+1", "-2+3"])
def test_a_formula_cell_in_a_csv_is_caught(tmp_path: Path, cell: str) -> None:
    body = "\ufeffho_ten,so\r\n" + f'"Nguyễn An","{cell}"\r\n'
    with pytest.raises(AssertionError, match="unsafe cell"):
        inspect_csv(body.encode("utf-8"), tmp_path)


def test_a_clean_csv_passes_and_one_without_bom_does_not(tmp_path: Path) -> None:
    body = 'ho_ten,so\r\n"Nguyễn An",-2\r\n"\'=1+1",1.000,5\r\n'
    inspect_csv(("\ufeff" + body).encode("utf-8"), tmp_path)
    with pytest.raises(AssertionError, match="BOM"):
        inspect_csv(body.encode("utf-8"), tmp_path)


def test_a_path_leaving_the_zip_is_caught(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("khoa/../../etc/passwd", "x")
    with pytest.raises(AssertionError, match="etc/passwd"):
        inspect_zip(out.getvalue(), tmp_path)


def test_a_calendar_with_bare_line_feeds_is_caught(tmp_path: Path) -> None:
    body = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID=Asia/Ho_Chi_Minh\nEND:VCALENDAR\r\n"
    with pytest.raises(AssertionError):
        inspect_ics(body.encode(), tmp_path)


def _pdf_with_a_font_not_embedded() -> bytes:
    """A one-page PDF written by hand, its text in the standard Helvetica (not embedded)."""
    text = b"BT /F1 12 Tf 20 100 Td (Nguyen An) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, start
    )  # fmt: skip
    return bytes(out)


def test_a_font_not_embedded_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="Helvetica"):
        inspect_pdf(_pdf_with_a_font_not_embedded(), tmp_path / "a.pdf")
