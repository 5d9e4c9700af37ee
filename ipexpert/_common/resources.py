"""Where the bundled rule packs, test cases, examples and schemas live, found through importlib.resources.

A wheel carries `rules/`, `schemas/` and `examples/` inside the package (`ipexpert/rules`, ...);
a source checkout (or an editable install) keeps them beside the package. Both layouts keep
`rules/tests/../../examples`, so the bundled test cases find their example profiles in each.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

# Holds the temporary copies made when the package is imported from a zip file (Python 3.12+).
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _find(name: str) -> Path:
    package = resources.files("ipexpert")
    bundled = package / name
    if bundled.is_dir():
        if isinstance(bundled, Path):
            return bundled.resolve()
        return Path(_extracted.enter_context(resources.as_file(bundled)))
    if isinstance(package, Path) and (package.parent / name).is_dir():  # a source checkout
        return (package.parent / name).resolve()
    raise FileNotFoundError(f"the bundled {name}/ folder is missing from the ipexpert package at {package}")


def rules_dir() -> Path:
    """The folder of bundled rule packs (its `tests/` holds the bundled test cases)."""
    return _find("rules")


def schemas_dir() -> Path:
    """The folder of bundled JSON Schemas."""
    return _find("schemas")


def schema_path(filename: str) -> Path:
    """The bundled JSON Schema file *filename*, e.g. `firm-profile.schema.json`."""
    return schemas_dir() / filename


def examples_dir() -> Path:
    """The folder of bundled example profiles (the bundled test cases read them)."""
    return _find("examples")


def starter_dir() -> Path:
    """The starter rule pack and its test case that `ipexpert init` writes."""
    return _find("starter")
