"""Knowledge checks inside lessons: one GIFT question each, shown without its key and graded on
the server through the quiz room's question-type registry."""

import random

from lms.accounts.models import User
from lms.catalog.models import LessonBlock
from lms.progress.models import BlockResponse
from lms.progress.services import BlockItem, ResponseItem, answer_check
from lms.quizzes.models import Question
from lms.quizzes.question_types import kind


def _question(block: LessonBlock | BlockItem):  # type: ignore[no-untyped-def]
    """A transient Question built from the block's stored key, for the question-type registry."""
    data = block.data
    return Question(
        type=data["type"],
        text_html=data.get("text_html", ""),
        general_feedback_html=data.get("general_feedback_html"),
        data={"answers": data.get("answers", [])},
    )


def _entry(user: User, block: LessonBlock | BlockItem, question) -> dict:  # type: ignore[no-untyped-def]
    """The option order for this learner, stable across visits, with ids that reveal nothing:
    the registry shuffles with a seeded generator; the ids are then the display positions."""
    rng = random.Random(f"{user.id}:{block.id}")  # noqa: S311 - an order, not a secret
    entry = kind(question).layout(question, True, rng) or {}
    return {
        name: [[index, f"{name[0]}{n}"] for n, (index, _token) in enumerate(pairs)]
        for name, pairs in entry.items()
    }


def present(user: User, block: BlockItem, response: ResponseItem | None) -> dict:
    """What the lesson page shows for a check: the question and options (no key), and once
    answered, whether it was right and the feedback of what the learner chose."""
    question = _question(block)
    qtype = kind(question)
    answer = response.value.get("answer", {}) if response else {}
    view = {
        "input": qtype.input,
        "text_html": block.data.get("text_html", ""),
        "answered": response is not None,
        **qtype.present(question, _entry(user, block, question), answer),
    }
    if response is not None:
        score = float(response.value.get("score", 0.0))
        view.update(
            score=score,
            right=score >= 0.999,
            feedback=qtype.feedback(question, answer),
            general_feedback_html=block.data.get("general_feedback_html"),
        )
    return view


def answer_from_form(user: User, block: LessonBlock, posted) -> BlockResponse | None:  # type: ignore[no-untyped-def]
    """Grade a check from the submitted form on the server; ids that are not this block's are
    ignored (nothing is stored)."""
    question = _question(block)
    qtype = kind(question)
    answer = qtype.read(
        question, _entry(user, block, question), "answer", posted.to_dict(flat=False)
    )
    if answer is None:
        return None
    return answer_check(user, block, answer, qtype.grade(question, answer))
