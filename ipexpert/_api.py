"""The library's entry points: load rules once, validate and evaluate profiles."""

from __future__ import annotations

import datetime
import functools

from ipexpert._engine import rulebase as _rulebase
from ipexpert._reading import facts as _facts
from ipexpert._outline import assemble as _assemble
from ipexpert._reading import profile as _profile
from ipexpert._knowledge import packs as _packs
from ipexpert._common import values as _values
from ipexpert._errors import EvaluationError, IPExpertError, Problem


def load_rules(*paths, defaults: bool = True) -> _rulebase.RuleBase:
    """Compile the bundled rule packs (unless *defaults* is false) plus the packs in *paths*.

    The result is immutable and may be shared between threads; compile it once and reuse it.
    Raises InvalidRulePackError with every problem found.
    """
    return _rulebase.RuleBase(_packs.load(paths, defaults=defaults))


@functools.lru_cache(maxsize=1)
def default_rules() -> _rulebase.RuleBase:
    """The bundled rule packs, compiled on first use."""
    return load_rules()


def validate(profile, name: str | None = None) -> list[Problem]:
    """Every problem with *profile* (a dict, YAML/JSON text, or a path); empty when it is valid."""
    from ipexpert._errors import InvalidProfileError

    try:
        doc = _profile.read(profile, name)
    except InvalidProfileError as exc:
        return exc.problems
    return _profile.problems(doc)


def evaluate(
    profile, rules: _rulebase.RuleBase | None = None, as_of=None, name: str | None = None, lang: str | None = None
) -> _assemble.Outline:
    """The justified strategy outline for *profile* (a dict, YAML/JSON text, or a path).

    *as_of* (a date or YYYY-MM-DD) is the date the advice is computed for; today by default.
    *lang* is the language of its texts: "en" (default) or "zh-CN".
    Raises InvalidProfileError if the profile is invalid.
    """
    return evaluate_run(profile, rules, as_of, name, lang)[0]


def report(
    profile,
    rules: _rulebase.RuleBase | None = None,
    as_of=None,
    name: str | None = None,
    lang: str | None = None,
    format: str = "html",
    paper: str = "A4",
):
    """The client report for *profile*: one self-contained HTML page (str), or a PDF (bytes).

    *format* is "html" or "pdf" (PDF needs the `ipexpert[pdf]` extra); *paper* is "A4" or "Letter".
    """
    from ipexpert._outputs import report as _report

    outline, run, doc = evaluate_run(profile, rules, as_of, name, lang)
    return _report.render(outline, run, doc, format, paper)


def explain(profile, target: str, rules=None, as_of=None, name: str | None = None) -> dict:
    """How *target* (a recommendation/risk id or a rule) was concluded for *profile*, or why it was not, as plain data."""
    from ipexpert._outline import explain as _explain

    rules = rules if rules is not None else default_rules()
    outline, run, doc = evaluate_run(profile, rules, as_of, name)
    return _explain.explain(outline, run, doc, rules, target, evaluate=evaluate_run)


def evaluate_run(profile, rules=None, as_of=None, name=None, lang=None):
    """(outline, run record, checked profile Document): `evaluate` plus what explanations need."""
    from ipexpert import __version__
    from ipexpert._knowledge import i18n as _i18n

    as_of = parse_date(as_of)
    lang = _i18n.check_language(lang)
    with _rulebase.collector_paused():
        doc = _profile.check(_profile.read(profile, name))
        rules = rules if rules is not None else default_rules()
        run = rules.run(_facts.build(doc.data, as_of), as_of)
        try:
            outline = _assemble.assemble(run, rules, doc, __version__, lang)
        except (OverflowError, ValueError, TypeError) as exc:
            # e.g. a rule's date arithmetic running past year 9999
            raise EvaluationError(Problem("<rules>", None, None, "$", f"a conclusion could not be computed: {exc}")) from None
        return outline, run, doc


EARLIEST, LATEST = datetime.date(1800, 1, 1), datetime.date(2200, 12, 31)


def parse_date(value) -> datetime.date:
    """A date from None (today), a date, or YYYY-MM-DD text, between 1800 and 2200 (as profile dates)."""
    if value is None:
        return datetime.date.today()
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        try:
            value = _values.parse_date(value)
        except (TypeError, ValueError):
            raise IPExpertError(Problem("as_of", None, None, "$", f"{value!r} is not a date (YYYY-MM-DD)")) from None
    if not EARLIEST <= value <= LATEST:
        raise IPExpertError(Problem("as_of", None, None, "$", f"{value} is outside {EARLIEST.year}-{LATEST.year}"))
    return value
