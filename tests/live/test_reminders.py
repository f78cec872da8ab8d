"""`lms send-reminders` against a real SMTP server on 127.0.0.1, and the text shared by Zalo."""

import email
import socket
from datetime import datetime, timedelta
from email import policy

import icalendar
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db, utcnow
from lms.live import reminders, services
from lms.live.models import LiveReminder
from lms.live.providers import LiveSettings
from tests.factories import make_course, make_module, make_tree, make_user


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses addresses starting 'refuse'."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.refuse and address.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox(app):  # type: ignore[no-untyped-def]
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_FROM="hoctap@ldld.example.vn")
    try:
        yield handler
    finally:
        controller.stop()
        app.config.update(SMTP_URL="", MAIL_FROM="")


def _vn_tomorrow_at(hour: int, minute: int, days: int = 1) -> datetime:
    today = utcnow().astimezone(services.VN).date()
    return datetime.combine(today + timedelta(days=days), datetime.min.time()).replace(
        hour=hour, minute=minute
    )


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    course = make_course()
    module = make_module(course, title="Thương lượng tiền lương")
    trainer = make_user("giangvien", role=Role.TRAINER, full_name="Giảng viên")
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    a_chair = make_user("chutich_a", org=tree["a_union"], position="chair", full_name="Lê Thị Ánh")
    a_chair.email = "anh@example.vn"
    english = make_user("vice_a", org=tree["a_union"], position="vice_chair")
    english.email, english.locale = "vice@example.vn", "en"
    make_user("no_email", org=tree["a_union"], position="core_member")  # no address: skipped
    refused = make_user("refused_a", org=tree["a_union"], position="collaborator")
    refused.email = "refuse@example.vn"
    b_chair = make_user("chutich_b", org=tree["b_union"], position="chair")
    b_chair.email = "b@example.vn"  # district B: not in the audience
    db.session.flush()

    def schedule(start, **kwargs):  # type: ignore[no-untyped-def]
        values = {"title": "Họp <b>trực tuyến</b>", "minutes": 90, "provider": "jitsi",
                  "audience_codes": ["A"], "settings": LiveSettings()}  # fmt: skip
        values.update(kwargs)
        return services.schedule(trainer, module, start_local=start, **values)

    return {"module": module, "schedule": schedule, "a_chair": a_chair, "english": english}


def _sent_to(inbox: Inbox) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in inbox.messages)


def test_reminders_go_once_to_the_audience_the_day_before(runner, inbox, world) -> None:
    tomorrow = world["schedule"](_vn_tomorrow_at(19, 30))
    world["schedule"](_vn_tomorrow_at(19, 30, days=3), title="Sau ba ngày")  # not due yet
    cancelled = world["schedule"](_vn_tomorrow_at(8, 0), title="Đã hủy")
    cancelled.cancelled_dt = utcnow()
    db.session.flush()

    result = runner.invoke(args=["send-reminders"])

    assert result.exit_code == 1, result.output  # one address refused by the server
    assert "Đã gửi 2 thư" in result.output and "1 thư chưa gửi được" in result.output
    assert _sent_to(inbox) == ["anh@example.vn", "vice@example.vn"]
    message = next(m for m in inbox.messages if m["To"].addresses[0].addr_spec.startswith("anh"))
    assert message["From"] == "hoctap@ldld.example.vn"
    assert "19:30" in message["Subject"] and "Nhắc lịch" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Lê Thị Ánh" in body and "Thương lượng tiền lương" in body
    assert f"/live/{tomorrow.public_id}" in body
    assert tomorrow.location not in body  # the page, never the room itself
    attachment = next(iter(message.iter_attachments()))
    event = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart").strftime("%H:%M") == "19:30"
    english = next(m for m in inbox.messages if m["To"].addresses[0].addr_spec.startswith("vice"))
    assert english["Subject"].startswith("Reminder:")

    inbox.messages.clear()
    inbox.refuse = False
    again = runner.invoke(args=["send-reminders"])
    assert again.exit_code == 0, again.output
    assert _sent_to(inbox) == ["refuse@example.vn"]  # the refused one is retried, nobody twice
    reminded = db.session.scalars(sa.select(LiveReminder.session_id)).all()
    assert reminded == [tomorrow.id] * 3


def test_a_refused_message_is_logged_without_the_address(runner, inbox, world, caplog) -> None:
    world["schedule"](_vn_tomorrow_at(7, 0))
    runner.invoke(args=["send-reminders"])
    warnings = [r.getMessage() for r in caplog.records if r.name == "lms.live"]
    assert len(warnings) == 1 and "reminder not sent" in warnings[0]
    assert "refuse@example.vn" not in caplog.text


def test_no_smtp_server_configured_or_reachable_is_exit_1(app, runner, world) -> None:
    world["schedule"](_vn_tomorrow_at(19, 30))
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 1 and "LMS_SMTP_URL" in result.output
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_free_port()}"  # nothing listens there
    try:
        result = runner.invoke(args=["send-reminders"])
    finally:
        app.config["SMTP_URL"] = ""
    assert result.exit_code == 1 and "máy chủ thư" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveReminder)) == 0


def test_share_text_names_the_session_in_vietnam_time_and_its_page(app_ctx, world) -> None:
    session = world["schedule"](datetime(2026, 3, 1, 19, 30))
    text = reminders.share_text(session, world["module"], "https://hoc.example.vn/live/x")
    assert text.splitlines() == [
        "Buổi học trực tuyến: Họp <b>trực tuyến</b>",
        "Chuyên đề: Thương lượng tiền lương",
        "Thời gian: 19:30 ngày 01/03/2026 (giờ Việt Nam), 90 phút",
        "Vào học tại (đăng nhập bằng tài khoản của anh/chị): https://hoc.example.vn/live/x",
    ]
