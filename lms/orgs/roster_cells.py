"""The cells of a roster file, a row at a time: CSV decoded as a stream, XLSX in openpyxl's
read-only mode. A national file (150.000 rows) thus never sits in memory as one decoded text
or a table of cells, only as its bytes; lms.orgs.roster checks each row as it comes.
"""

import codecs
import csv
import io
from collections.abc import Iterator


def encoding_of(data: bytes) -> str | None:
    """The text encoding of a CSV file, None when it is neither UTF-16 nor valid UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16, tabs
        return "utf-16"
    # Checked a megabyte at a time rather than decoded whole (that would be a second copy).
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(data[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return "utf-8-sig"


def _text(data: bytes, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def csv_rows(data: bytes, encoding: str) -> Iterator[list[str]]:
    first = next((line for line in _text(data, encoding) if line.strip()), "")
    # Excel on a Vietnamese-locale Windows separates with ";": pick what splits the header most.
    delimiter = max((";", ",", "\t"), key=lambda d: len(next(csv.reader([first], delimiter=d))))
    yield from csv.reader(_text(data, encoding), delimiter=delimiter)


class UnreadableXlsx(Exception):
    """openpyxl raises many types for a damaged file, while opening it or reading its rows."""


def xlsx_rows(data: bytes) -> Iterator[tuple]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
    except Exception as exc:
        raise UnreadableXlsx from exc
    try:
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise UnreadableXlsx from exc
            yield cells
    finally:
        book.close()
