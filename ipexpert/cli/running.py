"""The commands that run for long: batch, serve (the HTTP service) and the terminal interview."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from ipexpert import LANGUAGES
from ipexpert._errors import ProblemsReported
from ipexpert.cli import (
    _speak,
    as_of_option,
    cli,
    load_rule_base,
    rules_options,
)


@contextlib.contextmanager
def _progress_bar(length):
    """A progress callback drawing a bar on a terminal from the first input done, so notes printed before stay whole."""
    if not sys.stderr.isatty() or length is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        bars: list = []

        def update(done):
            if not bars:
                bars.append(stack.enter_context(click.progressbar(length=length, label="evaluating", file=sys.stderr)))
            bars[0].update(done)

        yield update


@cli.command()
@click.argument("source", metavar="INPUT")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(),
    help="The JSON Lines file to write (atomically), - for standard output, or the folder for --output-format parquet.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes (with --engine dask: of the local cluster); 0 means one per core.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Evaluate here, or on a Dask cluster (needs: pip install 'ipexpert[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="With --engine dask: the scheduler of an existing cluster (tcp://host:8786); default: a local cluster.",
)
@click.option(
    "--partition-size", type=click.IntRange(min=1), default=50, show_default=True, help="With --engine dask: inputs per task."
)
@click.option(
    "--column",
    default="profile",
    show_default=True,
    help="For a Parquet INPUT: the column holding each profile's JSON or YAML text.",
)
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "parquet"]),
    default="jsonl",
    show_default=True,
    help="JSON Lines, or a folder with inputs.parquet and recommendations.parquet.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Keep the records an earlier run already wrote for the first inputs (the output, or what a killed run left beside it) and evaluate the rest; local engine, JSON Lines output.",
)
@as_of_option
@rules_options
def batch(
    source, output, jobs, engine, scheduler, partition_size, column, output_format, resume, as_of, rule_paths, no_default_rules
):
    """Evaluate every profile in INPUT (JSON Lines, a folder, or Parquet; a path or URL) into one record each.

    INPUT `-` reads JSON Lines from standard input; its records are named `<stdin>:LINE`.
    """
    from ipexpert._batch import dispatch as _dispatch

    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    if resume and (engine != "local" or output_format != "jsonl" or output == "-"):
        raise click.UsageError("--resume works with the local engine writing JSON Lines to a file")
    count, call = _dispatch.prepare(
        source,
        output,
        engine=engine,
        scheduler=scheduler,
        jobs=jobs or _dispatch.default_jobs(),
        partition_size=partition_size,
        column=column,
        output_format=output_format,
        echo=lambda line: click.echo(line, err=True),
        rule_paths=rule_paths,
        defaults=not no_default_rules,
        as_of=as_of,
        resume=resume,
    )
    with _progress_bar(count) as progress:
        summary = call(progress)
    click.echo(summary.format(), err=True)
    if summary.invalid:
        raise ProblemsReported()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Evaluating processes, each with its own engine; about one per core.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Requests being answered at once (a connection still sending its request does not count); more get 503; /healthz is always answered.",
)
@click.option(
    "--connections-per-client",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Open connections from one client address; more are closed at once.",
)
@click.option(
    "--keep-alive",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds an idle connection is kept open between requests.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send complete request headers.",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a client has to send the request body after its headers.",
)
@click.option(
    "--send-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds an answer may wait for a client that stops reading it; then the connection is dropped.",
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="On SIGTERM, seconds requests in flight may still take.",
)
@click.option(
    "--max-outline-items",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Recommendations, risks and timeline entries one answer may hold; more get 413.",
)
@click.option(
    "--max-outline-bytes",
    type=click.IntRange(min=1024),
    default=16 * 1024 * 1024,
    show_default=True,
    help="Bytes of JSON one answer may hold; more get 413.",
)
@click.option(
    "--book",
    "book_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="A folder (or file) of client profiles, read for each GET /v1/agenda and /v1/agenda.ics. Repeatable.",
)
@click.option(
    "--max-pdf-items",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Recommendations, risks and timeline entries a PDF report may hold (about 0.13 s each); more get 413.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds of CPU one request may take; past it the work is stopped, the process replaced, and the answer is 503.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log one line per request answered (client, request line, status) to standard error.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="The least severe log lines written to standard error.",
)
@rules_options
def serve(
    host,
    port,
    workers,
    concurrency,
    connections_per_client,
    keep_alive,
    header_timeout,
    body_timeout,
    send_timeout,
    graceful_timeout,
    max_outline_items,
    max_outline_bytes,
    book_paths,
    max_pdf_items,
    time_limit,
    access_log,
    log_level,
    rule_paths,
    no_default_rules,
):
    """Answer evaluate and validate requests over HTTP (needs: pip install 'ipexpert[serve]')."""
    from ipexpert._errors import MissingExtraError

    try:
        from ipexpert._service import options as _options
        from ipexpert._service import server as _server
    except ImportError as exc:
        raise MissingExtraError(
            f"serve needs the optional HTTP packages ({exc.name} is missing): pip install 'ipexpert[serve]'"
        ) from None
    load_rule_base(rule_paths, no_default_rules)  # a broken pack stops here, with its problems, before any worker starts
    _server.serve(
        _options.Options(
            host=host,
            port=port,
            workers=workers,
            concurrency=concurrency,
            connections_per_client=connections_per_client,
            keep_alive=keep_alive,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            send_timeout=send_timeout,
            graceful_timeout=graceful_timeout,
            rule_paths=tuple(os.path.abspath(p) for p in rule_paths),
            defaults=not no_default_rules,
            book=tuple(os.path.abspath(p) for p in book_paths),
            limits=_options.Limits(
                outline_items=max_outline_items, outline_bytes=max_outline_bytes, pdf_items=max_pdf_items, seconds=time_limit
            ),
            access_log=access_log,
            log_level=log_level,
        )
    )


@cli.command()
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False), help="The profile to write (YAML, atomically, at the end)."
)
@click.option(
    "--from",
    "partial",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A partial profile to continue: only what is missing is asked.",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="The interview's language.")
@as_of_option
@rules_options
def interview(output, partial, lang, as_of, rule_paths, no_default_rules):
    """Ask only the questions that can change the outline, write the profile, offer the outline and the report."""
    from ipexpert._interview import terminal as _terminal

    _speak(lang)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("the interview needs a terminal; in a browser, run `ipexpert serve` and open its page")
    _terminal.interview(output, partial, lang, load_rule_base(rule_paths, no_default_rules), as_of)
