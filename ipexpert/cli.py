"""The `ipexpert` command: a thin layer that parses arguments, calls the library and prints.

Commands raise; exit codes are decided in one place, `_exit_code` below, which is also
the one boundary where foreign exceptions become a one-line message:

    0    success
    1    invalid input: a profile, rule pack or test case with problems, a failed test case,
         a file that cannot be read or written
    2    usage error (unknown option, bad argument)
    3    internal error: a bug in ipexpert (set IPEXPERT_DEBUG=1 for the traceback)
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import warnings

import click

from ipexpert import LANGUAGES
from ipexpert._errors import ProblemsReported

FORMATS = ("text", "markdown", "json", "html", "pdf")

LANG_KEY = "ipexpert.lang"  # the command's --lang, so its errors are printed in that language


def _speak(lang: str) -> None:
    """Print this command's errors in *lang*."""
    click.get_current_context().meta[LANG_KEY] = lang


EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _exit_code(exc: Exception | KeyboardInterrupt, lang: str = "en") -> int:
    """Print *exc* as one line per problem on stderr (in *lang*) and return the exit code it means."""
    from ipexpert import _api
    from ipexpert._errors import IPExpertError, one_line

    if isinstance(exc, IPExpertError):
        for problem in exc.problems:
            click.echo(_api.problem_line(problem, lang), err=True)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        click.echo("ipexpert: interrupted", err=True)
        return EXIT_INTERRUPTED
    if isinstance(exc, OSError):  # a file or stream the command was given cannot be used
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"ipexpert: {one_line(where + (exc.strerror or str(exc)))}", err=True)
        return EXIT_INVALID
    click.echo(f"ipexpert: internal error: {type(exc).__name__}: {one_line(exc)} (set IPEXPERT_DEBUG=1 for details)", err=True)
    return EXIT_INTERNAL


class _Group(click.Group):
    """The boundary: every exception a command raises becomes its exit code here."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except (Exception, KeyboardInterrupt) as exc:  # the last line of defence: one line, not a traceback
            if os.environ.get("IPEXPERT_DEBUG") and not _expected(exc):
                raise
            ctx.exit(_exit_code(exc, ctx.meta.get(LANG_KEY, "en")))


def _expected(exc: BaseException) -> bool:
    """True for the errors a user causes and can fix, as opposed to a bug."""
    from ipexpert._errors import IPExpertError

    return isinstance(exc, (IPExpertError, KeyboardInterrupt, OSError))


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime.date):
            return value
        from ipexpert import _api
        from ipexpert._errors import IPExpertError

        try:
            return _api.parse_date(value)  # the one statement of what a date may be (format and range)
        except IPExpertError as exc:
            self.fail(exc.problems[0].message, param, ctx)


DATE = _Date()


def rules_options(func):
    """--rules DIR (repeatable) and --no-default-rules."""
    func = click.option("--no-default-rules", is_flag=True, help="Do not load the bundled rule packs.")(func)
    func = click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True),
        help="A folder (or file) of rule packs to load after the bundled ones. Repeatable.",
    )(func)
    return func


def as_of_option(func):
    return click.option("--as-of", type=DATE, default=None, help="The date the advice is computed for (default: today).")(func)


def jobs_option(func):
    return click.option(
        "--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True, help="Worker processes; 0 means one per core."
    )(func)


def load_rule_base(rule_paths, no_default_rules):
    from ipexpert import _api

    if not rule_paths and not no_default_rules:
        return _api.default_rules()
    return _api.load_rules(*rule_paths, defaults=not no_default_rules)


def read_profile(path: str):
    """A profile Document from a path, or from stdin for `-`."""
    from ipexpert import _api

    return _api.read_profile(path)


def write_output(text: str | bytes, output: str | None) -> None:
    """Print *text* (or bytes), or write it atomically to *output*."""
    if output is None or output == "-":
        click.echo(text, nl=False)  # bytes go to the binary stream as they are
        return
    from ipexpert import _api

    _api.write_output(output, text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ipexpert", message="ipexpert %(version)s")
def cli():
    """A justified IP-protection strategy outline for a cross-border e-commerce firm."""
    warnings.showwarning = _show_warning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A pack's warning as its one line (FILE:LINE:COL: warning: ...) on stderr; others as Python shows them."""
    from ipexpert import _api

    if _api.is_pack_warning(message):
        click.echo(str(message), err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@cli.command()
@click.argument("profile")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file (atomically) instead of stdout; a pipe or device is written through.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change a profile value before evaluating (what if), e.g. firm.stage=stable. Repeatable.",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language of the outline or report.")
@click.option("--paper", type=click.Choice(("A4", "Letter")), default="A4", show_default=True, help="Page size of a PDF report.")
@as_of_option
@rules_options
def evaluate(profile, fmt, output, assignments, lang, paper, as_of, rule_paths, no_default_rules):
    """Evaluate PROFILE (a YAML/JSON file, or - for stdin) and print its strategy outline or report."""
    from ipexpert import _api

    _speak(lang)
    if fmt == "pdf" and (output is None or output == "-") and sys.stdout.isatty():
        raise click.UsageError("a PDF is not written to a terminal: give -o FILE.pdf, or redirect the output")

    doc = read_profile(profile)
    if assignments:
        doc = _api.apply_assignments(doc, assignments)
    rules = load_rule_base(rule_paths, no_default_rules)
    if fmt in ("html", "pdf"):
        write_output(_api.report(doc, rules, as_of, lang=lang, format=fmt, paper=paper), output)
        return
    outline = _api.evaluate(doc, rules, as_of, lang=lang)
    write_output(_api.render(outline, fmt), output)


@cli.command()
@click.argument("profiles", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language of the messages.")
def validate(profiles, lang):
    """Check PROFILES against the schema; print one line per problem."""
    from ipexpert import _api
    from ipexpert._errors import InvalidProfileError

    _speak(lang)
    invalid = 0
    for path in profiles:
        try:
            doc = read_profile(path)
            problems = _api.validate(doc)
        except InvalidProfileError as exc:
            problems = exc.problems
        for problem in problems:
            click.echo(_api.problem_line(problem, lang))
        invalid += bool(problems)
    click.echo(_api.validate_summary(len(profiles), invalid, lang), err=True)
    if invalid:
        raise ProblemsReported()


@cli.command()
@click.argument("which", type=click.Choice(["profile", "rule-pack", "outline", "test-case"]))
@click.option("--path", "as_path", is_flag=True, help="Print where the installed schema file is, for an editor's settings.")
def schema(which, as_path):
    """Print the JSON Schema of a profile, rule pack, outline or test case."""
    from ipexpert import _api

    path = _api.schema_file(which)
    click.echo(str(path) if as_path else path.read_text(encoding="utf-8"), nl=as_path)


@cli.command()
@click.argument("folder")
def init(folder):
    """Write the example profiles, the schemas and a starter rule pack with its test case into FOLDER.

    FOLDER is made if it is missing; a file already there is never overwritten.
    """
    from ipexpert._authoring import starter as _starter

    written = _starter.init(folder)
    click.echo(f"wrote {len(written)} files into {folder}: examples/, schemas/, my-packs/ (a starter pack) and my-packs/tests/")
    click.echo(f"next: cd {folder} && ipexpert evaluate examples/spinwell-trending.yaml --rules my-packs/")


@cli.group(cls=_Group)
def rules():
    """List, show, check and test rule packs."""


@rules.command("test")
@click.argument("paths", nargs=-1)
@click.option("--coverage", is_flag=True, help="Also list the rules no test case made fire.")
@rules_options
def rules_test(paths, coverage, rule_paths, no_default_rules):
    """Run the YAML test cases in PATHS (default: the bundled ones)."""
    from ipexpert._authoring import testcases as _testcases

    rule_base = load_rule_base(rule_paths, no_default_rules)
    cases = _testcases.collect(paths or [_testcases.default_dir()])
    failed = 0
    fired = set()
    for case in cases:
        result = _testcases.run(case, rule_base)
        fired |= result.fired
        if result.ok:
            click.echo(f"PASS {case.id}")
        else:
            failed += 1
            click.echo(f"FAIL {case.id}")
            for line in result.report():
                click.echo(f"    {line}")
    click.echo(f"{len(cases) - failed} passed, {failed} failed")
    if coverage:
        unfired = [r.key for r in rule_base.rules if r.key not in fired]
        click.echo(f"rules no test case made fire: {len(unfired)} of {len(rule_base.rules)}")
        for key in unfired:
            click.echo(f"    {key}")
    if failed or not cases:
        raise ProblemsReported()


@rules.command("list")
@rules_options
def rules_list(rule_paths, no_default_rules):
    """List the loaded packs (name, version, file) and their rules (id, category, title, source)."""
    from ipexpert import _api
    from ipexpert._authoring import ruleinfo as _ruleinfo

    click.echo("\n".join(_ruleinfo.table(_api.load_packs(rule_paths, defaults=not no_default_rules))))


@rules.command("show")
@click.argument("rule")
@rules_options
def rules_show(rule, rule_paths, no_default_rules):
    """Show RULE (pack/id) as written, where it lives, what it concludes and which rules use that."""
    from ipexpert import _api
    from ipexpert._authoring import ruleinfo as _ruleinfo

    packs = _api.load_packs(rule_paths, defaults=not no_default_rules)
    click.echo("\n".join(_ruleinfo.page(packs, _api.find_rule(packs, rule))))


@rules.command("sources")
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="How many facts to list, oldest check first."
)
@click.option("--all", "show_all", is_flag=True, help="List every sourced fact.")
@rules_options
def rules_sources(limit, show_all, rule_paths, no_default_rules):
    """List the packs' sourced facts, oldest check first: date checked, fact, official or estimate, source."""
    from ipexpert import _api
    from ipexpert._authoring import sources as _sources

    packs = _api.load_packs(rule_paths, defaults=not no_default_rules)
    click.echo("\n".join(_sources.table(packs, None if show_all else limit)))


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--no-default-rules", is_flag=True, help="Check PATHS alone, without the bundled rule packs.")
def rules_check(paths, no_default_rules):
    """Check the rule packs in PATHS (with the bundled ones): one line per problem, exit 1 on errors."""
    from ipexpert._authoring import check as _check

    problems = _check.check(paths, defaults=not no_default_rules)
    for problem in problems:
        click.echo(problem.format())
    click.echo(_check.summary(problems, len(_check.default_paths(paths, not no_default_rules))), err=True)
    if any(p.severity == "error" for p in problems):
        raise ProblemsReported()


@rules.command("diff")
@click.argument("old", type=click.Path(exists=True))
@click.argument("new", type=click.Path(exists=True))
@click.argument("book_paths", metavar="BOOK...", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
@click.option("--no-default-rules", is_flag=True, help="Compare OLD and NEW alone, without the bundled rule packs.")
@as_of_option
@jobs_option
def rules_diff(old, new, book_paths, fmt, no_default_rules, as_of, jobs):
    """Whose advice changes from rule packs OLD to NEW (folders layered on the bundled packs) over BOOK."""
    from ipexpert import _api
    from ipexpert._practice import release

    as_of = _api.parse_date(as_of)
    before = _evaluate_book(book_paths, as_of, None, jobs, (old,), no_default_rules)
    after = _evaluate_book(book_paths, as_of, None, jobs, (new,), no_default_rules)
    data = release.compare(before, after)
    click.echo(release.to_json(data) if fmt == "json" else release.to_text(data), nl=False)
    _report_failures([*before, *after])


@rules.command("upgrade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def rules_upgrade(paths):
    """Rewrite the ?name variables of the packs in PATHS as $name, in place (comments and layout kept)."""
    from ipexpert._authoring.upgrade import upgrade

    failed = False
    for path, count, problems in upgrade(paths):
        for problem in problems:
            click.echo(problem.format(), err=True)
        failed = failed or bool(problems)
        if not problems:
            click.echo(f"{path}: {count} variable(s) rewritten as $name" if count else f"{path}: nothing to change")
    if failed:
        raise ProblemsReported()


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
@as_of_option
@rules_options
def batch(source, output, jobs, engine, scheduler, partition_size, column, output_format, as_of, rule_paths, no_default_rules):
    """Evaluate every profile in INPUT (JSON Lines, a folder, or Parquet; a path or URL) into one record each."""
    from ipexpert._batch import dispatch as _dispatch

    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
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
    graceful_timeout,
    max_outline_items,
    max_outline_bytes,
    book_paths,
    max_pdf_items,
    time_limit,
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
            graceful_timeout=graceful_timeout,
            rule_paths=tuple(os.path.abspath(p) for p in rule_paths),
            defaults=not no_default_rules,
            book=tuple(os.path.abspath(p) for p in book_paths),
            limits=_options.Limits(
                outline_items=max_outline_items, outline_bytes=max_outline_bytes, pdf_items=max_pdf_items, seconds=time_limit
            ),
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


@cli.command()
@click.argument("profile")
@click.argument("target", metavar="RULE-OR-ID")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
@as_of_option
@rules_options
def explain(profile, target, fmt, as_of, rule_paths, no_default_rules):
    """How a recommendation, risk or rule of PROFILE's outline was concluded, or why a rule did not fire."""
    import json

    from ipexpert import _api

    data = _api.explain(read_profile(profile), target, load_rule_base(rule_paths, no_default_rules), as_of)
    click.echo(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) if fmt == "json" else _api.explanation_text(data),
        nl=fmt == "json",
    )


@cli.command("diff")
@click.argument("profile_a", metavar="A")
@click.argument("profile_b", metavar="[B]", required=False)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change a value of B (or of A when B is not given) before comparing. Repeatable.",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
@as_of_option
@rules_options
def diff_command(profile_a, profile_b, assignments, fmt, as_of, rule_paths, no_default_rules):
    """Which recommendations and risks appear, disappear or change level from profile A to profile B."""
    import json

    from ipexpert import _api

    if profile_b is None and not assignments:
        raise click.UsageError("give a second profile B, or --set PATH=VALUE to compare A with a changed copy")
    rule_base = load_rule_base(rule_paths, no_default_rules)
    as_of = _api.parse_date(as_of)
    doc_b = read_profile(profile_b or profile_a)
    if assignments:
        doc_b = _api.apply_assignments(doc_b, assignments)
    data = _api.diff(_api.evaluate(read_profile(profile_a), rule_base, as_of), _api.evaluate(doc_b, rule_base, as_of))
    if assignments:
        data["after"] = f"{profile_b or profile_a} with {', '.join(assignments)}"
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if fmt == "json" else _api.diff_text(data), nl=fmt == "json")


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
@as_of_option
@jobs_option
@rules_options
def review(book_paths, ledger_url, no_record, history_of, as_of, jobs, rule_paths, no_default_rules):
    """What changed for each client of BOOK since its last recorded evaluation; then record the new ones."""
    from ipexpert._practice import book, ledger
    from ipexpert._practice import review as _review

    if not book_paths and ledger_url is None:
        raise click.UsageError("give the BOOK folder (its ledger is BOOK/.ipexpert/ledger.sqlite) or --ledger URL")
    url = ledger_url or book.default_ledger(book_paths)
    with ledger.open_ledger(url, create=history_of is None) as the_ledger:
        if history_of is not None:
            click.echo(_review.history_text(history_of, the_ledger.history(history_of), ledger.shown(url)), nl=False)
            return
        if not book_paths:
            raise click.UsageError("give the BOOK to review")
        clients = _evaluate_book(book_paths, as_of, None, jobs, rule_paths, no_default_rules)
        reviews = _review.review(clients, the_ledger, record=not no_record)
    click.echo(_review.to_text(reviews, ledger.shown(url), not no_record, sum(not c.ok for c in clients)), nl=False)
    _report_failures(clients)


def main():
    """Console-script entry point."""
    cli(prog_name="ipexpert")
