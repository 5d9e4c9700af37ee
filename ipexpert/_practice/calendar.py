"""The agenda as an iCalendar (RFC 5545) feed that a calendar can subscribe to.

One all-day VEVENT per agenda entry. Its UID is a digest of the client's name and the item's
id, so a subscribed calendar updates an event when its date or text changes instead of adding
a second one; editing one client changes no other client's UIDs. Two profiles with the same
firm name are told apart by their file. DTSTAMP is the as-of date, so the same book, rules,
language and date give the same bytes.
"""

from __future__ import annotations

import collections
import datetime
import hashlib

from ipexpert._knowledge import i18n as _i18n
from ipexpert._practice.agenda import market_names

PRODID = "-//ipexpert//agenda//EN"


def uid(client: str, item: str, file: str | None = None) -> str:
    """The event's UID: the same for the same client and item in every run, and in every language."""
    identity = "\x1f".join([client, item] if file is None else [client, file, item])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32] + "@ipexpert"


def render(agenda, clients, as_of: datetime.date, lang: str = "en") -> bytes:
    """The VCALENDAR text of *agenda* (from `agenda.build`) for the book's *clients*."""
    from icalendar import Calendar, Event

    files_by_name = collections.defaultdict(set)
    for client in clients:
        files_by_name[client.name].add(client.file)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _i18n.label(lang, "agenda_title") + _i18n.label(lang, "parenthesis", text="ipexpert"))
    stamp = datetime.datetime.combine(as_of, datetime.time(0, 0), tzinfo=datetime.timezone.utc)
    for entry in agenda:
        day = datetime.date.fromisoformat(entry.date)
        event = Event()
        shared_name = len(files_by_name[entry.client]) > 1
        event.add("uid", uid(entry.client, entry.item, entry.file if shared_name else None))
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + datetime.timedelta(days=1))
        mark = _i18n.label(lang, "agenda_overdue") + " " if entry.overdue else ""
        event.add("summary", f"{mark}{entry.client}{_i18n.label(lang, 'colon')}{entry.title}")
        event.add("description", _description(entry, lang))
        event.add("categories", [_i18n.word(lang, "priority", entry.priority)])
        event.add("transp", "TRANSPARENT")  # a deadline, not time the consultant is busy
        calendar.add_component(event)
    return calendar.to_ical()


def _description(entry, lang: str) -> str:
    colon = _i18n.label(lang, "colon")
    lines = [(_i18n.label(lang, "actions") + colon).rstrip()]
    lines += [f"- {action}" for action in entry.actions]
    lines.append(_i18n.label(lang, "because_title") + colon + entry.because)
    if entry.markets:
        lines.append(_i18n.label(lang, "market") + colon + market_names(lang, entry.markets))
    lines.append(_i18n.label(lang, "priority") + colon + _i18n.word(lang, "priority", entry.priority))
    lines.append(_i18n.label(lang, "item") + colon + entry.item + _i18n.label(lang, "parenthesis", text=entry.file))
    return "\n".join(lines)
