"""Small factories: add and flush, return the object (use inside an app context)."""

import itertools

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs import services as orgs
from lms.orgs.models import Organization

_seq = itertools.count(1)
PASSWORD = "mat-khau-thu-nghiem"  # noqa: S105


def make_org(
    code: str | None = None,
    *,
    kind: str = "district",
    parent: Organization | None = None,
    name: str | None = None,
    sector: str | None = None,
    members: int | None = None,
) -> Organization:
    n = next(_seq)
    code = code or f"U{n}"
    if kind == "grassroots" and sector is None:
        sector = "non_state"
    return orgs.create_org(
        code=code,
        name=name or f"Đơn vị {code}",
        kind=kind,
        parent=parent,
        sector=sector,
        member_count=members,
    )


def make_user(
    username: str | None = None,
    *,
    role: Role = Role.LEARNER,
    org: Organization | None = None,
    position: str | None = None,
    full_name: str | None = None,
    phone: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    n = next(_seq)
    user = accounts.create_user(
        full_name=full_name or f"Người dùng {n}",
        role=role,
        username=username or (None if phone else f"user{n}"),
        phone=phone,
        password=password,
        org_id=org.id if org else None,
    )
    if position and org is not None:
        orgs.appoint(user, org, position)
    db.session.flush()
    return user


def make_tree() -> dict[str, Organization]:
    """A province with two districts (A, B), each with a non-state and a state union."""
    province = make_org("P", kind="province", name="LĐLĐ tỉnh thử")
    a = make_org("A", kind="district", parent=province, name="LĐLĐ huyện A")
    b = make_org("B", kind="district", parent=province, name="LĐLĐ huyện B")
    return {
        "province": province,
        "a": a,
        "b": b,
        "a_union": make_org("A-1", kind="grassroots", parent=a, sector="non_state", members=1200),
        "a_state": make_org("A-2", kind="grassroots", parent=a, sector="state", members=40),
        "b_union": make_org("B-1", kind="grassroots", parent=b, sector="non_state", members=300),
    }


def make_course(slug: str = "khoa-thu", *, title: str = "Khóa thử", year: int = 2021, **kwargs):  # type: ignore[no-untyped-def]
    from lms.catalog.models import Course

    course = Course(slug=slug, title=title, year=year, **kwargs)
    db.session.add(course)
    db.session.flush()
    return course


def make_module(
    course, slug: str = "tien-luong", *, kind: str = "core", position: int = 1, **kwargs
):  # type: ignore[no-untyped-def]
    from lms.catalog.models import Module

    module = Module(
        course_id=course.id,
        slug=slug,
        title=kwargs.pop("title", f"Chuyên đề {slug}"),
        kind=kind,
        position=position,
        **kwargs,
    )
    db.session.add(module)
    db.session.flush()
    return module


def make_lesson(
    module,
    slug: str = "bai-1",
    *,
    position: int = 1,
    body_md: str = "Nội dung bài.",  # type: ignore[no-untyped-def]
    **kwargs,
):
    """A lesson rendered through the real pipeline, blocks included."""
    from lms.catalog.models import Lesson, LessonBlock
    from lms.markdown import render_lesson

    html, blocks = render_lesson(body_md)
    lesson = Lesson(
        module_id=module.id,
        slug=slug,
        position=position,
        title=kwargs.pop("title", slug),
        body_md=body_md,
        body_html=html,
        **kwargs,
    )
    db.session.add(lesson)
    db.session.flush()
    for n, (block, data) in enumerate(blocks):
        db.session.add(
            LessonBlock(lesson_id=lesson.id, key=block.key, kind=block.kind, position=n, data=data)
        )
    db.session.flush()
    return lesson


def make_quiz(module, source: str):  # type: ignore[no-untyped-def]
    """A quiz from GIFT text, through the same path as the course importer."""
    from lms.quizzes.services import sync_quiz

    quiz, _changed = sync_quiz(module, source)
    return quiz
