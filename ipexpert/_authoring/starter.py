"""`ipexpert init DIR`: a folder to follow the tour in, from an installed package.

It holds copies of the bundled example profiles, the four JSON Schemas (which the examples'
`yaml-language-server` lines point at, relatively), and a starter rule pack with its test
case. Nothing that exists is overwritten: every target is checked before the first write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ipexpert._common.resources import examples_dir, schemas_dir, starter_dir
from ipexpert._errors import IPExpertError, Problem


def planned_files(folder: Path) -> list[tuple[Path, Path]]:
    """(bundled file, where it goes under *folder*) for every file init writes, in a fixed order."""
    pairs = [(p, folder / "examples" / p.name) for p in sorted(examples_dir().glob("*.yaml"))]
    pairs += [(p, folder / "schemas" / p.name) for p in sorted(schemas_dir().glob("*.schema.json"))]
    starter = starter_dir()
    pairs += [(p, folder / p.relative_to(starter)) for p in sorted(starter.rglob("*.yaml"))]
    return pairs


def init(folder: str | Path) -> list[Path]:
    """Write the examples, schemas and starter pack into *folder*; the files written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise IPExpertError(Problem(str(folder), None, None, "$", "is a file, not a folder; give a new or empty folder"))
    pairs = planned_files(folder)
    taken = [target for _, target in pairs if target.exists() or target.is_symlink()]
    if taken:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise IPExpertError(
            Problem(str(taken[0]), None, None, "$", f"already exists{more}; init never overwrites: give a new or empty folder")
        )
    for source, target in pairs:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return [target for _, target in pairs]
