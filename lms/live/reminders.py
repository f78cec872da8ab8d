"""Reminders of live sessions: the text trainers and staff share by Zalo or SMS, and the e-mail
`lms send-reminders` sends the day before to the audience's learners who have an address."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from lms.accounts.models import Role, User
from lms.catalog.models import Module
from lms.db import db, utcnow
from lms.live.models import LiveAudience, LiveReminder, LiveSession
from lms.live.providers import LiveSettings
from lms.live.services import VN, session_ics_for
from lms.mail import Mailer, MailError, MailSettings, new_message
from lms.orgs.models import Officer, Organization
from lms.orgs.services import subtree_clause

log = logging.getLogger("lms.live")


def share_text(session: LiveSession, module: Module | None, page_url: str) -> str:
    """A short announcement to paste into Zalo or an SMS: what, when, and the session's page
    (never the meeting link itself: only the audience, signed in, gets that)."""
    start = session.start_dt.astimezone(VN)
    lines = [
        _("Live session: %(title)s", title=session.title),
        *([_("Module: %(title)s", title=module.title)] if module else []),
        _(
            "Time: %(time)s on %(date)s (Vietnam time), %(duration)s",
            time=start.strftime("%H:%M"),
            date=start.strftime("%d/%m/%Y"),
            duration=ngettext("%(num)d minute", "%(num)d minutes", session.minutes),
        ),
        _("Join here (sign in with your account): %(url)s", url=page_url),
    ]
    return "\n".join(lines)


def _audience_learners(session: LiveSession) -> sa.Select[tuple[User]]:
    """Active learners with an e-mail address for whom the session is (LIVE-01's audience)."""
    stmt = sa.select(User).where(
        User.role == Role.LEARNER,
        User.active.is_(True),
        User.email.is_not(None),
        User.email != "",
    )
    roots = list(
        db.session.scalars(
            sa.select(Organization)
            .join(LiveAudience, LiveAudience.org_id == Organization.id)
            .where(LiveAudience.session_id == session.id)
        )
    )
    if roots:
        units = sa.select(Organization.id).where(sa.or_(*(subtree_clause(r) for r in roots)))
        holders = sa.select(Officer.user_id).where(
            Officer.ended_on.is_(None), Officer.org_id.in_(units)
        )
        stmt = stmt.where(sa.or_(User.org_id.in_(units), User.id.in_(holders)))
    already = sa.select(LiveReminder.user_id).where(LiveReminder.session_id == session.id)
    return stmt.where(User.id.not_in(already)).order_by(User.id)


def due_sessions(now: datetime | None = None) -> list[LiveSession]:
    """Sessions not cancelled that start between now and the end of tomorrow, Vietnam time."""
    now = now or utcnow()
    tomorrow_end = datetime.combine(
        now.astimezone(VN).date() + timedelta(days=2), datetime.min.time(), tzinfo=VN
    )
    return list(
        db.session.scalars(
            sa.select(LiveSession)
            .where(
                LiveSession.cancelled_dt.is_(None),
                LiveSession.start_dt > now,
                LiveSession.start_dt < tomorrow_end,
            )
            .order_by(LiveSession.start_dt, LiveSession.id)
        )
    )


@dataclass
class ReminderRun:
    sent: int = 0
    failed: int = 0


def _message(session, module, user, mail: MailSettings, settings: LiveSettings, base_url: str):  # type: ignore[no-untyped-def]
    page_url = f"{base_url.rstrip('/')}/live/{session.public_id}"
    with force_locale(user.locale or "vi"):
        start = session.start_dt.astimezone(VN)
        subject = _(
            "Reminder: %(title)s at %(time)s on %(date)s",
            title=session.title,
            time=start.strftime("%H:%M"),
            date=start.strftime("%d/%m/%Y"),
        )
        body = "\n\n".join(
            part
            for part in (
                _("Dear %(name)s,", name=user.full_name),
                share_text(session, module, page_url),
                session.notes,
                _("The calendar file attached adds the session to your phone's calendar."),
            )
            if part
        )
    message = new_message(mail, to=user.email, to_name=user.full_name, subject=subject, body=body)
    ics = session_ics_for(session, settings, base_url, page_url=page_url)
    message.add_attachment(ics, maintype="text", subtype="calendar", filename="buoi-hoc.ics")
    return message


def send_reminders(
    mail: MailSettings, settings: LiveSettings, base_url: str, *, now: datetime | None = None
) -> ReminderRun:
    """E-mail each due session's learners once; a row records each message the server took.

    Commits after every accepted message, so a crash or a cron overlap never sends twice and a
    refused message (no row) is tried again on the next run (REL-11)."""
    run = ReminderRun()
    sessions = due_sessions(now)
    if not sessions:
        return run
    with Mailer(mail) as mailer:
        for session in sessions:
            module = db.session.get(Module, session.module_id)
            for user in db.session.scalars(_audience_learners(session)).all():
                try:
                    mailer.send(_message(session, module, user, mail, settings, base_url))
                except MailError as exc:
                    run.failed += 1
                    log.warning(
                        "reminder not sent: session=%s user=%s reason=%s",
                        session.id, user.id, exc, extra={"event": "reminder_failed"},
                    )  # fmt: skip
                    continue
                db.session.add(LiveReminder(session_id=session.id, user_id=user.id))
                db.session.commit()
                run.sent += 1
    return run
