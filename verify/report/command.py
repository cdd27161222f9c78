"""`verify report`: build the Allure HTML report of a run's results or of the monitor history."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--results",
    "results",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="An Allure results directory of a run (pytest/verify run --alluredir DIR); repeatable.",
)
@click.option(
    "--history",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A monitor history (reports/monitor/ENV/history.jsonl).",
)
@click.option("--last", type=click.IntRange(1), help="Only the history's last N iterations.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/allure-report"),
    show_default=True,
    help="The report directory (replaced); serve it over HTTP to view it.",
)
@click.option("--name", default="verify", show_default=True, help="The report's title.")
def report(
    results: tuple[Path, ...], history: Path | None, last: int | None, output: Path, name: str
) -> None:
    """Build an Allure HTML report (the npm `allure` 3 command line, installed on first use).

    Failed checks carry their evidence; a frontend failure's screenshot is attached. View it with
    `python -m http.server -d OUTPUT` (the report loads its data over HTTP).
    """
    from verify.report import allure_cli, history_results

    if not results and history is None:
        raise click.UsageError("give --results DIR (a run) or --history FILE (the monitor)")

    def say(line: str) -> None:
        click.echo(f"verify report: {line}", err=True)

    with tempfile.TemporaryDirectory(prefix="verify-report-") as tmp:
        sources = list(results)
        if history is not None:
            converted = Path(tmp) / "history"
            count = history_results.write(history, converted, last)
            say(f"{count} check results from {history}")
            sources.append(converted)
        try:
            allure_cli.generate(sources, output, name, say)
        except allure_cli.ReportError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(output / "index.html"))
    sys.stdout.flush()
