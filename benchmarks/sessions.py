"""Signed-in sessions and open quiz attempts for the load generators, made through the product's
own code (start_session, Flask-Login's login_user, Flask-WTF's token) in one process, so that a
scenario does not spend its first seconds running argon2 for thousands of sign-ins. A few real
sign-ins over HTTP (the runner's smoke check) prove the shared password hash works."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask, session
from flask_login import login_user
from flask_wtf.csrf import generate_csrf

USER_AGENT = "lms-bench/1"


@dataclass(frozen=True)
class Visitor:
    username: str
    user_id: int
    cookie: str  # "name=value", ready for a Cookie header
    csrf: str


def mint(app: Flask, usernames: list[str]) -> list[Visitor]:
    """One signed-in session per user, committed, with the cookie a browser would hold."""
    from lms.accounts import services as accounts
    from lms.accounts.models import User
    from lms.db import db

    visitors = []
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    for username in usernames:
        with app.test_request_context(
            headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        ):
            user = db.session.scalars(sa.select(User).where(User.username == username)).one()
            accounts.start_session(user, USER_AGENT)
            login_user(user)
            session.permanent = True
            token = generate_csrf()
            db.session.commit()
            cookie = f"{name}={serializer.dumps(dict(session))}"
            visitors.append(Visitor(username, user.id, cookie, token))
    return visitors


def open_attempts(app: Flask, visitors: list[Visitor], module_ids: list[int]) -> list[dict]:
    """An open attempt per visitor and module, with the form that answers it right."""
    from lms.db import db
    from lms.quizzes import services as quizzes

    out = []
    with app.app_context():
        for v in visitors:
            user = db.session.get(quizzes.User, v.user_id)
            for module_id in module_ids:
                attempt, _new = quizzes.start_attempt(user, quizzes.available_quiz(module_id))
                db.session.flush()
                form = answer_form(attempt, quizzes.attempt_questions(attempt))
                form["csrf_token"] = v.csrf
                out.append(
                    {
                        "visitor": v,
                        "public_id": attempt.public_id,
                        "body": urlencode(form, doseq=True),
                    }
                )
        db.session.commit()
    return out


def answer_form(attempt: Any, questions: list[Any]) -> dict[str, Any]:
    """Right answers for the question types the shipped quizzes use (others are left blank)."""
    form: dict[str, Any] = {"q": [str(q.id) for q in questions], "revision": str(attempt.revision)}
    for q in questions:
        entry = attempt.layout.get("questions", {}).get(str(q.id), {})
        items, name = q.data.get("answers", []), f"a{q.id}"
        tokens = {index: token for index, token in entry.get("options", [])}
        if q.type == "multiple_choice":
            best = max(range(len(items)), key=lambda i: items[i]["fraction"])
            form[name] = tokens[best]
        elif q.type == "multiple_answer":
            form[name] = [tokens[i] for i, a in enumerate(items) if a["fraction"] > 0]
        elif q.type == "true_false":
            form[name] = next(a["text"] for a in items if a["fraction"] > 0)
        elif q.type == "short_answer" and items:
            form[name] = max(items, key=lambda a: a["fraction"])["text"]
        elif q.type == "numerical" and items:
            form[name] = _number(items[0])
        elif q.type == "matching":
            form.update(_matching(q, entry, items))
    return form


def _number(answer: dict[str, Any]) -> str:
    value = answer.get("value", answer.get("min", 0))
    return str(int(value)) if float(value).is_integer() else str(value)


def _matching(q: Any, entry: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for stem, stem_token in entry.get("stems", []):
        for choice, choice_token in entry.get("choices", []):
            if items[choice]["match"] == items[stem]["match"]:
                out[f"a{q.id}-{stem_token}"] = choice_token
                break
    return out
