"""A pack release over a book: which clients' advice changes from one version of the rule packs to another.

The book is evaluated twice, under the OLD packs and under the NEW ones, with the same as-of
date; per client the outlines are compared as a review compares them across time. The summary
counts the clients affected and, per rule, the items that appear, disappear or change.
"""

from __future__ import annotations

import collections
import json

from ipexpert._practice import changes


def compare(old_clients, new_clients) -> dict:
    """The release's effect: per client its changes, and a summary (both lists are the same book, in order)."""
    clients = []
    per_rule: collections.Counter = collections.Counter()
    for old, new in zip(old_clients, new_clients):
        if not (old.ok and new.ok):
            continue
        compared = changes.compare(old.outline, new.outline)
        per_rule.update(changes.rules_touched(compared))
        clients.append({"client": new.name, "file": new.file, "changed": not changes.same(compared), "changes": compared})
    packs = {
        "old": _packs(next((c.outline for c in old_clients if c.ok), None)),
        "new": _packs(next((c.outline for c in new_clients if c.ok), None)),
    }
    affected = [c for c in clients if c["changed"]]
    return {
        "rule_packs": packs,
        "clients": clients,
        "summary": {
            "clients": len(clients),
            "clients_affected": len(affected),
            "items_changed_per_rule": dict(sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        },
    }


def _packs(outline: dict | None) -> list[str]:
    return [f"{p['name']} {p['version']}" for p in outline["rule_packs"]] if outline else []


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_text(data: dict) -> str:
    """The pack versions that differ, the affected clients with their changes, then the summary."""
    old, new = data["rule_packs"]["old"], data["rule_packs"]["new"]
    lines = [f"--- {', '.join(p for p in old if p not in new) or '(the same packs)'}"]
    lines.append(f"+++ {', '.join(p for p in new if p not in old) or '(the same packs)'}")
    for client in data["clients"]:
        if client["changed"]:
            lines.append(f"{client['client']} ({client['file']}): {changes.count(client['changes'])} change(s)")
            lines += changes.lines(client["changes"])
    summary = data["summary"]
    lines.append(f"{summary['clients_affected']} of {summary['clients']} client(s) affected")
    for rule, count in summary["items_changed_per_rule"].items():
        lines.append(f"  {rule}: {count} item(s)")
    return "\n".join(lines) + "\n"
