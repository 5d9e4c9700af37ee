"""A review: every client of a book compared with its last recorded evaluation, then recorded.

The report names, per client, what appeared, disappeared or changed level or date since the
last review; the clients that are new to the ledger; and those whose advice did not change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ipexpert._knowledge import i18n as _i18n
from ipexpert._practice import changes, ledger
from ipexpert._practice.book import Client


@dataclass(frozen=True)
class ClientReview:
    """One client's review: its changes since *previous* (None for a client new to the ledger)."""

    client: Client
    previous: ledger.Record | None
    changes: dict | None

    @property
    def changed(self) -> bool:
        return self.changes is not None and not changes.same(self.changes)


def review(clients, the_ledger: ledger.Ledger, record: bool = True) -> list[ClientReview]:
    """Compare every evaluated client with the ledger, then (if *record*) record them all in one transaction."""
    out = []
    for client in clients:
        if not client.ok:
            continue
        previous = the_ledger.last(client.name, client.file)
        compared = changes.compare(previous.outline, client.outline) if previous is not None else None
        out.append(ClientReview(client, previous, compared))
    if record and out:
        recorded_at = ledger.now()
        the_ledger.record([_record(r.client, recorded_at) for r in out])
    return out


def _record(client, recorded_at: str) -> ledger.Record:
    outline = client.outline
    return ledger.Record(
        client=client.name,
        file=client.file,
        profile_hash=client.profile_hash,
        as_of=outline["as_of"],
        ipexpert_version=outline["ipexpert_version"],
        rule_packs=outline["rule_packs"],
        outline=outline,
        recorded_at=recorded_at,
    )


def to_text(reviews: list[ClientReview], where: str, recorded: bool, failed: int = 0, lang: str = "en") -> str:
    """Per changed client its changes; then the new clients, the unchanged ones, and what was recorded, in *lang*."""
    label = functools.partial(_i18n.label, lang)
    names = functools.partial(_i18n.label(lang, "list_separator").join)
    lines = []
    changed = [r for r in reviews if r.changed]
    for r in changed:
        assert r.previous is not None and r.changes is not None
        since = label("review_since", recorded_at=r.previous.recorded_at, as_of=_i18n.date(lang, r.previous.as_of))
        lines.append(
            label("review_client", client=r.client.name, file=r.client.file, since=since, count=changes.count(r.changes))
        )
        lines += changes.lines(r.changes, lang=lang)
    new = sorted(r.client.name for r in reviews if r.previous is None)
    if new:
        lines.append(label("review_new", count=len(new), clients=names(new)))
    same = [r for r in reviews if r.previous is not None and not r.changed]
    edited = sorted(r.client.name for r in same if r.previous and r.previous.profile_hash != r.client.profile_hash)
    if same:
        lines.append(label("review_unchanged", count=len(same), clients=names(sorted(r.client.name for r in same))))
    if edited:
        lines.append(label("review_edited", clients=names(edited)))
    summary = label("review_summary", count=len(reviews), changed=len(changed), new=len(new), same=len(same))
    if failed:
        summary += label("review_failed", count=failed)
    lines.append(summary + (label("review_recorded", where=where) if recorded else label("review_not_recorded")))
    return "\n".join(lines) + "\n"


def history_text(client: str, records: list[ledger.Record], where: str, lang: str = "en") -> str:
    """The audit trail: one line per recorded evaluation of *client*, oldest first, in *lang*."""
    label = functools.partial(_i18n.label, lang)
    if not records:
        return label("history_none", client=client, where=where) + "\n"
    lines = [label("history_heading", client=client, count=len(records), where=where)]
    for r in records:
        outline = r.outline
        lines.append(
            label(
                "history_line",
                recorded_at=r.recorded_at,
                as_of=_i18n.date(lang, r.as_of),
                version=r.ipexpert_version,
                hash=r.profile_hash[:12],
                recommendations=len(outline["recommendations"]),
                risks=len(outline["risks"]),
                file=r.file,
                packs=_i18n.label(lang, "list_separator").join(f"{p['name']} {p['version']}" for p in r.rule_packs),
            )
        )
    return "\n".join(lines) + "\n"
