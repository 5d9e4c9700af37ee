"""The built wheel, installed into a fresh virtual environment outside the checkout, runs the README's tour."""

import json
import os
import re
import subprocess
import sys
import venv

import pytest
from conftest import AS_OF, ROOT, SPINWELL


def tour_commands() -> list[str]:
    """The commands of the README's "A short tour" block, without their comments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## A short tour\n.*?^```\n(.*?)^```", readme, flags=re.M | re.S).group(1)
    commands = []
    for line in block.splitlines():
        commands.append(line.split("  #")[0].strip())
    return [c for c in commands if c]


# The tour's placeholders, and what stands for them in the test's working folder.
PLACEHOLDERS = {
    "P.yaml": "examples/spinwell-trending.yaml",
    "profile.yaml": "examples/spinwell-trending.yaml",
    "A.yaml": "examples/nova-startup.yaml",
    "B.yaml": "examples/oem-growth.yaml",
    "profiles/*.yaml": "examples/*.yaml",
    "RULE-OR-RECOMMENDATION-ID": "paper-core/register-brand-before-entry",
    "python -m ipexpert ...": "python -m ipexpert --help",
    "rules sources [--all]": "rules sources --all",
    "OLD-PACKS/ NEW-PACKS/": "my-packs/ my-packs/",
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel built from this checkout, and an empty folder outside the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True, capture_output=True)
    (wheel,) = dist.glob("ipexpert-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp / "elsewhere"
    work.mkdir()
    return env_dir, work


def run(env_dir, work, command, **kwargs):
    environ = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    environ.pop("PYTHONPATH", None)
    return subprocess.run(["bash", "-c", command], cwd=work, env=environ, capture_output=True, text=True, check=False, **kwargs)


@pytest.mark.slow
def test_every_tour_command_exits_0_from_the_installed_wheel(installed):
    env_dir, work = installed
    # What the README has a user do first: write the examples and a starter pack into a new folder.
    made = run(env_dir, work, "ipexpert init ipexpert-tour")
    assert made.returncode == 0, made.stderr
    work = work / "ipexpert-tour"
    commands = tour_commands()
    assert len(commands) >= 15 and commands[0].startswith("ipexpert evaluate")
    failures = []
    for command in commands:
        for placeholder, stand_in in PLACEHOLDERS.items():
            command = command.replace(placeholder, stand_in)
        done = run(env_dir, work, command)
        if done.returncode != 0:
            failures.append(f"{command}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    assert failures == []
    assert (work / "outline.md").read_text(encoding="utf-8").startswith("#")


@pytest.mark.slow
def test_installed_package_finds_its_data_in_site_packages(installed):
    env_dir, work = installed
    located = run(
        env_dir, work, "python -c 'import ipexpert._common.resources as r; print(r.rules_dir()); print(r.schemas_dir())'"
    )
    assert located.returncode == 0, located.stderr
    assert all("site-packages" in path for path in located.stdout.split())
    schema = run(env_dir, work, "ipexpert schema profile --path")
    assert "site-packages/ipexpert/schemas/firm-profile.schema.json" in schema.stdout
    outline = run(env_dir, work, f"ipexpert evaluate {SPINWELL} --format json --as-of {AS_OF}")
    assert json.loads(outline.stdout)["recommendations"]
    cases = run(env_dir, work, "ipexpert rules test")
    assert cases.returncode == 0 and " 0 failed" in cases.stdout, cases.stdout[-2000:]
    typed = run(
        env_dir,
        work,
        "python -c 'import ipexpert, pathlib; print((pathlib.Path(ipexpert.__file__).parent / \"py.typed\").is_file())'",
    )
    assert typed.stdout.strip() == "True"
    # The list of official source domains ships inside the wheel, beside the packs.
    sources = run(env_dir, work, "ipexpert rules sources -n 1")
    assert sources.returncode == 0, sources.stderr
    assert "source URLs official" in sources.stdout.splitlines()[0]
