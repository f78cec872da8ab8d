"""The profile under load charges each py-spy sample to the layer it was in and ranks our own
functions by how often they were on the stack."""

import pytest

from benchmarks.profile import OTHER, markdown, summarise

WORKER = "SyncWorker.handle (gunicorn/workers/sync.py:141);Flask.wsgi_app (flask/app.py:1511)"
VIEW = f"{WORKER};lesson (lms/progress/views.py:71)"
# py-spy's raw format: the frames from the root, then how many samples had that stack.
RAW = "\n".join(
    [
        f"{WORKER};write (gunicorn/util.py:348) 20",
        f"{VIEW};lesson_page (lms/progress/services.py:172);"
        "DefaultDialect.do_execute (sqlalchemy/engine/default.py:1192) 10",
        f"{VIEW};lesson_page (lms/progress/services.py:172);"
        "Session.execute (sqlalchemy/orm/session.py:2555) 30",
        f"{VIEW};render_template (flask/templating.py:151);root (lesson.html:22);"
        "escape (markupsafe/__init__.py:40) 15",
        f"{VIEW};render_template (flask/templating.py:151);root (base.html:130) 5",
        f"{VIEW};lesson (lms/progress/views.py:83) 4",
        # A recursive function is on the stack once per sample.
        f"{VIEW};walk (lms/catalog/tree.py:10);walk (lms/catalog/tree.py:12);"
        "loads (json/__init__.py:346) 6",
        f"{WORKER};Flask.full_dispatch_request (flask/app.py:917) 10",
        "",
        "a line py-spy did not write",
    ]
)


def test_samples_are_charged_to_the_layer_of_the_running_frame() -> None:
    summary = summarise(RAW)
    assert summary.samples == 100
    assert summary.layers == pytest.approx(
        {
            "database driver (run and fetch)": 10.0,
            "SQLAlchemy": 30.0,
            "templates (Jinja, MarkupSafe)": 20.0,
            "gunicorn and the socket": 20.0,
            "Flask, Werkzeug and extensions": 10.0,
            "our code (lms/)": 4.0,
            OTHER: 6.0,
        }
    )
    assert sum(summary.layers.values()) == pytest.approx(100.0)


def test_our_functions_are_ranked_by_their_share_of_the_stacks() -> None:
    summary = summarise(RAW, top=3)
    assert summary.app == [
        ("lms/progress/views.py: lesson", pytest.approx(70.0)),
        ("lms/progress/services.py: lesson_page", pytest.approx(40.0)),
        ("lms/catalog/tree.py: walk", pytest.approx(6.0)),
    ]


def test_the_report_is_a_markdown_table_heaviest_layer_first() -> None:
    text = markdown("lesson on SQLite", {"req_per_s": 512.3, "p95": None}, summarise(RAW))
    lines = text.splitlines()
    assert lines[0] == "### lesson on SQLite"
    assert lines[2] == "req_per_s 512.3"  # figures not measured are left out
    layers = lines[lines.index("| layer | share of samples |") + 2 :][:7]
    assert layers[0] == "| SQLAlchemy | 30.0% |"
    assert layers[-1] == "| our code (lms/) | 4.0% |"
    assert "| `lms/progress/views.py: lesson` | 70.0% |" in lines


def test_no_samples_give_an_empty_summary() -> None:
    summary = summarise("")
    assert (summary.samples, summary.layers, summary.app) == (0, {}, [])
