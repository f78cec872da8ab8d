"""`lms gift parse FILE --json`: check a GIFT quiz file and print its questions."""

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from lms.quizzes import gift

gift_cli = AppGroup("gift", help="Read GIFT quiz files.")


@gift_cli.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the questions as JSON.")
def parse_command(file: Path, as_json: bool) -> None:
    """Parse a GIFT file; with --json print one JSON object per question (DESIGN.md §6).

    A parse error exits with status 1 and names the file, line and column on stderr.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        click.echo(_("%(file)s: not a UTF-8 text file", file=str(file)), err=True)
        sys.exit(1)
    try:
        questions = gift.parse(text)
    except gift.GiftError as exc:
        message = _(gift.MESSAGES[exc.code], **exc.params)
        click.echo(f"{file}:{exc.line}:{exc.column}: {message}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps([q.to_json() for q in questions], ensure_ascii=False, indent=2))
    else:
        count = ngettext("%(num)d question", "%(num)d questions", len(questions))
        click.echo(f"{file}: {count}")
