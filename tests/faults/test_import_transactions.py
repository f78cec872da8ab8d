"""COMP-04 for the two file imports: a roster (unions, accounts, positions) and a class's
attendance list (completions, the revocations they cause, certificates, standings) are each
one transaction. An exception injected deep in the write path, once part of the rows are
written, leaves the database exactly as it was; the same import then succeeds.
Real commits on a fresh database of the backend under test (tests/faults/conftest.py)."""

import io

from flask import Flask

from lms.demo import DEMO_PASSWORD
from lms.orgs import roster_import
from lms.progress import services as progress
from tests import drill
from tests.faults.test_transactions import Injected, assert_error_page
from tests.orgs.roster_helpers import example_bytes

COMPLETIONS = drill.ROOT / "docs" / "examples" / "completions-example.csv"


def test_a_roster_import_failing_halfway_writes_nothing(courses: Flask, tmp_path, monkeypatch):
    """The unions and the accounts are inserted (and flushed) before the positions: fail there."""
    courses.config["ROSTER_UPLOAD_FOLDER"] = str(tmp_path)
    client = courses.test_client()
    assert client.login("admin", DEMO_PASSWORD).status_code == 302
    upload = {"file": (io.BytesIO(example_bytes()), "danh-sach.csv")}
    assert client.post_form("/roster/preview", upload).status_code == 200
    before = drill.take(courses)
    reached = []

    def broken(people, today):  # type: ignore[no-untyped-def]
        reached.append(len(people))
        raise Injected("the connection dropped")

    with monkeypatch.context() as patched:
        patched.setattr(roster_import, "_open_positions", broken)
        assert_error_page(client.post_form("/roster/apply"))
    assert reached == [10]  # the fault struck after the new unions and people were written
    assert drill.take(courses) == before
    assert client.post_form("/roster/apply").status_code == 302
    after = drill.row_counts(courses)
    assert after["organization"] == before["row counts"]["organization"] + 6
    assert after["officer"] == before["row counts"]["officer"] + 10


def test_a_completion_file_failing_at_its_third_row_records_nothing(courses, tmp_path, monkeypatch):
    """Four rows: two completions (with certificates and standings) are flushed, then the
    third fails. Nothing of the first two remains."""
    roster = tmp_path / "danh-sach.csv"
    roster.write_bytes(example_bytes())
    runner = courses.test_cli_runner()
    assert runner.invoke(args=["import-roster", str(roster)]).exit_code == 0
    before = drill.take(courses)
    real, calls = progress.record_completion, []

    def third_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise Injected("the disk went away")
        return real(*args, **kwargs)

    # `lms` gives each command an app context; the test runner does not for this one.
    with monkeypatch.context() as patched, courses.app_context():
        patched.setattr(progress, "record_completion", third_fails)
        failed = runner.invoke(args=["import-completions", str(COMPLETIONS)])
    assert isinstance(failed.exception, Injected) and failed.exit_code == 1
    assert len(calls) == 3
    assert drill.take(courses) == before
    with courses.app_context():
        done = runner.invoke(args=["import-completions", str(COMPLETIONS)])
    assert done.exit_code == 0, done.output
    assert drill.row_counts(courses)["completion"] == before["row counts"]["completion"] + 4
