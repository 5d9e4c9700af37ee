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

import datetime
import os
import sys
import warnings

import click

from ipexpert import LANGUAGES
from ipexpert._errors import ProblemsReported

FORMATS = ("text", "markdown", "json", "html", "pdf", "docx")

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
@click.option("--prepared-by", "consultant", metavar="NAME", help="The consultant who prepared the report (HTML, PDF, DOCX).")
@click.option("--consultancy", metavar="FIRM", help="The consultant's firm, shown with --prepared-by.")
@click.option("--logo", type=click.Path(dir_okay=False), help="The consultancy's logo on the report: PNG, JPEG or SVG.")
@click.option(
    "--letterhead",
    type=click.Path(dir_okay=False),
    help="A YAML file with consultant, consultancy and logo (a path relative to it); the options above override it.",
)
@as_of_option
@rules_options
def evaluate(
    profile, fmt, output, assignments, lang, paper, consultant, consultancy, logo, letterhead, as_of, rule_paths, no_default_rules
):
    """Evaluate PROFILE (a YAML/JSON file, or - for stdin) and print its strategy outline or report."""
    from ipexpert import _api

    _speak(lang)
    if fmt in ("pdf", "docx") and (output is None or output == "-") and sys.stdout.isatty():
        raise click.UsageError(f"a {fmt.upper()} file is not written to a terminal: give -o FILE.{fmt}, or redirect the output")

    doc = read_profile(profile)
    if assignments:
        doc = _api.apply_assignments(doc, assignments)
    rules = load_rule_base(rule_paths, no_default_rules)
    if fmt in ("html", "pdf", "docx"):
        from ipexpert import Letterhead

        signed = Letterhead.from_options(letterhead, consultant, consultancy, logo)
        write_output(_api.report(doc, rules, as_of, lang=lang, format=fmt, paper=paper, letterhead=signed), output)
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
    """Which recommendations and risks appear, disappear or change level from profile A to profile B.

    Exits 0 whether or not the outlines differ: unlike diff(1), exit code 1 keeps its meaning
    in every ipexpert command, an invalid profile or pack. A script that needs to know reads
    the JSON: every `appeared`, `disappeared` and `changed` list is empty when nothing differs.
    """
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


def main():
    """Console-script entry point."""
    cli(prog_name="ipexpert")


# The other commands register themselves on `cli` and `rules` when their modules are imported.
from ipexpert.cli import practice as _practice_commands  # noqa: E402, F401
from ipexpert.cli import rules as _rules_commands  # noqa: E402, F401
from ipexpert.cli import running as _running_commands  # noqa: E402, F401
