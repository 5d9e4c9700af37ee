"""A review: every client of a book compared with its last recorded evaluation, then recorded.

The report names, per client, what appeared, disappeared or changed level or date since the
last review; the clients that are new to the ledger; and those whose advice did not change.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def to_text(reviews: list[ClientReview], where: str, recorded: bool, failed: int = 0) -> str:
    """Per changed client its changes; then the new clients, the unchanged ones, and what was recorded."""
    lines = []
    changed = [r for r in reviews if r.changed]
    for r in changed:
        assert r.previous is not None and r.changes is not None
        lines.append(f"{r.client.name} ({r.client.file}): {_since(r.previous)}, {changes.count(r.changes)} change(s)")
        lines += changes.lines(r.changes)
    new = sorted(r.client.name for r in reviews if r.previous is None)
    if new:
        lines.append(f"new to the ledger ({len(new)}): {', '.join(new)}")
    same = [r for r in reviews if r.previous is not None and not r.changed]
    edited = sorted(r.client.name for r in same if r.previous and r.previous.profile_hash != r.client.profile_hash)
    if same:
        lines.append(f"unchanged ({len(same)}): {', '.join(sorted(r.client.name for r in same))}")
    if edited:
        lines.append(f"profile edited, advice unchanged: {', '.join(edited)}")
    summary = f"{len(reviews)} client(s) reviewed: {len(changed)} changed, {len(new)} new, {len(same)} unchanged"
    if failed:
        summary += f", {failed} could not be evaluated"
    lines.append(summary + (f"; recorded in {where}" if recorded else "; not recorded (--no-record)"))
    return "\n".join(lines) + "\n"


def _since(previous: ledger.Record) -> str:
    return f"since the evaluation recorded {previous.recorded_at} (as of {previous.as_of})"


def history_text(client: str, records: list[ledger.Record], where: str) -> str:
    """The audit trail: one line per recorded evaluation of *client*, oldest first."""
    if not records:
        return f"{client}: no evaluation recorded in {where}\n"
    lines = [f"{client}: {len(records)} evaluation(s) recorded in {where}"]
    for r in records:
        packs = ", ".join(f"{p['name']} {p['version']}" for p in r.rule_packs)
        outline = r.outline
        lines.append(
            f"{r.recorded_at}  as of {r.as_of}  ipexpert {r.ipexpert_version}  profile {r.profile_hash[:12]}  "
            f"{len(outline['recommendations'])} recommendations, {len(outline['risks'])} risks  ({r.file}; packs: {packs})"
        )
    return "\n".join(lines) + "\n"
