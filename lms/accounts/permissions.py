"""View decorators that let a request through only for the right roles (fail closed)."""

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import current_user

from lms.accounts.models import Role

log = logging.getLogger("lms.audit")


def require_role(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in required, then 403 unless the user has one of the roles."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from lms.extensions import login_manager

                return login_manager.unauthorized()
            try:
                allowed = current_user.role in roles
            except Exception:  # a broken check denies rather than lets through (AC-08)
                log.exception("permission check failed", extra={"event": "access.error"})
                allowed = False
            if not allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


STAFF_ROLES = (Role.STAFF, Role.ADMIN)
