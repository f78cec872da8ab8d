"""`lms live create …`, `lms live join-url ID --user USERNAME` and `lms send-reminders`
(shared/DESIGN.md §6, §7)."""

import sys
from datetime import datetime
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lms.accounts.models import User
from lms.catalog.models import Course, Module
from lms.db import db
from lms.live import reminders, services
from lms.live.providers import PROVIDERS, LiveSettings
from lms.mail import MailError, MailSettings

live_cli = AppGroup("live", help="Schedule live sessions and check who may join them.")


def _fail(message: str) -> NoReturn:
    """Print a message on stderr and exit with status 1 (invalid input)."""
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(1)


def _user(username: str, field: str) -> User:
    user = db.session.scalars(sa.select(User).where(User.username == username.strip())).first()
    if user is None:
        _fail(f"{field}: không có tài khoản nào có tên đăng nhập '{username}'.")
    return user


def _module(slug: str, course_slug: str | None) -> Module:
    stmt = sa.select(Module).join(Course, Course.id == Module.course_id).where(Module.slug == slug)
    if course_slug:
        stmt = stmt.where(Course.slug == course_slug)
    # The same module slug may exist in several courses (one per year): take the newest.
    module = db.session.scalars(
        stmt.order_by(Course.year.desc(), Course.created_dt.desc(), Course.id.desc())
    ).first()
    if module is None:
        where = f" trong khóa học '{course_slug}'" if course_slug else ""
        _fail(f"--module: không có chuyên đề nào có mã '{slug}'{where}.")
    return module


@live_cli.command("create")
@click.option("--module", "module_slug", required=True, help="Slug of the module.")
@click.option("--course", "course_slug", default=None, help="Slug of the course (default: newest).")
@click.option("--title", required=True, help="Title of the session.")
@click.option("--start", required=True, help='Start, Vietnam time: "YYYY-MM-DD HH:MM".')
@click.option("--minutes", required=True, type=int, help="Duration in minutes (15-600).")
@click.option("--provider", required=True, type=click.Choice(sorted(PROVIDERS)))
@click.option("--url", default=None, help="Meeting link (google_meet, other).")
@click.option("--trainer", default=None, help="Username of the trainer running the session.")
@click.option("--audience", "audience", multiple=True, help="Unit code (repeatable; default all).")
@click.option("--notes", default="", help="Notes for participants.")
@click.option("--covers-module", is_flag=True, help="Confirmed attendance completes the module.")
def create_session(
    module_slug: str,
    course_slug: str | None,
    title: str,
    start: str,
    minutes: int,
    provider: str,
    url: str | None,
    trainer: str | None,
    audience: tuple[str, ...],
    notes: str,
    covers_module: bool,
) -> None:
    """Schedule a live session; prints the new session's id alone."""
    try:
        start_local = datetime.strptime(start.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        _fail(f"--start: '{start}' không đúng dạng YYYY-MM-DD HH:MM (giờ Việt Nam).")
    module = _module(module_slug, course_slug)
    trainer_user = _user(trainer, "--trainer") if trainer else None
    try:
        session = services.schedule(
            None,
            module,
            title=title,
            start_local=start_local,
            minutes=minutes,
            provider=provider,
            url=url,
            notes=notes,
            audience_codes=audience,
            trainer=trainer_user,
            covers_module=covers_module,
            settings=LiveSettings.from_config(current_app.config),
        )
    except services.LiveError as exc:
        db.session.rollback()
        _fail(services.message(exc))
    db.session.commit()
    click.echo(session.id)


@live_cli.command("join-url")
@click.argument("session_id", type=int)
@click.option("--user", "username", required=True, help="Username of the participant.")
def join_url(session_id: int, username: str) -> None:
    """Print the URL USERNAME would join session ID with (refused outside its audience)."""
    session = services.get_session(session_id)
    if session is None:
        _fail(f"ID: không có buổi học trực tuyến nào có mã {session_id}.")
    user = _user(username, "--user")
    try:
        found = services.join_link(user, session, LiveSettings.from_config(current_app.config))
    except services.LiveError as exc:
        _fail(f"--user: {services.message(exc)}")
    click.echo(found.url)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """E-mail the day-before reminders of live sessions (run it from cron, e.g. hourly).

    Each learner gets one reminder per session; a message the server refused is tried again
    on the next run. Exit 1 when the SMTP server cannot be reached or refused a message."""
    try:
        mail = MailSettings.from_config(current_app.config)
    except MailError as exc:
        _fail(str(exc))
    if mail is None:
        _fail("LMS_SMTP_URL chưa được đặt: không gửi được thư nhắc lịch.")
    settings = LiveSettings.from_config(current_app.config)
    try:
        run = reminders.send_reminders(mail, settings, current_app.config["BASE_URL"])
    except MailError as exc:
        _fail(f"không kết nối được máy chủ thư: {exc}")
    click.echo(f"Đã gửi {run.sent} thư nhắc lịch; {run.failed} thư chưa gửi được.")
    if run.failed:
        sys.exit(1)
