"""The agenda: every dated item of every client inside a window, sorted by date, overdue first.

An item is a step on a recommendation's timeline (a filing, a launch, a declaration's window,
a court deadline) or a recommendation's due date when no step falls on it. Its id is the
recommendation's id, with `#N` for the N-th step when the recommendation has several, and
`#due` for a due date beside them. An outline moves a past date to its as-of date, so an item
dated on or before the as-of date is overdue (or due that very day) and is marked so.

The window is [as-of, as-of + days], both ends included; overdue items are always in it.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass

from ipexpert._knowledge import i18n as _i18n

LEVELS = ("critical", "high", "medium", "low")
MAX_DAYS = 3660  # ten years ahead: a window any date arithmetic holds


@dataclass(frozen=True)
class Entry:
    """One dated item of one client."""

    client: str
    file: str
    date: str
    overdue: bool
    item: str
    recommendation: str
    rule: str
    priority: str
    title: str
    markets: tuple
    actions: tuple
    because: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["markets"], data["actions"] = list(self.markets), list(self.actions)
        return data


def entries(client: str, file: str, outline: dict) -> list[Entry]:
    """Every dated item of one client's *outline* (its JSON data), unwindowed, in the outline's order."""
    as_of = outline["as_of"]
    steps: dict[str, list] = {}
    for step in outline["timeline"]:
        steps.setdefault(step["recommendation"], []).append((step["date"], step["action"]))
    out = []
    for rec in outline["recommendations"]:
        dated = list(steps.get(rec["id"], ()))
        ids = [rec["id"]] if len(dated) == 1 else [f"{rec['id']}#{n}" for n in range(1, len(dated) + 1)]
        if rec["due"] and rec["due"] not in {when for when, _ in dated}:
            dated.append((rec["due"], rec["title"]))
            ids.append(f"{rec['id']}#due" if ids else rec["id"])
        for item_id, (when, title) in zip(ids, dated):
            out.append(
                Entry(
                    client=client,
                    file=file,
                    date=when,
                    overdue=when <= as_of,
                    item=item_id,
                    recommendation=rec["id"],
                    rule=rec["rule"],
                    priority=rec["priority"],
                    title=title,
                    markets=tuple(rec["markets"]),
                    actions=tuple(rec["actions"]),
                    because=rec["justification"]["because"],
                )
            )
    return out


def sort_key(entry: Entry) -> tuple:
    """Overdue first, then by date, priority, client, file and item."""
    return (not entry.overdue, entry.date, LEVELS.index(entry.priority), entry.client, entry.file, entry.item)


def select(all_entries, as_of: datetime.date, days: int) -> list[Entry]:
    """The entries inside the window [as_of, as_of + days] (an overdue one is dated as_of or before), sorted by `sort_key`."""
    last = (as_of + datetime.timedelta(days=days)).isoformat()
    return sorted((e for e in all_entries if e.date <= last), key=sort_key)


def build(clients, as_of: datetime.date, days: int) -> list[Entry]:
    """The agenda of a book's evaluated *clients* (failed ones have no entries)."""
    return select([e for c in clients if c.ok for e in entries(c.name, c.file, c.outline)], as_of, days)


def to_json(agenda: list[Entry]) -> str:
    return json.dumps([e.to_dict() for e in agenda], indent=2, ensure_ascii=False) + "\n"


def to_text(agenda: list[Entry], clients, as_of: datetime.date, days: int, lang: str = "en") -> str:
    """One line per entry under a heading; then the clients with nothing in the window."""
    last = as_of + datetime.timedelta(days=days)
    named = {e.client for e in agenda}
    ok = [c for c in clients if c.ok]
    lines = [
        _i18n.label(lang, "agenda_heading", start=_i18n.date(lang, as_of), end=_i18n.date(lang, last), days=days),
        _i18n.label(lang, "agenda_count", items=len(agenda), named=len(named), clients=len(ok)),
        "",
    ]
    overdue = _i18n.label(lang, "agenda_overdue") + " "
    for e in agenda:
        markets = _i18n.label(lang, "agenda_markets", markets=market_names(lang, e.markets)) if e.markets else ""
        line = _i18n.label(
            lang,
            "agenda_line",
            date=_i18n.date(lang, e.date),
            mark=overdue if e.overdue else "",
            client=e.client,
            markets=markets,
            level=_i18n.word(lang, "priority", e.priority),
            title=e.title,
            item=e.item,
        )
        lines.append(line)
    if not agenda:
        lines.append(_i18n.label(lang, "agenda_none"))
    quiet = sorted({c.name for c in ok} - named)
    if quiet:
        lines += ["", _i18n.label(lang, "agenda_quiet", clients=joined(lang, quiet))]
    failed = [c.file for c in clients if not c.ok]
    if failed:
        lines += ["", _i18n.label(lang, "agenda_failed", count=len(failed))]
    return "\n".join(lines) + "\n"


def market_names(lang: str, codes) -> str:
    """An item's markets as *lang* names them: `US, DE` in English, 美国（US）、德国（DE） in Chinese."""
    return joined(lang, [_i18n.market_with_code(lang, code) for code in codes])


def joined(lang: str, names) -> str:
    """Names listed as a reader of *lang* lists them: `A, B` or `A、B`."""
    return _i18n.label(lang, "list_separator").join(names)


def render(fmt: str, agenda: list[Entry], clients, as_of: datetime.date, days: int, lang: str = "en") -> str | bytes:
    """The agenda as text, JSON, iCalendar (bytes) or an HTML page."""
    if fmt == "json":
        return to_json(agenda)
    if fmt == "ics":
        from ipexpert._practice import calendar

        return calendar.render(agenda, clients, as_of, lang)
    if fmt == "html":
        from ipexpert._practice import page

        return page.render(agenda, clients, as_of, days, lang)
    return to_text(agenda, clients, as_of, days, lang)
