"""`lms import-courses [DIR] [--check]`."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.authoring.importer import import_courses
from lms.authoring.loader import ContentErrors, load_courses
from lms.db import db

OUTCOMES = {
    "created": "tạo mới",
    "updated": "cập nhật",
    "unchanged": "không đổi",
    "retired": "ngừng dùng",
}
THINGS = {
    "course": "khóa học",
    "module": "chuyên đề",
    "lesson": "bài học",
    "block": "khối tương tác",
    "quiz": "bài kiểm tra",
}


@click.command("import-courses")
@click.argument(
    "directory",
    required=False,
    default="courses",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option("--check", is_flag=True, help="Only validate the files; write nothing.")
@with_appcontext
def import_courses_command(directory: Path, check: bool) -> None:
    """Validate the course files in DIRECTORY (default: courses/) and import them, all or none."""
    try:
        specs = load_courses(directory)
    except ContentErrors as exc:
        for error in exc.errors:
            click.echo(f"Lỗi: {error}", err=True)
        click.echo(f"{len(exc.errors)} lỗi; không nhập gì.", err=True)
        sys.exit(1)
    modules = sum(len(c.modules) for c in specs)
    if check:
        click.echo(f"Hợp lệ: {len(specs)} khóa học, {modules} chuyên đề.")
        return
    report = import_courses(specs)
    db.session.commit()
    click.echo(f"Đã nhập {len(specs)} khóa học, {modules} chuyên đề.")
    for key, count in sorted(report.counts.items()):
        what, outcome = key.split(".")
        click.echo(f"  {THINGS[what]}: {count} {OUTCOMES[outcome]}")
