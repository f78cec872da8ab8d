"""The only way Markdown becomes HTML: Python-Markdown, then nh3, plus the lesson-block registry.

Sanitising happens after rendering (XSS-02): Markdown itself passes raw HTML and javascript: links.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import markdown as md
import nh3
from markdown.extensions.toc import TocExtension, slugify_unicode
from markupsafe import Markup, escape

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "scope", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "ol": {"start"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _renderer() -> md.Markdown:
    return md.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "sane_lists",
            TocExtension(slugify=slugify_unicode, toc_depth="2-3"),
        ],
        output_format="html",
    )


def sanitise(html: str) -> str:
    """Keep formatting, drop scripts, handlers, styles, frames and unsafe URLs (nh3 allowlist)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> Markup:
    """Markdown to safe HTML; headings get Vietnamese-friendly ids ('đăng-nhập')."""
    # A lone surrogate (JSON may carry one) cannot be UTF-8: it becomes "?" rather than an error.
    text = (text or "").encode("utf-8", "replace").decode("utf-8")
    html = _renderer().convert(text)
    return Markup(sanitise(html))  # sanitised just above  # noqa: S704  # nosec B704


def render_inline(text: str) -> Markup:
    """Like render_markdown, for a short text inside a label: no wrapping paragraph."""
    html = str(render_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)  # already sanitised  # noqa: S704  # nosec B704


def render_plain(text: str) -> Markup:
    """Plain text (a post, a reflection) shown escaped, with its line breaks."""
    lines = [str(escape(line)) for line in (text or "").splitlines()]
    return Markup("<br>".join(lines))  # every line escaped  # noqa: S704  # nosec B704


# ---- in-lesson blocks ----------------------------------------------------------------------


class BlockError(ValueError):
    """A block's content is invalid; `line` counts from the block's first content line (1-based)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


BlockParser = Callable[[str], dict[str, Any]]
# kind -> parser(body) returning the block's stored data (rendered HTML, keys...). Rooms fill it.
BLOCKS: dict[str, BlockParser] = {}


def register_block(kind: str, parser: BlockParser) -> None:
    BLOCKS[kind] = parser


_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")
KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
MARKER = "<!--block:{key}-->"
MARKER_RE = re.compile(r"<!--block:([a-z0-9-]+)-->")


@dataclass(frozen=True)
class Block:
    kind: str
    key: str
    body: str
    line: int  # 1-based line of the opening fence in the lesson body


def split_blocks(text: str) -> tuple[str, list[Block]]:
    """Take registered blocks (```check key ...```) out of Markdown, leaving placeholders.

    Returns the Markdown with one placeholder paragraph per block, and the blocks in order.
    Fences of other languages stay ordinary code blocks. Raises BlockError for an unclosed block
    or a bad key, with the line in `text`.
    """
    lines = (text or "").split("\n")
    out: list[str] = []
    blocks: list[Block] = []
    i = 0
    counts: dict[str, int] = {}
    while i < len(lines):
        match = _FENCE.match(lines[i])
        kind, _, key = match.group("info").strip().partition(" ") if match else ("", "", "")
        if not match or kind not in BLOCKS:
            out.append(lines[i])
            i += 1
            continue
        fence, start = match.group("fence"), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if end is None:
            raise BlockError(f"block '{kind}' is not closed with {fence}", start + 1)
        counts[kind] = counts.get(kind, 0) + 1
        key = key.strip() or f"{kind}-{counts[kind]}"
        if not KEY_RE.fullmatch(key):
            raise BlockError(
                f"block key '{key}' must be lowercase letters, digits and dashes", start + 1
            )
        if any(b.key == key for b in blocks):
            raise BlockError(f"block key '{key}' is used twice in this lesson", start + 1)
        blocks.append(Block(kind, key, "\n".join(lines[start + 1 : end]), start + 1))
        out.extend(["", f"LMSBLOCK{len(blocks) - 1:04d}", ""])
        i = end + 1
    return "\n".join(out), blocks


def render_lesson(text: str) -> tuple[str, list[tuple[Block, dict[str, Any]]]]:
    """Render a lesson body: sanitised HTML with a marker where each block goes, and the
    blocks with their parsed data. Raises BlockError (with a line) for invalid blocks."""
    stripped, blocks = split_blocks(text)
    html = str(render_markdown(stripped))
    parsed = []
    for n, block in enumerate(blocks):
        try:
            data = BLOCKS[block.kind](block.body)
        except BlockError as exc:
            raise BlockError(str(exc), block.line + exc.line) from exc
        parsed.append((block, data))
        html = html.replace(f"<p>LMSBLOCK{n:04d}</p>", MARKER.format(key=block.key), 1)
    return html, parsed


def split_rendered(html: str) -> list[tuple[str, str]]:
    """Cut stored lesson HTML at its block markers: [("html", chunk), ("block", key), ...]."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for match in MARKER_RE.finditer(html):
        if match.start() > pos:
            parts.append(("html", html[pos : match.start()]))
        parts.append(("block", match.group(1)))
        pos = match.end()
    if pos < len(html):
        parts.append(("html", html[pos:]))
    return parts
