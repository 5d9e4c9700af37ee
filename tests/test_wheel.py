"""The built wheel, installed into a fresh virtual environment, finds its rules and schemas."""

import json
import subprocess
import sys
import venv

import pytest

from conftest import AS_OF, ROOT, SPINWELL


@pytest.mark.slow
def test_installed_wheel_evaluates_an_example(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = dist.glob("ipexpert-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    # Run from an empty folder, so nothing from the checkout can be picked up.
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [str(env_dir / "bin" / "ipexpert"), "evaluate", str(SPINWELL), "--format", "json", "--as-of", AS_OF],
        cwd=work, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    outline = json.loads(result.stdout)
    assert outline["recommendations"]
    located = subprocess.run(
        [str(python), "-c", "import ipexpert._resources as r; print(r.rules_dir()); print(r.schemas_dir())"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert all("site-packages" in path for path in located)
    # The list of official source domains ships inside the wheel, beside the packs.
    sources = subprocess.run([str(env_dir / "bin" / "ipexpert"), "rules", "sources", "-n", "1"],
                             cwd=work, capture_output=True, text=True, check=False)
    assert sources.returncode == 0, sources.stderr
    assert "source URLs official" in sources.stdout.splitlines()[0]
