"""The interview in the terminal, on questionary (prompt_toolkit underneath).

questionary gives arrow-key lists, tick lists and input checked while it is typed, which is
what a seller who has never seen the schema needs; prompt_toolkit alone would mean writing
those widgets here. Every question offers Back (a list's last entry, or `<` typed), and before
the profile is written the answers are listed for review, any of them open to change. The
file is written once, atomically, at the end: Ctrl-C at any point leaves no file behind.
"""

from __future__ import annotations

import datetime
import os

import click
import questionary
from prompt_toolkit.validation import ValidationError, Validator

from ipexpert._common.output import write_atomic
from ipexpert._interview import files as _files
from ipexpert._interview import questions as _questions
from ipexpert._interview import review as _review
from ipexpert._interview.texts import texts
from ipexpert._knowledge import i18n as _i18n
from ipexpert._outputs import text as _text

SKIP = "\0skip"
BACK = "\0back"


class _DateValidator(Validator):
    """A YYYY-MM-DD date between 1800 and 2200, checked as it is typed."""

    def __init__(self, hint: str, required: bool, back: bool = False):
        self.hint = hint
        self.required = required
        self.back = back

    def validate(self, document):
        text = document.text.strip()
        if (not text and not self.required) or (self.back and text == "<"):
            return
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            raise ValidationError(message=self.hint, cursor_position=len(document.text)) from None
        if not 1800 <= day.year <= 2200:
            raise ValidationError(message=self.hint, cursor_position=len(document.text))


def interview(output: str, partial: str | None, lang: str, rules, as_of) -> None:
    """`ipexpert interview`: continue *partial* (a profile file) or start afresh, write the profile to *output*.

    Raises Cancelled (exit 130) after saying so in the interview's language when the user stops it.
    """
    from ipexpert import _api
    from ipexpert._errors import Cancelled

    state = _questions.read_partial(partial) if partial else _questions.State()
    engine = _questions.engine(rules, _api.parse_date(as_of))
    try:
        run(output, state, engine, lang)
    except (KeyboardInterrupt, EOFError):
        click.echo(texts(lang).ui("cancelled"), err=True)
        raise Cancelled() from None


def run(output: str, state: _questions.State, engine: _questions.Engine, lang: str = "en") -> _questions.State:
    """Ask until nothing can change the outline, then write the profile to *output*."""
    t = texts(lang)
    while not state.reviewed:
        question = engine.next_question(state)
        state = _check_answers(state, engine, t) if question is None else _ask(question, state, engine, t)
    write_atomic(output, _files.profile_yaml(state.profile))
    click.echo(t.ui("saved", path=output))
    if engine.is_valid(state.profile):
        _after(output, state.profile, engine, t)
    return state


def _after(output: str, profile: dict, engine, t) -> None:
    """Offer the outline here and the report (HTML, PDF) beside the profile, in the interview's language."""
    paths = {fmt: f"{os.path.splitext(output)[0]}-report.{fmt}" for fmt in _files.report_formats()}
    offers = {"outline": t.ui("show_outline")}
    offers.update({fmt: t.ui("write_report", format=t.formats[fmt], path=path) for fmt, path in paths.items()})
    while True:
        choices = [questionary.Choice(text, key) for key, text in offers.items()]
        choices.append(questionary.Choice(t.ui("finish"), SKIP))
        picked = questionary.select(t.ui("next_step"), choices=choices, instruction=t.ui("arrows")).unsafe_ask()
        if picked == SKIP:
            return
        offers.pop(picked)
        if picked == "outline":
            click.echo(_text.render(engine.outline(profile, t.lang), "text"), nl=False)
            continue
        _, _, body = _files.report_file(engine, profile, t.lang, picked, os.path.basename(output))
        write_atomic(paths[picked], body)
        click.echo(t.ui("report_saved", path=paths[picked]))


def _style(text: str, **style) -> str:
    """*text* styled, unless NO_COLOR is set (https://no-color.org: any value but empty turns colour off)."""
    return text if os.environ.get("NO_COLOR") else click.style(text, **style)


def _check_answers(state, engine, t):
    """The review: every answer and skipped question listed; write the profile, change one, or go back."""
    rows = _review.answers(engine, state)
    for answer in rows:
        value = t.ui("skipped") if answer.skipped else _review.shown(answer.value, answer.question, t)
        label = _row_label(answer, t)
        # A question ends in its question mark, not a colon as well.
        between = " " if label.endswith(("?", "？")) else _i18n.label(t.lang, "colon")
        click.echo(f"  {label}{between}{value}")
    choices = [
        questionary.Choice(t.ui("write_profile"), "write"),
        questionary.Choice(t.ui("change_answer"), "change"),
        questionary.Choice(t.ui("back"), BACK),
    ]
    picked = questionary.select(t.ui("review_next"), choices=choices, instruction=t.ui("arrows")).unsafe_ask()
    if picked == "write":
        return _review.confirm(state)
    if picked == BACK:
        return _review.back(state)
    options = [questionary.Choice(_row_label(a, t), i) for i, a in enumerate(rows)] + [questionary.Choice(t.ui("back"), BACK)]
    which = questionary.select(t.ui("which_answer"), choices=options, instruction=t.ui("arrows")).unsafe_ask()
    if which == BACK:
        return state
    opened, question, old = _review.reopen(engine, state, rows[which].path)
    if question is None:
        return state
    return _ask(question, opened, engine, t, default=None if old is _review.SKIPPED else old, can_go_back=False)


def _row_label(answer, t) -> str:
    label = t.label(answer.question)
    about = answer.question.about
    return f"{label}{t.paren(about)}" if about and about not in label else label


def _ask(question, state, engine, t, default=None, can_go_back=None):
    """One question, asked again until its answer passes the profile's checks (Back: the state a step before)."""
    back = bool(state.steps) if can_go_back is None else can_go_back
    colon = _i18n.label(t.lang, "colon")
    why = engine.why_sentence(question, t.lang, state.profile)
    click.echo(_style(f"  {t.ui('why')}{colon}{why}", dim=True))
    if question.kind == "item":
        more = _questions.has_items(state.profile, question.path)
        if not question.required:
            options = [questionary.Choice(t.ui("add"), "add"), questionary.Choice(t.ui("no_more"), SKIP)]
            options += [questionary.Choice(t.ui("back"), BACK)] if back else []
            go = questionary.select(t.label(question, more=more), choices=options, instruction=t.ui("arrows")).unsafe_ask()
            if go == SKIP:
                return engine.skip(state, question)
            if go == BACK:
                return _review.back(state)
        else:
            click.echo(t.label(question, more=more))
    while True:
        if question.kind == "item":
            raw = {}
            for number, sub in enumerate(question.fields):
                # A required item (the first market) has no Add/Back list before it: its first field offers Back.
                raw[sub.path[-1]] = _prompt(sub, t, required=True, back=back and question.required and number == 0)
                if raw[sub.path[-1]] == BACK:
                    return _review.back(state)
        else:
            value = _prompt(question, t, required=question.required, back=back, default=default)
            if value == SKIP:
                return engine.skip(state, question)
            if value == BACK:
                return _review.back(state)
            raw = {"value": value}
        new_state, problems = engine.answer(state, question, raw, t.lang)
        if not problems:
            return new_state
        for problem in problems:
            click.echo(_style(f"  {t.ui('errors')}{_i18n.label(t.lang, 'colon')}{problem}", fg="red"))


def _hints(help_text: str | None, keys: str) -> str:
    """The question's help and how to answer with the keys: neither hides the other."""
    return f"{help_text} {keys}" if help_text else keys


def _checkbox(label: str, choices: list, instruction: str, t) -> list:
    """questionary's checkbox, its English "done (2 selections)" replaced by the picks in the reader's language."""
    picked = questionary.checkbox(label, choices=choices, instruction=instruction, erase_when_done=True).unsafe_ask()
    names = [c.title for c in choices if c.value in picked]
    shown = _i18n.list_separator(t.lang).join(str(n) for n in names) if names else t.ui("none_picked")
    click.echo(f"? {label} {shown}")
    return picked


def _joined(hints) -> str:
    """The hints given, one after another: after a full stop a space (none after a Chinese one), else "; "."""
    out = ""
    for hint in filter(None, hints):
        out += ("" if not out or out.endswith("。") else " " if out.endswith(".") else "; ") + hint
    return out


def _prompt(question, t, required, back=False, default=None):
    """The answer typed or picked; SKIP, or BACK when Back is offered and chosen (`<` for typed answers)."""
    label = t.label(question)
    help_text = t.help(question)
    instruction = t.paren(help_text).strip() if help_text else None
    kind = question.type
    go_back = [questionary.Choice(t.ui("back"), BACK)] if back else []
    if kind in ("choice", "boolean"):
        if kind == "boolean":
            choices = [questionary.Choice(t.ui("answer_yes"), "yes"), questionary.Choice(t.ui("answer_no"), "no")]
            default = None if default is None else ("yes" if default else "no")
        else:
            choices = [questionary.Choice(t.choice(question, v), v) for v in question.choices]
        if not required:
            choices.append(questionary.Choice(t.ui("skip"), SKIP))
        choices += go_back
        start = default if default in [c.value for c in choices] else None
        return questionary.select(
            label, choices=choices, default=start, instruction=_hints(instruction, t.ui("arrows"))
        ).unsafe_ask()
    if kind == "list":
        ticked = set(default or []) if not isinstance(default, bool) else set()
        known = [v for v in question.choices if v != "other"]
        if question.kind == "group":
            ticked = {name for name in known if isinstance(default, dict) and default.get(name)}
        choices = [questionary.Choice(t.choice(question, v), v, checked=v in ticked) for v in known]
        if question.kind != "group" and "other" in question.choices:
            choices.append(questionary.Choice(t.ui("other"), "other"))
        choices += go_back
        picked = _checkbox(label, choices, _hints(instruction, t.ui("ticks")), t)
        if BACK in picked:
            return BACK
        if question.kind == "group":
            return picked
        if "other" in picked:
            picked.remove("other")
            picked += questionary.text(t.ui("other_values")).unsafe_ask().replace(",", " ").split()
        if not picked and not required:
            return SKIP
        return picked
    hints = [t.ui("back_hint")] if back else []
    if kind == "date":
        hint = t.ui("date_hint")
        text = questionary.text(
            label,
            default="" if default is None else str(default),
            instruction="(" + _joined([help_text or "YYYY-MM-DD", *hints]) + ")",
            validate=_DateValidator(hint, required, back),
            validate_while_typing=True,
        ).unsafe_ask()
    else:
        extra = "" if required else f" [{t.ui('skip')}: Enter]"
        shown = _joined([help_text, *hints])
        text = questionary.text(
            label, default="" if default is None else str(default), instruction=(f"({shown})" if shown else "") + extra or None
        ).unsafe_ask()
    text = text.strip()
    if back and text == "<":
        return BACK
    if not text and not required:
        return SKIP
    return text
