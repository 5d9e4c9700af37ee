"""The library's entry points: load rules once, validate and evaluate profiles."""

from __future__ import annotations

import datetime
import functools

from ipexpert._common import values as _values
from ipexpert._engine import rulebase as _rulebase
from ipexpert._errors import EvaluationError, IPExpertError, Problem, ProfileTooLargeError
from ipexpert._knowledge import packs as _packs
from ipexpert._outline import assemble as _assemble
from ipexpert._reading import facts as _facts
from ipexpert._reading import profile as _profile


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
    letterhead=None,
):
    """The client report for *profile*: one self-contained HTML page (str), a PDF or a Word document (bytes).

    *format* is "html", "pdf" (needs the `ipexpert[pdf]` extra) or "docx", an editable Word
    document (needs `ipexpert[docx]`); *paper* is "A4" or "Letter" for a PDF; *letterhead*
    (`ipexpert.Letterhead`) adds who prepared the report, with their logo.
    """
    outline, run, doc = evaluate_run(profile, rules, as_of, name, lang)
    return render_report(outline, run, doc, format, paper, letterhead)


def render_report(outline, run, doc, format: str = "html", paper: str = "A4", letterhead=None):
    """The client report of an evaluation `evaluate_run` made: HTML (str), PDF or DOCX (bytes), without evaluating again."""
    from ipexpert._outputs import report as _report

    return _report.render(outline, run, doc, format, paper, letterhead)


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
        try:
            run = rules.run(_facts.build(doc.data, as_of), as_of)
        except ProfileTooLargeError as exc:  # point at the profile's largest list, in the profile's file
            raise ProfileTooLargeError(
                [doc.problem(tuple(p.path[2:].split(".")) if p.path.startswith("$.") else (), p.message) for p in exc.problems]
            ) from None
        try:
            outline = _assemble.assemble(run, rules, doc, __version__, lang)
        except (OverflowError, ValueError, TypeError) as exc:
            # e.g. a rule's date arithmetic running past year 9999
            raise EvaluationError(Problem("<rules>", None, None, "$", f"a conclusion could not be computed: {exc}")) from None
        return outline, run, doc


EARLIEST, LATEST = _values.EARLIEST, _values.LATEST


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
        raise IPExpertError(
            Problem(
                "as_of", None, None, "$", f"{value.isoformat()!r} is out of range; give a date between {EARLIEST} and {LATEST}"
            )
        )
    return value


# -- the verbs the command line, the service and the interview use ------------------------------------


def read_profile(path: str):
    """A checked-for-syntax profile Document from a path, or from standard input for `-`."""
    import os
    import sys

    from ipexpert._reading import document as _document

    if path == "-":
        return _profile.parse(sys.stdin.buffer.read(_document.MAX_BYTES + 1), "<stdin>")
    return _profile.read(os.fspath(path), path)


def apply_assignments(doc, assignments):
    """*doc* with `PATH=VALUE` changes made (what-if), e.g. `firm.stage=stable`."""
    from ipexpert._reading import whatif as _whatif

    return _whatif.apply_assignments(doc, assignments)


def render(outline, fmt: str) -> str:
    """*outline* as text, Markdown or JSON."""
    from ipexpert._outputs import text as _text

    return _text.render(outline, fmt)


def write_output(path, data: str | bytes) -> None:
    """Write *data* to *path*: atomically to a regular file, straight through to a pipe or device."""
    from ipexpert._common.output import write_atomic

    write_atomic(path, data)


def schema_file(name: str):
    """The installed JSON Schema file of a profile, rule-pack, outline or test-case."""
    from ipexpert._common import resources as _resources
    from ipexpert._reading import schemas as _schemas

    return _resources.schema_path(_schemas.SCHEMA_FILES[name])


def load_packs(paths=(), defaults: bool = True):
    """The rule packs as read and layered (not compiled): for listing, showing and sourcing rules."""
    return _packs.load(paths, defaults=defaults)


def find_rule(packs, name: str):
    """The rule called `pack/id` (or a bare id, when only one pack has it); IPExpertError if none or several."""
    return _packs.find_rule(packs, name)


def explanation_text(data: dict) -> str:
    """An explanation (from `explain`) as the text `ipexpert explain` prints."""
    from ipexpert._outline import explain_text as _explain_text

    return _explain_text.render(data)


def diff(before, after) -> dict:
    """What changes from outline *before* to outline *after*: items that appear, disappear or change level."""
    from ipexpert._outline import diff as _diff

    return _diff.diff(before, after)


def diff_text(data: dict) -> str:
    """A diff (from `diff`) as the text `ipexpert diff` prints."""
    from ipexpert._outline import diff as _diff

    return _diff.render(data)


def is_pack_warning(message) -> bool:
    """Whether a warning is a rule pack's own (shown as its one FILE:LINE:COL line)."""
    return isinstance(message, _packs.PackWarning)


def problem_line(problem: Problem, lang: str = "en") -> str:
    """`FILE:LINE:COL: message (at $.path)` in *lang*; the place and the path are the same in every language."""
    from ipexpert._knowledge import i18n as _i18n

    return _i18n.problem_line(problem, lang)


def validate_summary(checked: int, invalid: int, lang: str = "en") -> str:
    """`2 checked, 1 invalid` in *lang*: the last line of `ipexpert validate`."""
    from ipexpert._knowledge import i18n as _i18n

    return _i18n.label(lang, "validate_summary", checked=checked, invalid=invalid)


# -- what the service reads: a profile from request bytes, its problems, the schemas, messages ------------

DATE_FORMAT = _values.DATE_FORMAT


def max_profile_bytes() -> int:
    """The largest profile read, from a file, standard input or a request."""
    from ipexpert._reading import document as _document

    return _document.MAX_BYTES


def parse_profile(raw, name: str):
    """A profile Document from YAML or JSON text or bytes (not yet checked against the schema)."""
    return _profile.parse(raw, name)


def profile_problems(doc) -> list[Problem]:
    """Everything wrong with a parsed profile: the schema first, then the consistency checks."""
    return _profile.problems(doc)


def schema(name: str) -> dict:
    """The bundled JSON Schema of a profile, rule-pack, outline or test-case, as data."""
    from ipexpert._reading import schemas as _schemas

    return _schemas.schema(name)


def translate(lang: str, message: str) -> str:
    """A problem's message in *lang* (clause by clause; what has no translation stays English)."""
    from ipexpert._knowledge import i18n as _i18n

    return _i18n.message(lang, message)
