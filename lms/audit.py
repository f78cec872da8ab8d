"""Security and audit events: one escaped line each, with time, request id, user and address."""

import logging
import re

from flask import Flask, g, has_request_context, request
from flask_login import current_user

log = logging.getLogger("lms.audit")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """Escape control characters so that user input can never forge or split a log line."""
    text = str(value)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class RequestContextFilter(logging.Filter):
    """Adds request id, user id and client address to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        record.user_id = "-"
        record.ip = "-"
        if has_request_context():
            record.request_id = getattr(g, "request_id", "-")
            record.ip = clean(request.remote_addr or "-")
            user = getattr(g, "_login_user", None) or current_user
            if user is not None and getattr(user, "is_authenticated", False):
                record.user_id = str(user.id)
        if not hasattr(record, "event"):
            record.event = "-"
        record.msg = clean(record.msg)
        return True


def configure(app: Flask) -> None:
    """Send the lms loggers to stderr in UTC with the request context on each line."""
    root = logging.getLogger("lms")
    if any(isinstance(f, RequestContextFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    formatter = logging.Formatter(
        "%(asctime)sZ %(levelname)s %(name)s event=%(event)s request=%(request_id)s "
        "user=%(user_id)s ip=%(ip)s %(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    import time

    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestContextFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def log_event(event: str, **fields: object) -> None:
    """Record a security-relevant event (login, logout, role change, denial...)."""
    detail = " ".join(f"{key}={clean(value)!s}" for key, value in fields.items())
    log.info(detail, extra={"event": event})
