"""The benchmark runs from one command and prints every row it promises (no timing is checked)."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_prints_every_section_and_target(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for heading in (
        "CLI cold start",
        "Rule base load + compile",
        "Warm evaluation",
        "Report generation",
        "Batch throughput",
        "Agenda over a client book",
        "Scaling with the profile",
        "Scaling with the rule base",
        "Reference shape",
        "Memory",
        "Web interview pages",
        "Ratios",
        "Targets",
    ):
        assert heading in done.stdout
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        assert f"{example.name} p50" in done.stdout
    data = json.loads(out.read_text())
    sections = {row["section"] for row in data["rows"]}
    assert {"cli", "load", "warm", "report", "batch", "agenda", "scaling", "rules", "reference", "memory"} <= sections
    assert {t["target"] for t in data["targets"]} >= {
        "CLI cold evaluate",
        "warm evaluation p50, typical example",
        "HTML report vs JSON outline",
        "PDF report",
        "batch, 2 workers",
        "growth in markets x assets",
        "10x non-matching rules",
        "reference shape vs CLIPS",
    }
    assert {r["ratio"] for r in data["ratios"]} == {
        "CLI cold evaluate / bare import of click, yaml, jsonschema",
        "warm evaluation p50 / CLIPS 50-rule reference",
        "reference shape / CLIPS (worst size)",
        "batch, 2 jobs / 1 job",
        "10x non-matching rules / 1x",
        "interview page p95 / one warm evaluation",
    }
    # the engine's answers on the reference shape are checked by the benchmark itself
    assert not any("ipexpert" in row["measure"] and "WRONG" in row["note"] for row in data["rows"])
