"""`lms import-courses [DIR] [--check]` and `lms export-course SLUG DIR [--overwrite]`."""

import sys
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms.authoring.exporter import ExportError, TargetNotEmpty, course_files, write_course
from lms.authoring.importer import import_courses
from lms.authoring.loader import ContentErrors, load_courses
from lms.catalog.models import Course
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


@click.command("export-course")
@click.argument("slug")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace the course files already in DIR/SLUG.")
@with_appcontext
def export_course_command(slug: str, directory: Path, overwrite: bool) -> None:
    """Write the course SLUG back to files in DIRECTORY/SLUG/, in the courses/ format."""
    course = db.session.scalars(sa.select(Course).where(Course.slug == slug)).first()
    if course is None:
        _fail(f"Lỗi: không có khóa học nào có mã '{slug}'.")
    try:
        files = course_files(course)
        target = write_course(course, directory, overwrite=overwrite)
    except TargetNotEmpty as exc:
        _fail(f"Lỗi: thư mục {exc.path} đã có nội dung; thêm --overwrite để ghi đè.")
    except (ExportError, OSError) as exc:
        _fail(f"Lỗi: không xuất được khóa học '{slug}': {exc}")
    modules = sum(name.endswith("/module.toml") for name in files)
    lessons = sum(name.endswith(".md") for name in files)
    click.echo(
        f"Đã xuất khóa học {slug} vào {target}: {len(files)} tệp, "
        f"{modules} chuyên đề, {lessons} bài học."
    )


def _fail(message: str) -> NoReturn:
    """Print a message on stderr and exit with status 1 (invalid input)."""
    click.echo(message, err=True)
    sys.exit(1)
