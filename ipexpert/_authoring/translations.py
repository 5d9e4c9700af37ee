"""A rule pack's shown texts as a gettext PO file for translators, and their translations merged back.

`export` writes one message per text a reader sees (msgctxt `rule-id field`, or `value` for a value
a rule text quotes), with the existing translation, the place of the English in the pack, and
`#, fuzzy` plus the old English where the English changed since it was translated. `merge` reads
the translator's PO back into the pack's translation file (`<pack folder>/i18n/<lang>/<pack>.yaml`,
the same format as the bundled `rules/i18n/<lang>/<pack>.yaml`), keeping what it does not touch.
"""

from __future__ import annotations

import datetime
import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog as POCatalog
from babel.messages.pofile import PoFileError, read_po, write_po

from ipexpert import LANGUAGES
from ipexpert._common import output as _output
from ipexpert._errors import InvalidRulePackError, IPExpertError, Problem
from ipexpert._knowledge import expressions as _expressions
from ipexpert._knowledge import i18n as _i18n
from ipexpert._knowledge import packs as _packs
from ipexpert._reading import document as _document

VALUE = "value"  # the msgctxt of a value a rule text quotes (a note, a route, a name)
# The header dates of every export: fixed, so the same pack and translations give the same bytes.
STAMP = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class Text:
    """One shown English text of a pack: where it is, and its translation as the pack's catalog has it."""

    context: str  # `rule-id field`, or `value`
    english: str
    line: int | None
    translation: str | None  # current, or None
    previous: str | None = None  # a stale translation's old English
    stale_translation: str | None = None


def read_pack(pack_file) -> _packs.Pack:
    """The pack written in *pack_file* (one file), or InvalidRulePackError with its problems."""
    doc, found = _packs.read_pack(Path(pack_file))
    if found or doc is None:
        raise InvalidRulePackError(found)
    return _packs.build(doc)


def _catalog(pack, lang: str) -> _i18n.Catalog:
    if _i18n._bundled(pack):
        return _i18n.catalog(lang)
    own = _i18n.pack_catalog(lang, pack.file, pack.name)
    return own if own is not None else _i18n.Catalog(lang)


def texts(pack, lang: str) -> list[Text]:
    """Every shown text of *pack* in pack order, with its *lang* translation (current or stale)."""
    cat = _catalog(pack, lang)
    out = []
    for rule in pack.rules:
        fields = cat.rules.get((pack.name, rule.id), {})
        places = list(_i18n.rule_text_places(rule.data))
        for where, path, english in places:
            line = rule.doc.position(rule.path + path)[0]
            context = f"{rule.id} {where}"
            current = cat.text(pack.name, rule.id, where, english)
            if current is not None:
                out.append(Text(context, english, line, current))
                continue
            old = _stale_entry(fields.get(where), english, [e for w, _, e in places if w == where], lang)
            if old is None:
                out.append(Text(context, english, line, None))
            else:
                out.append(Text(context, english, line, None, old["en"], old[lang]))
    for path, english in _i18n._shown_values(pack.doc.data):
        line = pack.doc.position(path)[0]
        out.append(Text(VALUE, english, line, cat.values.get(english)))
    return out


def _entries(entry) -> list:
    return [e for e in (entry if isinstance(entry, list) else [entry] if entry else []) if isinstance(e, dict)]


def _stale_entry(entry, english: str, currents: list, lang: str) -> dict | None:
    """The translated entry of this field whose English has since changed into *english*, if one reads so."""
    stale = [e for e in _entries(entry) if e.get("en") not in currents and e.get(lang)]
    if not stale:
        return None
    if len(stale) == 1 and len(currents) == 1:
        return stale[0]
    close = difflib.get_close_matches(english, [e["en"] for e in stale if isinstance(e.get("en"), str)], n=1, cutoff=0.6)
    return next(e for e in stale if e.get("en") == close[0]) if close else None


def _locale(lang: str) -> Locale:
    return Locale.parse(lang, sep="-")


def export(pack_file, lang: str) -> bytes:
    """The PO file of the pack in *pack_file* for translators into *lang* (deterministic bytes)."""
    lang = _translatable(lang, str(pack_file))
    pack = read_pack(pack_file)
    file = str(pack_file)  # as the translator names it, for the locations and the import command
    po = POCatalog(
        locale=_locale(lang),
        project=pack.name,
        version=str(pack.version),
        creation_date=STAMP,
        revision_date=STAMP,
        fuzzy=False,
        charset="utf-8",
        header_comment=(
            f"# {_locale(lang).english_name} translations of the rule pack {pack.name} ({file}).\n"
            f"# Fill in each msgstr, keeping every {{placeholder}} as written; then\n"
            f"#     ipexpert rules translation import {file} THIS-FILE.po\n#"
        ),
    )
    for text in texts(pack, lang):
        location = [(file, text.line)] if text.line else []
        if text.previous is not None:
            po.add(
                text.english,
                text.stale_translation,
                locations=location,
                context=text.context,
                flags=["fuzzy"],
                previous_id=text.previous,
            )
        else:
            po.add(text.english, text.translation or "", locations=location, context=text.context)
    buffer = io.BytesIO()
    write_po(buffer, po, include_previous=True, width=0, sort_output=False)
    return buffer.getvalue()


def _translatable(lang: str, file: str) -> str:
    if lang not in LANGUAGES or lang == _i18n.DEFAULT:
        choices = ", ".join(x for x in LANGUAGES if x != _i18n.DEFAULT)
        raise IPExpertError(Problem(file, None, None, "$", f"cannot translate into {lang!r}; use one of: {choices}"))
    return lang


@dataclass
class Merged:
    """What `merge` did: counts, the messages it left out (one line each), and the file it wrote."""

    file: Path
    lang: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    fuzzy: int = 0
    empty: int = 0
    outdated: list = field(default_factory=list)  # one line per message whose English is no longer the pack's

    def summary(self) -> str:
        return (
            f"{self.file}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.fuzzy} left fuzzy, {self.empty} left empty, {len(self.outdated)} no longer in the pack"
        )


def read_po_file(po_file) -> POCatalog:
    """The PO file at *po_file*, or a one-line `FILE:LINE: message` error."""
    name = str(po_file)
    raw = Path(po_file).read_bytes()
    try:
        return read_po(io.BytesIO(raw), abort_invalid=True)
    except PoFileError as exc:
        message = str(exc.args[0]).removesuffix(f" on {exc.lineno}")
        shown = f" ({exc.line.strip()})" if isinstance(exc.line, str) and exc.line.strip() else ""
        raise IPExpertError(Problem(name, exc.lineno + 1, None, "$", f"not a PO file: {message}{shown}")) from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise IPExpertError(Problem(name, line, None, "$", "not a PO file: not UTF-8 text")) from None
    except (ValueError, LookupError) as exc:  # a header Babel cannot read (charset, language)
        raise IPExpertError(Problem(name, 1, None, "$", f"not a PO file: {exc}")) from None


def po_language(po: POCatalog, po_file) -> str:
    """The supported language the PO's `Language:` header names."""
    for lang in LANGUAGES:
        if lang != _i18n.DEFAULT and po.locale is not None and str(po.locale) == str(_locale(lang)):
            return lang
    named = str(po.locale) if po.locale is not None else "no language"
    choices = ", ".join(x for x in LANGUAGES if x != _i18n.DEFAULT)
    raise IPExpertError(
        Problem(str(po_file), 1, None, "$", f"the PO header names {named}; a translation is into one of: {choices}")
    )


def merge(pack_file, po_file) -> Merged:
    """Merge the PO's non-fuzzy, non-empty translations into the pack's translation file, written atomically."""
    pack = read_pack(pack_file)
    po = read_po_file(po_file)
    lang = po_language(po, po_file)
    shown = {(t.context, t.english) for t in texts(pack, lang)}
    currents = _currents(pack)
    target = _i18n.translation_file(pack.file, pack.name, lang)
    data = _existing(target, pack.name, lang)
    result = Merged(target, lang)
    refused = []
    for message in po:
        if not message.id or not isinstance(message.id, str):
            continue  # the header; plural messages are not written by export
        context = message.context or ""
        where = f"{po_file}:{message.lineno}"
        if message.fuzzy:
            result.fuzzy += 1
            continue
        string = message.string if isinstance(message.string, str) else ""
        if not string:
            result.empty += 1
            continue
        if (context, message.id) not in shown:
            result.outdated.append(f"{where}: {context!r} {_short(message.id)!r} is no longer in {pack.file}; not imported")
            continue
        extra = sorted(_expressions.placeholders(string) - _expressions.placeholders(message.id))
        if extra:
            names = ", ".join("{" + name + "}" for name in extra)
            refused.append(
                Problem(
                    str(po_file),
                    message.lineno,
                    None,
                    "$",
                    f"the translation of {context!r} uses {names}, which its English does not (placeholders must match)",
                )
            )
            continue
        _put(data, currents, context, message.id, string, lang, result)
    if refused:
        raise IPExpertError(refused)
    if result.added or result.updated:
        target.parent.mkdir(parents=True, exist_ok=True)
        _output.write_atomic(target, dump(data, pack, lang, _header(target)))
    return result


def _currents(pack) -> dict:
    """(rule id, field) -> the English texts of that field now, in the pack's order."""
    out: dict = {}
    for rule in pack.rules:
        for where, _, english in _i18n.rule_text_places(rule.data):
            out.setdefault((rule.id, where), []).append(english)
    return out


def _header(target: Path) -> list:
    """The comment lines a translation file starts with (none for a new file)."""
    if not target.exists():
        return []
    lines = target.read_text(encoding="utf-8").splitlines()
    return lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))]


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _existing(target: Path, pack_name: str, lang: str) -> dict:
    """The translation file's data as it is (an empty one when there is none yet)."""
    if not target.exists():
        return {"pack": pack_name, "language": lang, "rules": {}, "values": []}
    try:
        data = _document.load(target.read_bytes(), str(target)).data
    except _document.YAMLInputError as exc:
        raise IPExpertError(exc.problem) from None
    if not isinstance(data, dict) or not isinstance(data.get("rules") or {}, dict):
        raise IPExpertError(
            Problem(str(target), 1, None, "$", "a translation file is a mapping with pack, language, rules and values")
        )
    data.setdefault("rules", {})
    data["rules"] = data["rules"] or {}
    data["values"] = list(data.get("values") or [])
    return data


def _put(data: dict, currents: dict, context: str, english: str, translation: str, lang: str, result: Merged) -> None:
    """Set one translation in *data*, counting it as added, updated or unchanged."""
    if context == VALUE:
        entries = data["values"]
        found = next((e for e in entries if isinstance(e, dict) and e.get("en") == english), None)
        _count(found, translation, lang, result)
        if found is None:
            entries.append({"en": english, lang: translation})
        else:
            found[lang] = translation
        return
    rule_id, _, where = context.partition(" ")
    fields = data["rules"].setdefault(rule_id, {})
    entry = fields.get(where)
    if where in ("title", "because", "recommend.title", "risk.title"):
        old = entry if isinstance(entry, dict) else None
        _count(old if old and old.get("en") == english else None, translation, lang, result, replaced=old is not None)
        fields[where] = {"en": english, lang: translation}
        return
    entries = _entries(entry)
    found = next((e for e in entries if e.get("en") == english), None)
    stale = None if found is not None else _stale_entry(entries, english, currents.get((rule_id, where), []), lang)
    _count(found, translation, lang, result, replaced=stale is not None)
    if found is not None:
        found[lang] = translation
    elif stale is not None:  # the translation of an English text that has since changed into *english*
        stale.update({"en": english, lang: translation})
    else:
        entries.append({"en": english, lang: translation})
    fields[where] = entries


def _count(found, translation: str, lang: str, result: Merged, replaced: bool = False) -> None:
    if found is not None and found.get(lang) == translation:
        result.unchanged += 1
    elif found is not None or replaced:
        result.updated += 1
    else:
        result.added += 1


def dump(data: dict, pack, lang: str, header: list | None = None) -> str:
    """The translation file's YAML, in the layout of the bundled ones, under *header* (its comment lines).

    Rules and fields keep the file's order, new ones last; the entries of a list follow the pack's order."""
    order = _currents(pack)

    def q(text) -> str:
        return json.dumps(str(text), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar

    def entry(lines, item, indent):
        keys = ["en", lang] + [k for k in item if k not in ("en", lang)]
        first = True
        for key in keys:
            if key in item:
                lines.append(f"{indent}{'- ' if first else '  '}{key}: {q(item[key])}")
                first = False

    lines = list(header or []) or [
        f"# The {lang} translations of the rule pack {pack.name}, for a translator to review.",
        "# Each text holds the English it translates (en) and its translation. Edit it here, or export a PO file",
        f"# (ipexpert rules translation export {pack.file} --lang {lang}) and import it back.",
    ]
    lines += [
        f"pack: {q(pack.name)}",
        f"language: {lang}",
        "rules:",
    ]
    for rule_id, fields in data["rules"].items():  # rules and fields in the file's order, new ones last
        lines.append(f"  {q(rule_id)}:")
        for where, value in (fields or {}).items():
            name = q(where) if "." in where else where
            if isinstance(value, list):
                current = order.get((rule_id, where), [])
                ranked = sorted(value, key=lambda e: current.index(e.get("en")) if e.get("en") in current else len(current))
                lines.append(f"    {name}:")
                for item in ranked:
                    entry(lines, item, "    ")
            elif isinstance(value, dict):
                lines.append(f"    {name}:")
                for key in ["en", lang] + [k for k in value if k not in ("en", lang)]:
                    if key in value:
                        lines.append(f"      {key}: {q(value[key])}")
    if data["values"]:
        lines.append("values:")
        for item in data["values"]:
            if isinstance(item, dict):
                entry(lines, item, "")
    return "\n".join(lines) + "\n"
