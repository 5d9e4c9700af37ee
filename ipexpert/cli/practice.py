"""The consultant's practice: the agenda across a client book and the review against the ledger."""

from __future__ import annotations

import contextlib
import sys

import click

from ipexpert import LANGUAGES
from ipexpert._errors import ProblemsReported
from ipexpert.cli import (
    as_of_option,
    cli,
    jobs_option,
    load_rule_base,
    rules_options,
    write_output,
)
from ipexpert.cli.running import _progress_bar


@contextlib.contextmanager
def _book_progress(paths):
    """Progress over a client book on stderr: a bar on a terminal; for a long book, a plain line every tenth otherwise."""
    from ipexpert._practice import book

    count = len(book.items(paths))
    if sys.stderr.isatty():
        with _progress_bar(count) as update:
            yield update
        return
    step, done = max(1, count // 10), [0]

    def line(n):
        done[0] += n
        if count >= PLAIN_PROGRESS_FROM and (done[0] % step == 0 or done[0] == count):
            click.echo(f"evaluated {done[0]} of {count} profiles", err=True)

    yield line


PLAIN_PROGRESS_FROM = 100  # books shorter than this print no progress lines off a terminal


def _report_failures(clients) -> None:
    """Each failed client's problems on stderr, then exit 1 (the rest of the book has been answered)."""
    from ipexpert._practice import book

    problems = book.failures(clients)
    for problem in problems:
        click.echo(problem.format(), err=True)
    if problems:
        raise ProblemsReported()


def _evaluate_book(book_paths, as_of, lang, jobs, rule_paths, no_default_rules):
    """Every client of the book, evaluated with a progress report on stderr."""
    from ipexpert._practice import book

    with _book_progress(book_paths) as progress:
        return book.evaluate(
            book_paths,
            rule_paths=rule_paths,
            defaults=not no_default_rules,
            as_of=as_of,
            lang=lang,
            jobs=jobs,
            rules=load_rule_base(rule_paths, no_default_rules),
            progress=progress,
        )


@cli.command()
@click.argument("book_paths", metavar="BOOK...", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(  # 3660: ipexpert._practice.agenda.MAX_DAYS, not imported here so that --help stays quick
    "--days", type=click.IntRange(0, 3660), default=90, show_default=True, help="How many days after --as-of to look."
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "ics", "html"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to this file (atomically) instead of stdout."
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language of the titles and labels.")
@as_of_option
@jobs_option
@rules_options
def agenda(book_paths, days, fmt, output, lang, as_of, jobs, rule_paths, no_default_rules):
    """Every dated item of every client in BOOK (folders or files of profiles) due within --days, overdue first."""
    from ipexpert import _api
    from ipexpert._practice import agenda as _agenda

    as_of = _api.parse_date(as_of)
    clients = _evaluate_book(book_paths, as_of, lang, jobs, rule_paths, no_default_rules)
    entries = _agenda.build(clients, as_of, days)
    write_output(_agenda.render(fmt, entries, clients, as_of, days, lang), output)
    _report_failures(clients)


@cli.command()
@click.argument("book_paths", metavar="[BOOK]...", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--ledger",
    "ledger_url",
    metavar="URL",
    default=None,
    help="The ledger: postgresql://... (needs: pip install 'ipexpert[postgres]') or a SQLite file; default BOOK/.ipexpert/ledger.sqlite.",
)
@click.option("--no-record", is_flag=True, help="Compare with the ledger but record nothing.")
@click.option(
    "--history", "history_of", metavar="CLIENT", default=None, help="List the recorded evaluations of CLIENT (its firm name)."
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="Language of the report and the titles it quotes.",
)
@as_of_option
@jobs_option
@rules_options
def review(book_paths, ledger_url, no_record, history_of, lang, as_of, jobs, rule_paths, no_default_rules):
    """What changed for each client of BOOK since its last recorded evaluation; then record the new ones."""
    from ipexpert._practice import book, ledger
    from ipexpert._practice import review as _review

    if not book_paths and ledger_url is None:
        raise click.UsageError("give the BOOK folder (its ledger is BOOK/.ipexpert/ledger.sqlite) or --ledger URL")
    url = ledger_url or book.default_ledger(book_paths)
    with ledger.open_ledger(url, create=history_of is None) as the_ledger:
        if history_of is not None:
            click.echo(_review.history_text(history_of, the_ledger.history(history_of), ledger.shown(url), lang), nl=False)
            return
        if not book_paths:
            raise click.UsageError("give the BOOK to review")
        clients = _evaluate_book(book_paths, as_of, lang, jobs, rule_paths, no_default_rules)
        reviews = _review.review(clients, the_ledger, record=not no_record)
    failed = sum(not c.ok for c in clients)
    click.echo(_review.to_text(reviews, ledger.shown(url), not no_record, failed, lang), nl=False)
    _report_failures(clients)
