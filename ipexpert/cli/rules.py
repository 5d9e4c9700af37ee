"""`ipexpert rules ...`: list, show, check, test, diff, upgrade and translate rule packs."""

from __future__ import annotations

import click

from ipexpert import LANGUAGES
from ipexpert._errors import ProblemsReported
from ipexpert.cli import (
    _Group,
    as_of_option,
    cli,
    jobs_option,
    load_rule_base,
    rules_options,
    write_output,
)
from ipexpert.cli.practice import _evaluate_book, _report_failures


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


@rules.group("translation", cls=_Group)
def rules_translation():
    """Translate a rule pack's texts with any PO editor: export a PO file, import it back."""


@rules_translation.command("export")
@click.argument("pack_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--lang", required=True, type=click.Choice([x for x in LANGUAGES if x != "en"]), help="The language to translate into."
)
@click.option("--output", "-o", default="-", show_default=True, help="The PO file to write (- for standard output).")
def rules_translation_export(pack_file, lang, output):
    """Write the shown texts of PACK_FILE and their LANG translations as a gettext PO file."""
    from ipexpert._authoring import translations as _translations

    write_output(_translations.export(pack_file, lang), output)


@rules_translation.command("import")
@click.argument("pack_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("po_file", type=click.Path(exists=True, dir_okay=False))
def rules_translation_import(pack_file, po_file):
    """Merge the translations of PO_FILE into PACK_FILE's i18n/<lang>/<pack>.yaml (fuzzy and empty ones are left out)."""
    from ipexpert._authoring import translations as _translations

    merged = _translations.merge(pack_file, po_file)
    for line in merged.outdated:
        click.echo(line, err=True)
    click.echo(merged.summary())
