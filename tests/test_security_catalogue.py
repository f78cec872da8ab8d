"""docs/security-tests.md maps every row of the security catalogue to its tests. This fails when
the catalogue (../shared/SECURITY-TESTS.md beside the repository, where it is kept) gains a row
the mapping does not mention, and when a test the mapping names no longer exists.

A clean checkout has no catalogue beside it (CI): then only the mapping's own consistency is
checked, which still runs and can still fail (no skip: CI treats a skip as a missing suite)."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "docs" / "security-tests.md"
CATALOGUE = ROOT.parent / "shared" / "SECURITY-TESTS.md"
ROW = re.compile(r"^\| ([A-Z]+-\d+) \| ([^|]+?) \| (.+) \|$")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")
STATUSES = {"covered", "partly", "not applicable", "not yet"}


@cache
def mapping() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in MAPPING.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} is mapped twice"
            rows[match[1]] = (match[2].strip(), match[3])
    return rows


def catalogue_ids(text: str) -> list[str]:
    return re.findall(r"^\| ([A-Z]+-\d+) \|", text, re.M)


def test_every_catalogue_row_is_mapped() -> None:
    if not CATALOGUE.exists():
        # A clean checkout: the mapping must still name rows of every section.
        sections = {row.split("-")[0] for row in mapping()}
        assert sections >= {"AUTH", "SESS", "AC", "CSRF", "XSS", "INJ", "QUIZ", "LIVE", "EXP",
                            "COMP", "REL", "HDR", "LOG", "MOB"}  # fmt: skip
        return
    rows = catalogue_ids(CATALOGUE.read_text(encoding="utf-8"))
    assert rows, f"no rows found in {CATALOGUE}"
    missing = [row for row in rows if row not in mapping()]
    assert not missing, f"rows of SECURITY-TESTS.md missing from docs/security-tests.md: {missing}"
    unknown = sorted(set(mapping()) - set(rows))
    assert not unknown, f"docs/security-tests.md maps rows the catalogue no longer has: {unknown}"


def test_each_row_has_a_status_and_tests_or_a_reason() -> None:
    for row, (status, detail) in mapping().items():
        assert status in STATUSES, f"{row}: unknown status {status!r}"
        if status == "covered":
            assert REFERENCE.search(detail), f"{row} is covered by no named test"
        else:
            assert len(REFERENCE.sub("", detail).strip(" .,;:")) > 20, f"{row}: say why"


@cache
def defined_tests(path: str) -> set[str]:
    """`name` and `Class::name` of every test function in a test file."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("row", sorted(mapping()))
def test_every_named_test_exists(row: str) -> None:
    for path, name in REFERENCE.findall(mapping()[row][1]):
        assert (ROOT / path).exists(), f"{row}: {path} does not exist"
        assert name in defined_tests(path), f"{row}: {path}::{name} does not exist"
