"""GIFT questions as stored rows: texts rendered and sanitised once, keys kept server-side."""

import unicodedata
from typing import Any

from markupsafe import escape

from lms.markdown import BlockError, register_block, render_inline, render_markdown, sanitise
from lms.quizzes import gift


def render_text(text: str | None, fmt: str | None, *, inline: bool = False) -> str:
    """Render a GIFT text by format: markdown as Markdown, plain escaped, moodle/html as HTML."""
    if not text:
        return ""
    if fmt == "markdown":
        return str(render_inline(text) if inline else render_markdown(text))
    if fmt == "plain":
        return str(escape(text)).replace("\n", "<br>")
    html = sanitise(text.replace("\n", "<br>"))
    return html if inline else f"<p>{html}</p>"


def question_fields(q: gift.Question) -> dict[str, Any]:
    """The columns of a Question row (type, title, texts, and the answer key in `data`)."""
    answers = []
    for a in q.answers:
        fmt = a.text_format or q.text_format
        fb_fmt = getattr(a, "feedback_format", None) or fmt
        answers.append(
            {
                "text": unicodedata.normalize("NFC", a.text),
                "text_html": render_text(a.text, fmt, inline=True),
                "fraction": a.fraction,
                "feedback_html": render_text(a.feedback, fb_fmt, inline=True) or None,
                **{
                    k: getattr(a, k)
                    for k in ("match", "value", "tolerance", "min", "max")
                    if getattr(a, k) is not None
                },
            }
        )
    general_fmt = getattr(q, "general_feedback_format", None) or q.text_format
    return {
        "type": q.type,
        "title": q.title,
        "text_html": render_text(q.text, q.text_format),
        "general_feedback_html": render_text(q.general_feedback, general_fmt) or None,
        "data": {"answers": answers},
    }


def parse_check(body: str) -> dict[str, Any]:
    """A knowledge check inside a lesson: exactly one gradable GIFT question."""
    try:
        question = gift.parse_one(body)
    except gift.GiftError as exc:
        reason = gift.MESSAGES[exc.code] % exc.params if exc.params else gift.MESSAGES[exc.code]
        raise BlockError(f"column {exc.column}: {reason}", exc.line) from exc
    if question.type in ("essay", "description"):
        raise BlockError(
            "a knowledge check needs a question with answers, not an essay or description"
        )
    fields = question_fields(question)
    return {
        **{k: v for k, v in fields.items() if k != "data"},
        "answers": fields["data"]["answers"],
    }


def register() -> None:
    register_block("check", parse_check)
