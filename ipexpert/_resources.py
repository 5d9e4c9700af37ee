"""Where the bundled rule packs and schemas live: inside an installed wheel, or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # An installed wheel carries rules/ and schemas/ inside the package;
    # a source checkout keeps them beside it.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled {name}/ folder not found next to {_PACKAGE}")


def rules_dir() -> Path:
    """The folder of bundled rule packs."""
    return _find("rules")


def schemas_dir() -> Path:
    """The folder of bundled JSON Schemas."""
    return _find("schemas")
