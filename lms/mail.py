"""Outgoing e-mail over SMTP, configured by LMS_SMTP_URL and LMS_MAIL_FROM.

`smtp://user:password@host:587` uses STARTTLS when the server offers it (and requires it when
`?starttls=required`), `smtps://host:465` speaks TLS from the start, `smtp://host:25` plain. Callers
decide what a failure means: sending raises MailError and never half-sends a message.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 20


class MailError(Exception):
    """The message could not be handed to the SMTP server (settings, network or refusal)."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps)
    starttls: str  # "auto", "required" or "never"
    username: str
    password: str
    sender: str

    @classmethod
    def from_config(cls, config: Any) -> "MailSettings | None":
        """None when no SMTP server is configured (e-mail is then simply not sent)."""
        url = str(config.get("SMTP_URL") or "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError("LMS_SMTP_URL must look like smtp://user:password@host:587")
        query = parse_qs(parts.query)
        starttls = (query.get("starttls") or ["auto"])[0]
        if starttls not in ("auto", "required", "never"):
            raise MailError("LMS_SMTP_URL: starttls must be auto, required or never")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            sender=str(config.get("MAIL_FROM") or "").strip() or f"lms@{parts.hostname}",
        )


def new_message(
    settings: MailSettings, *, to: str, to_name: str, subject: str, body: str
) -> EmailMessage:
    """A plain-text UTF-8 message from the configured sender."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((to_name, to))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


class Mailer:
    """One SMTP connection for a batch of messages; use as a context manager."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "Mailer":
        s = self.settings
        try:
            if s.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
                smtp.ehlo()
                if s.starttls == "required" or (
                    s.starttls == "auto" and smtp.has_extn("starttls")
                ):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"cannot connect to {s.host}:{s.port}: {type(exc).__name__}") from exc
        self._smtp = smtp
        return self

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass  # the messages already accepted stay accepted
            self._smtp = None

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; MailError if it is refused."""
        if self._smtp is None:
            raise MailError("not connected")
        try:
            refused = self._smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(type(exc).__name__) from exc
        if refused:
            raise MailError("recipient refused")
