"""The `ipexpert` command: a thin layer that parses arguments, calls the library and prints.

Exit codes are decided here and only here: 0 success, 1 invalid input (profile, rule
pack, test failure), 2 usage error. No traceback reaches the user; set IPEXPERT_DEBUG=1
to see one for an internal error.
"""

from __future__ import annotations

import datetime
import os
import sys

import click

FORMATS = ("text", "markdown", "json")


class _Group(click.Group):
    """Turns library errors into one line per problem and the right exit code."""

    def invoke(self, ctx):
        from ._errors import IPExpertError

        try:
            return super().invoke(ctx)
        except IPExpertError as exc:
            for problem in exc.problems:
                click.echo(problem.format(), err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("ipexpert: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # the last line of defence: one line, not a traceback
            if os.environ.get("IPEXPERT_DEBUG"):
                raise
            from ._errors import one_line

            click.echo(f"ipexpert: internal error: {type(exc).__name__}: {one_line(exc)} (set IPEXPERT_DEBUG=1 for details)", err=True)
            ctx.exit(1)


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime.date):
            return value
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)
        if not 1800 <= day.year <= 2200:  # the rules' date arithmetic must stay within what a date can hold
            self.fail(f"{value!r} is out of range; give a date between 1800-01-01 and 2200-12-31", param, ctx)
        return day


DATE = _Date()


def rules_options(func):
    """--rules DIR (repeatable) and --no-default-rules."""
    func = click.option("--no-default-rules", is_flag=True, help="Do not load the bundled rule packs.")(func)
    func = click.option(
        "--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
        help="A folder (or file) of rule packs to load after the bundled ones. Repeatable.",
    )(func)
    return func


def as_of_option(func):
    return click.option("--as-of", type=DATE, default=None, help="The date the advice is computed for (default: today).")(func)


def load_rule_base(rule_paths, no_default_rules):
    from . import _api

    if not rule_paths and not no_default_rules:
        return _api.default_rules()
    return _api.load_rules(*rule_paths, defaults=not no_default_rules)


def read_profile(path: str):
    """A profile Document from a path, or from stdin for `-`."""
    from . import _profile, _yaml

    if path == "-":
        raw = sys.stdin.buffer.read(_yaml.MAX_BYTES + 1)
        return _profile.parse(raw, "<stdin>")
    return _profile.read(os.fspath(path), path)


def write_output(text: str, output: str | None) -> None:
    """Print *text*, or write it atomically to *output*."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    from ._output import write_atomic

    write_atomic(output, text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ipexpert", message="ipexpert %(version)s")
def cli():
    """A justified IP-protection strategy outline for a cross-border e-commerce firm."""


@cli.command()
@click.argument("profile")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to this file (atomically) instead of stdout.")
@click.option("--set", "assignments", multiple=True, metavar="PATH=VALUE", help="Change a profile value before evaluating (what if), e.g. firm.stage=stable. Repeatable.")
@as_of_option
@rules_options
def evaluate(profile, fmt, output, assignments, as_of, rule_paths, no_default_rules):
    """Evaluate PROFILE (a YAML/JSON file, or - for stdin) and print its strategy outline."""
    from . import _api, _render

    doc = read_profile(profile)
    if assignments:
        from ._whatif import apply_assignments

        doc = apply_assignments(doc, assignments)
    outline = _api.evaluate(doc, load_rule_base(rule_paths, no_default_rules), as_of)
    write_output(_render.render(outline, fmt), output)


@cli.command()
@click.argument("profiles", nargs=-1, required=True)
def validate(profiles):
    """Check PROFILES against the schema; print one line per problem."""
    from . import _api
    from ._errors import InvalidProfileError

    invalid = 0
    for path in profiles:
        try:
            doc = read_profile(path)
            problems = _api.validate(doc)
        except InvalidProfileError as exc:
            problems = exc.problems
        for problem in problems:
            click.echo(problem.format())
        invalid += bool(problems)
    click.echo(f"{len(profiles)} checked, {invalid} invalid", err=True)
    sys.exit(1 if invalid else 0)


@cli.command()
@click.argument("which", type=click.Choice(["profile", "rule-pack", "outline", "test-case"]))
def schema(which):
    """Print the JSON Schema of a profile, rule pack, outline or test case."""
    from . import _resources, _schemas

    click.echo((_resources.schemas_dir() / _schemas.SCHEMA_FILES[which]).read_text(encoding="utf-8"), nl=False)


@cli.group(cls=_Group)
def rules():
    """List, show, check and test rule packs."""


@rules.command("test")
@click.argument("paths", nargs=-1)
@click.option("--coverage", is_flag=True, help="Also list the rules no test case made fire.")
@rules_options
def rules_test(paths, coverage, rule_paths, no_default_rules):
    """Run the YAML test cases in PATHS (default: the bundled ones)."""
    from . import _testcases

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
    sys.exit(1 if failed or not cases else 0)


@rules.command("list")
@rules_options
def rules_list(rule_paths, no_default_rules):
    """List the loaded packs (name, version, file) and their rules (id, category, title, source)."""
    from . import _ruleinfo, _rulepack

    click.echo("\n".join(_ruleinfo.table(_rulepack.load(rule_paths, defaults=not no_default_rules))))


@rules.command("show")
@click.argument("rule")
@rules_options
def rules_show(rule, rule_paths, no_default_rules):
    """Show RULE (pack/id) as written, where it lives, what it concludes and which rules use that."""
    from . import _ruleinfo, _rulepack

    packs = _rulepack.load(rule_paths, defaults=not no_default_rules)
    click.echo("\n".join(_ruleinfo.page(packs, _ruleinfo.find(packs, rule))))


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--no-default-rules", is_flag=True, help="Check PATHS alone, without the bundled rule packs.")
def rules_check(paths, no_default_rules):
    """Check the rule packs in PATHS (with the bundled ones): one line per problem, exit 1 on errors."""
    from . import _check

    problems = _check.check(paths, defaults=not no_default_rules)
    for problem in problems:
        click.echo(problem.format())
    click.echo(_check.summary(problems, len(_check.default_paths(paths, not no_default_rules))), err=True)
    sys.exit(1 if any(p.severity == "error" for p in problems) else 0)


@cli.command()
@click.argument("source", metavar="INPUT", type=click.Path(exists=True))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The JSON Lines file to write (atomically).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True, help="Worker processes; 0 means one per core.")
@as_of_option
@rules_options
def batch(source, output, jobs, as_of, rule_paths, no_default_rules):
    """Evaluate every profile in INPUT (a JSON Lines file or a folder) into one JSON line each."""
    from . import _batch

    items = _batch.collect(source)
    options = dict(rule_paths=rule_paths, defaults=not no_default_rules, as_of=as_of, jobs=jobs or _batch.default_jobs())
    if sys.stderr.isatty():
        with click.progressbar(length=len(items), label="evaluating", file=sys.stderr) as bar:
            summary = _batch.run(items, output, progress=bar.update, **options)
    else:
        summary = _batch.run(items, output, **options)
    click.echo(summary.format(), err=True)
    sys.exit(1 if summary.invalid else 0)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port to listen on.")
@rules_options
def serve(host, port, rule_paths, no_default_rules):
    """Answer evaluate and validate requests over HTTP (needs: pip install 'ipexpert[serve]')."""
    try:
        from . import _serve
    except ImportError as exc:
        click.echo(f"ipexpert: serve needs the optional HTTP packages ({exc.name} is missing): pip install 'ipexpert[serve]'", err=True)
        sys.exit(1)
    _serve.serve(load_rule_base(rule_paths, no_default_rules), host, port)


@cli.command()
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The profile to write (YAML, atomically, at the end).")
@click.option("--from", "partial", type=click.Path(exists=True, dir_okay=False), default=None, help="A partial profile to continue: only what is missing is asked.")
@click.option("--lang", type=click.Choice(["en", "zh-CN"]), default="en", show_default=True, help="The interview's language.")
@as_of_option
@rules_options
def interview(output, partial, lang, as_of, rule_paths, no_default_rules):
    """Ask only the questions that can change the outline, write the profile, offer the outline."""
    from . import _api, _interview_term, _questions

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("the interview needs a terminal; in a browser, run `ipexpert serve` and open its page")
    state = _questions.State()
    if partial:
        state = _questions.read_partial(partial)
    engine = _questions.engine(load_rule_base(rule_paths, no_default_rules), _api.parse_date(as_of))
    try:
        _interview_term.run(output, state, engine, lang)
    except (KeyboardInterrupt, EOFError):
        from ._interview_text import texts

        click.echo(texts(lang).ui("cancelled"), err=True)
        sys.exit(130)


@cli.command()
@click.argument("profile")
@click.argument("target", metavar="RULE-OR-ID")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@as_of_option
@rules_options
def explain(profile, target, fmt, as_of, rule_paths, no_default_rules):
    """How a recommendation, risk or rule of PROFILE's outline was concluded, or why a rule did not fire."""
    import json

    from . import _explain

    data = _explain.explain(read_profile(profile), target, load_rule_base(rule_paths, no_default_rules), as_of)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if fmt == "json" else _explain.render(data), nl=fmt == "json")


@cli.command("diff")
@click.argument("profile_a", metavar="A")
@click.argument("profile_b", metavar="[B]", required=False)
@click.option("--set", "assignments", multiple=True, metavar="PATH=VALUE", help="Change a value of B (or of A when B is not given) before comparing. Repeatable.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@as_of_option
@rules_options
def diff_command(profile_a, profile_b, assignments, fmt, as_of, rule_paths, no_default_rules):
    """Which recommendations and risks appear, disappear or change level from profile A to profile B."""
    import json

    from . import _api, _diff

    if profile_b is None and not assignments:
        raise click.UsageError("give a second profile B, or --set PATH=VALUE to compare A with a changed copy")
    rule_base = load_rule_base(rule_paths, no_default_rules)
    as_of = _api.parse_date(as_of)
    doc_b = read_profile(profile_b or profile_a)
    if assignments:
        from ._whatif import apply_assignments

        doc_b = apply_assignments(doc_b, assignments)
    data = _diff.diff(_api.evaluate(read_profile(profile_a), rule_base, as_of), _api.evaluate(doc_b, rule_base, as_of))
    if assignments:
        data["after"] = f"{profile_b or profile_a} with {', '.join(assignments)}"
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if fmt == "json" else _diff.render(data), nl=fmt == "json")


def main():
    """Console-script entry point."""
    cli(prog_name="ipexpert")
