"""`rules upgrade`: the old `?name` variables of pack files rewritten as `$name`, in place, comments and layout kept."""

from __future__ import annotations

from ipexpert._common.output import write_atomic
from ipexpert._errors import InvalidRulePackError, IPExpertError
from ipexpert._knowledge import packs as _packs
from ipexpert._knowledge import syntax as _syntax
from ipexpert._reading import document as _document
from ipexpert._reading import profile as _profile


def upgrade(paths):
    """For each pack file under *paths*: (path, variables rewritten, problems); a file with problems is left as it was."""
    for path in _packs.pack_files(paths):
        try:
            bom, text = _yaml_text(path)
            upgraded, count = _syntax.upgrade_text(text, str(path))
        except IPExpertError as exc:
            yield path, 0, exc.problems
            continue
        if count:
            write_atomic(path, bom + upgraded)
        yield path, count, []


def _yaml_text(path) -> tuple[str, str]:
    """(the byte-order mark the file starts with, or "", its text)."""
    try:
        raw = _profile.read_file(path, InvalidRulePackError)
        return ("\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""), _document.read_text(raw, str(path))
    except _document.YAMLInputError as exc:
        raise InvalidRulePackError(exc.problem) from None
