"""The `reflect` and `case` lesson blocks: parsed and rendered once, when a lesson is imported."""

import tomllib
from typing import Any

from lms.markdown import BlockError, register_block, render_inline, render_markdown


def parse_reflect(body: str) -> dict[str, Any]:
    """A reflection prompt: Markdown about the learner's own union."""
    if not body.strip():
        raise BlockError("the reflection prompt is empty")
    return {"prompt_html": str(render_markdown(body))}


def parse_case(body: str) -> dict[str, Any]:
    """A branching case study written in TOML: title, situation and [[choice]] tables."""
    try:
        spec = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise BlockError(
            f"case block is not valid TOML: {exc}", getattr(exc, "lineno", 1) or 1
        ) from exc
    situation = spec.get("situation")
    choices = spec.get("choice")
    if not isinstance(situation, str) or not situation.strip():
        raise BlockError("case block needs a 'situation'")
    if not isinstance(choices, list) or len(choices) < 2:
        raise BlockError("case block needs at least two [[choice]] tables")
    rendered = []
    for n, choice in enumerate(choices, 1):
        missing = [
            k for k in ("text", "consequence", "feedback") if not str(choice.get(k, "")).strip()
        ]
        if missing:
            raise BlockError(f"choice {n} of the case block lacks: {', '.join(missing)}")
        rendered.append(
            {
                "text_html": str(render_inline(choice["text"])),
                "consequence_html": str(render_markdown(choice["consequence"])),
                "feedback_html": str(render_markdown(choice["feedback"])),
                "best": bool(choice.get("best", False)),
            }
        )
    return {
        "title": str(spec.get("title", "")).strip(),
        "situation_html": str(render_markdown(situation)),
        "choices": rendered,
    }


def register() -> None:
    register_block("reflect", parse_reflect)
    register_block("case", parse_case)
