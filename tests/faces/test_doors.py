"""The faces go through one door: the command line and the service import the public API and the features' entry points only."""

import ast
from pathlib import Path

import ipexpert

PACKAGE = Path(ipexpert.__file__).parent

# The public API (what `ipexpert` exports, plus _api and the errors it raises) and each feature's entry points.
PUBLIC = tuple(f"ipexpert.{name}" for name in [*ipexpert.__all__, "__version__"]) + ("ipexpert._api", "ipexpert._errors")
CLI_MAY_IMPORT = PUBLIC + (
    "ipexpert._authoring",  # the consultant's workbench: rules check, list, show, sources, test, upgrade
    "ipexpert._batch.dispatch",
    "ipexpert._interview.terminal",
    "ipexpert._practice",
    "ipexpert._service",
)


# The service: the public API, its own modules, the interview's and the practice's entry points, and
# _common, the toolbox every stage shares (worker processes that die with their parent).
SERVICE_MAY_IMPORT = PUBLIC + (
    "ipexpert._service",
    "ipexpert._interview.web",
    "ipexpert._interview.pages",
    "ipexpert._practice",
    "ipexpert._common",
)


def imported_modules(path: Path) -> set[str]:
    """Every ipexpert name *path* imports (`from a.b import c` gives a.b.c), at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ipexpert":
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "ipexpert")
    return found


def allowed(name: str, doors) -> bool:
    return any(name == door or name.startswith(door + ".") for door in doors)


def test_the_command_line_imports_only_the_public_api_and_feature_entry_points():
    outside = sorted(
        m
        for path in sorted((PACKAGE / "cli").glob("*.py"))
        for m in imported_modules(path)
        if not allowed(m, CLI_MAY_IMPORT + ("ipexpert.cli",))
    )
    assert outside == [], "cli.py reaches past the public API into " + ", ".join(outside)


def test_the_service_imports_only_the_public_api_and_feature_entry_points():
    outside = sorted(
        f"{path.name}: {m}"
        for path in sorted((PACKAGE / "_service").glob("*.py"))
        for m in imported_modules(path)
        if not allowed(m, SERVICE_MAY_IMPORT)
    )
    assert outside == [], "the service reaches past the public API into " + ", ".join(outside)


def test_the_check_sees_an_import_that_goes_around_the_door(tmp_path):
    sneaky = tmp_path / "cli.py"
    sneaky.write_text("def f():\n    from ipexpert._reading import profile\n    from ipexpert import _api\n")
    assert sorted(m for m in imported_modules(sneaky) if not allowed(m, CLI_MAY_IMPORT)) == ["ipexpert._reading.profile"]
