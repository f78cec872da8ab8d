"""`lms coverage`: the report of the whole tree (or one unit's subtree) as JSON, CSV or XLSX."""

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.coverage import exports, services


def _day(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value:
        try:
            services.parse_day(value)
        except services.CoverageError as exc:
            raise click.BadParameter(services.message(exc)) from exc
    return value


@click.command("coverage")
@click.option("--course", default="", help="Course slug (default: the newest published course).")
@click.option("--org", default="", help="Code of the unit whose subtree to report (default: all).")
@click.option("--as-of", "as_of", default="", callback=_day, help="YYYY-MM-DD (default: today).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")  # fmt: skip
@with_appcontext
def coverage_command(course: str, org: str, as_of: str, fmt: str, output: Path | None) -> None:
    """Print the coverage figures and every unit behind them."""
    try:
        ctx = services.resolve(None, services.Params(course=course, org=org, as_of=as_of))
    except services.CoverageError as exc:
        click.echo(f"Lỗi: {services.message(exc)}", err=True)
        sys.exit(1)
    data = _render(ctx, fmt)
    exports.log_export(ctx, fmt, "cli")
    if output is None:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
    else:
        output.write_bytes(data)
        click.echo(f"Đã ghi báo cáo vào {output}", err=True)


def _render(ctx: services.Context, fmt: str) -> bytes:
    found = services.targets(ctx)
    units = exports.iter_units(ctx)
    if fmt == "csv":
        return "".join(exports.csv_lines(ctx, units)).encode("utf-8")
    if fmt == "xlsx":
        with exports.xlsx_file(ctx, found, units) as book:
            return book.read()
    everything = list(units)
    page = services.UnitPage(everything, len(everything), 1, 1)
    text = json.dumps(services.report_json(ctx, found, page), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
