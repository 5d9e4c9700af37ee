"""The ipexpert benchmark: one command, one table, optionally JSON.

    .venv/bin/python bench/run.py                  # full run (a few minutes)
    .venv/bin/python bench/run.py --quick          # a short run, same rows, fewer repeats
    .venv/bin/python bench/run.py --json out.json  # also write every figure as JSON

It measures whatever is in the tree: every examples/*.yaml, the bundled rule packs,
`ipexpert batch` if the command exists, and `ipexpert agenda` over a book of copies of the examples. Absolute times drift from machine to machine;
the ratios printed beside them come from this one run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402

AS_OF = "2026-11-25"


class Report:
    """Rows of (section, measure, value, unit, note), printed as a table and kept for JSON."""

    def __init__(self):
        self.rows = []
        self.targets = []
        self.ratios = []

    def add(self, section, measure, value, unit="", note=""):
        self.rows.append({"section": section, "measure": measure, "value": value, "unit": unit, "note": note})
        print(f"  {measure:<52} {_fmt(value):>12} {unit:<12} {note}", flush=True)

    def target(self, name, goal, measured, met):
        self.targets.append({"target": name, "goal": goal, "measured": measured, "met": met})

    def ratio(self, name, value, goal, met):
        """One figure of the table in docs/performance.md: a ratio between two times of this run."""
        self.ratios.append({"ratio": name, "value": value, "goal": goal, "met": met})

    def section(self, title):
        print(f"\n{title}", flush=True)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def ms(seconds):
    return round(seconds * 1000, 3)


def repeat(fn, n, warmup=1):
    """Seconds taken by each of *n* calls of *fn*, after *warmup* calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def percentile(times, p):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def ipexpert_command():
    script = Path(sys.executable).parent / "ipexpert"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ipexpert"]


def examples():
    return sorted((ROOT / "examples").glob("*.yaml"))


def typical_example():
    found = examples()
    named = [p for p in found if p.stem == "spinwell-trending"]
    return named[0] if named else found[0]


# ---------------------------------------------------------------- sections


def _timed_run(command, env=None):
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[:400]}")
    return seconds


def cold_start(report, runs, workdir):
    """Whole-process times, against a bare `python -c "import click, yaml, jsonschema"` of the same run.

    The knowledge cache lives in a folder of its own here (XDG_CACHE_HOME), so the first
    `evaluate` builds it and the runs after it read it, as on a user's machine.
    """
    report.section(f"CLI cold start (whole process, median of {runs})")
    example = typical_example()
    env = dict(os.environ, XDG_CACHE_HOME=str(workdir / "cache-cli"))
    env.pop("IPEXPERT_NO_CACHE", None)
    evaluate = ipexpert_command() + ["evaluate", str(example), "--format", "json", "--as-of", AS_OF]
    first = _timed_run(evaluate, env)
    report.add("cli", "first evaluate (builds the knowledge cache)", ms(first), "ms", "once per release and pack set")
    rows = (
        ("bare `python -c 'import click, yaml, jsonschema'`", [sys.executable, "-c", "import click, yaml, jsonschema"], env),
        ("ipexpert --help", ipexpert_command() + ["--help"], env),
        (f"ipexpert evaluate {example.name} --format json", evaluate, env),
        ("the same with IPEXPERT_NO_CACHE=1", evaluate, dict(env, IPEXPERT_NO_CACHE="1")),
    )
    results = {}
    for label, command, run_env in rows:
        times = [_timed_run(command, run_env) for _ in range(runs)]
        results[label] = statistics.median(times)
    bare = results[rows[0][0]]
    for label, _, _ in rows:
        note = "the reference" if label == rows[0][0] else f"x{results[label] / bare:.2f} the bare imports"
        report.add("cli", label, ms(results[label]), "ms", note)
    cold = results[rows[2][0]]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report.add("memory", "peak RSS of a CLI evaluate", round(peak, 1), "MB", "ru_maxrss of the child processes")
    report.target("CLI cold evaluate", "<= 0.5 s", f"{cold:.3f} s", cold <= 0.5)
    report.ratio("CLI cold evaluate / bare import of click, yaml, jsonschema", cold / bare, "<= 2.5x", cold / bare <= 2.5)


def load_compile(report, runs):
    from ipexpert._engine import rulebase as _rulebase
    from ipexpert._knowledge import packs as _packs

    report.section(f"Rule base load + compile (bundled packs, median of {runs})")
    reads, compiles, networks, checks = [], [], [], []
    for _ in range(runs):
        os.environ["IPEXPERT_NO_CACHE"] = "1"
        start = time.perf_counter()
        _packs.load((), defaults=True)
        checks.append(time.perf_counter() - start)
        del os.environ["IPEXPERT_NO_CACHE"]
        _packs.load((), defaults=True)  # fills the cache (the first time) for the next line
        start = time.perf_counter()
        packs = _packs.load((), defaults=True)
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        rule_base = _rulebase.RuleBase(packs)
        compiles.append(time.perf_counter() - start)
        start = time.perf_counter()
        rule_base._engine()
        networks.append(time.perf_counter() - start)
    names = ", ".join(f"{p.name} ({len(p.rules)} rules, {len(p.facts)} facts)" for p in rule_base.packs)
    report.add("load", "read + validate packs (IPEXPERT_NO_CACHE=1)", ms(statistics.median(checks)), "ms", names)
    report.add(
        "load", "read checked packs from the cache", ms(statistics.median(reads)), "ms", "what every run after the first does"
    )
    report.add("load", "compile rules to an engine class", ms(statistics.median(compiles)), "ms", f"{len(rule_base.rules)} rules")
    report.add("load", "build the Rete network (one engine)", ms(statistics.median(networks)), "ms", "once per thread/process")
    total = statistics.median(reads) + statistics.median(compiles) + statistics.median(networks)
    report.add("load", "total", ms(total), "ms")
    return rule_base


def warm(report, rule_base, runs):
    from ipexpert import _api
    from ipexpert._outputs import text as _text

    report.section(f"Warm evaluation (one rule base, {runs} evaluations each: YAML text -> JSON outline)")
    p50s = {}
    for example in examples():
        text = example.read_bytes()

        def once(text=text):
            _text.render(_api.evaluate(text, rule_base, AS_OF, name=example.name), "json")

        times = repeat(once, runs, warmup=3)
        p50s[example.name] = percentile(times, 50)
        report.add("warm", f"{example.name} p50", ms(percentile(times, 50)), "ms", f"p95 {ms(percentile(times, 95))} ms")
    worst = max(p50s.values())
    typical = p50s[typical_example().name]
    clips_p50 = clips_reference_p50(runs)
    if clips_p50 is None:
        report.add("warm", "CLIPS 50-rule reference evaluation p50", None, "", "clipspy not installed (pip install '.[bench]')")
        report.ratio("warm evaluation p50 / CLIPS 50-rule reference", None, "<= 20x", None)
    else:
        ratio = typical / clips_p50
        report.add(
            "warm", "CLIPS 50-rule reference evaluation p50", ms(clips_p50), "ms", f"{typical_example().name}: x{ratio:.1f}"
        )
        report.ratio("warm evaluation p50 / CLIPS 50-rule reference", ratio, "<= 20x", ratio <= 20)
    report.target(
        "warm evaluation p50, typical example",
        "<= 10 ms",
        f"{typical * 1000:.2f} ms ({typical_example().name}); worst example {worst * 1000:.2f} ms",
        typical <= 0.010,
    )
    return typical


def clips_reference_p50(runs):
    """p50 of one CLIPS evaluation of the 50-rule reference shape over 5 markets, or None without clipspy."""
    try:
        import clips  # noqa: F401
    except ImportError:
        return None
    reference = synthetic.ClipsReference(synthetic.reference_rules(50))
    facts = synthetic.reference_facts(5)
    return percentile(repeat(lambda: reference.evaluate(facts), max(runs, 21), warmup=3), 50)


def reports(report, rule_base, runs, pdf_runs):
    """HTML and PDF report time for the typical example, against the JSON outline's (issue 13's targets)."""
    from ipexpert import _api

    example = typical_example()
    text = example.read_bytes()
    report.section(f"Report generation ({example.name}: YAML text -> JSON outline, HTML page, PDF)")
    json_p50 = percentile(repeat(lambda: _api.evaluate(text, rule_base, AS_OF).to_json(), runs, warmup=3), 50)
    report.add("report", "JSON outline p50", ms(json_p50), "ms")
    html = {}
    for lang in ("en", "zh-CN"):
        html[lang] = percentile(repeat(lambda lang=lang: _api.report(text, rule_base, AS_OF, lang=lang), runs, warmup=3), 50)
        report.add("report", f"HTML report ({lang}) p50", ms(html[lang]), "ms", f"{html[lang] / json_p50:.2f}x the JSON outline")
    worst = max(html.values())
    report.target(
        "HTML report vs JSON outline",
        "<= 2x",
        f"{worst / json_p50:.2f}x ({worst * 1000:.1f} ms vs {json_p50 * 1000:.1f} ms)",
        worst <= 2 * json_p50,
    )
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        report.add("report", "PDF report", None, "", "not measured: pip install 'ipexpert[pdf]'")
        report.target("PDF report", "<= 2 s", "not measured (no WeasyPrint)", None)
        return
    pdf, cpu = {}, {}
    for lang in ("en", "zh-CN"):
        started = time.process_time()
        times = repeat(lambda lang=lang: _api.report(text, rule_base, AS_OF, lang=lang, format="pdf"), pdf_runs, warmup=1)
        cpu[lang] = (time.process_time() - started) / (pdf_runs + 1)  # this process's CPU: what other jobs cannot inflate
        pdf[lang] = statistics.median(times)
        report.add(
            "report",
            f"PDF report ({lang}) median",
            ms(pdf[lang]),
            "ms",
            f"{pdf_runs} runs after a warm-up; CPU {cpu[lang]:.2f} s each",
        )
    slowest = max(pdf.values())
    report.target(
        "PDF report", "<= 2 s", f"{slowest:.2f} s wall, {max(cpu.values()):.2f} s CPU (slowest language)", slowest <= 2.0
    )


def interview_pages(report, rule_base, warm_p50):
    """Each page of the web interview, answered as the three firms of the tests would (tests/interview_firms.py).

    A page is what one request does: check the answer, choose the next question by
    evaluating what-ifs, evaluate the outline beside it, and render the HTML. The question
    engine starts empty (as after a server start) and is shared by the three interviews, as
    the server shares it.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import interview_firms
    except ImportError:
        report.add("interview", "skipped", None, "", "tests/interview_firms.py is not in this tree")
        return
    from ipexpert import _api
    from ipexpert._interview import questions as _questions

    report.section("Web interview pages (the three firms of the tests, every page timed)")
    try:
        from ipexpert._interview import pages as _pages
        from ipexpert._interview import web as _web  # noqa: F401 - needs the [serve] extra, as the pages do
    except ImportError:
        report.add("interview", "skipped", None, "", "the web interview needs pip install '.[serve]'")
        report.ratio("interview page p95 / one warm evaluation", None, "<= 10x", None)
        return
    _questions.engine.cache_clear()
    engine = _questions.engine(rule_base, _api.parse_date(interview_firms.AS_OF))
    times = []
    for firm_name, lang in zip(interview_firms.FIRMS, ("en", "en", "zh-CN")):
        firm = interview_firms.hand_written(firm_name)
        state = _questions.State()
        start = time.perf_counter()
        _pages._page(engine, state, lang)
        pages = [time.perf_counter() - start]
        while (question := engine.next_question(state)) is not None and len(pages) < 100:
            action, answer = interview_firms.reply(question, state.profile, firm)
            form = {"state": [state.to_json()], "lang": [lang], "question": [question.id], "action": [action]}
            for name, value in (answer or {}).items():
                form[name] = value if isinstance(value, list) else [value]
            start = time.perf_counter()
            status = _pages._step(engine, form, lang)[0]
            pages.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"interview page for {firm_name} answered {status} at {question.id}")
            state = engine.skip(state, question) if action == "skip" else engine.answer(state, question, answer)[0]
        times += pages
        report.add(
            "interview",
            f"{firm_name} ({lang}): {len(pages)} pages",
            ms(percentile(pages, 50)),
            "ms p50",
            f"p95 {ms(percentile(pages, 95))} ms, slowest {ms(max(pages))} ms",
        )
    p50, p95 = percentile(times, 50), percentile(times, 95)
    budget = 10 * warm_p50
    report.add("interview", f"all {len(times)} pages p50", ms(p50), "ms", f"p95 {ms(p95)} ms")
    report.add(
        "interview",
        "ten warm evaluations (the budget)",
        ms(budget),
        "ms",
        f"p50 x{p50 / warm_p50:.1f}, p95 x{p95 / warm_p50:.1f} one evaluation",
    )
    report.ratio("interview page p95 / one warm evaluation", p95 / warm_p50, "<= 10x", p95 <= budget)


def evaluation_time(rule_base, profile, runs):
    from ipexpert import _api

    times = repeat(lambda: _api.evaluate(profile, rule_base, AS_OF), runs, warmup=1 if runs > 1 else 0)
    return statistics.median(times)


def batch(report, count, workdir):
    report.section(f"Batch throughput (`ipexpert batch`, {count} profiles, whole process)")
    help_run = subprocess.run(ipexpert_command() + ["batch", "--help"], capture_output=True, cwd=ROOT)
    if help_run.returncode != 0:
        report.add("batch", "skipped", None, "", "`ipexpert batch` does not exist in this tree")
        report.target("batch, 2 workers", ">= 150 profiles/s", "not measured (no batch command)", None)
        return
    from ipexpert._reading import document as _document

    profiles = [_document.load(p.read_bytes(), p.name).data for p in examples()]
    source = workdir / "profiles.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps(profiles[i % len(profiles)], default=str) + "\n")
    rates = {}
    for jobs in (1, 2):
        output = workdir / f"out-{jobs}.jsonl"
        start = time.perf_counter()
        done = subprocess.run(
            ipexpert_command() + ["batch", str(source), "-o", str(output), "--jobs", str(jobs), "--as-of", AS_OF],
            capture_output=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            report.add("batch", f"{jobs} worker(s)", None, "", f"failed: {done.stderr.decode().strip()[:200]}")
            continue
        lines = sum(1 for _ in open(output, encoding="utf-8"))
        rates[jobs] = count / seconds
        report.add(
            "batch",
            f"{jobs} worker(s)",
            round(rates[jobs], 1),
            "profiles/s",
            f"{lines} lines in {seconds:.2f} s; command says: {done.stderr.decode().strip().splitlines()[-1]}",
        )
    if 1 in rates and 2 in rates:
        speedup = rates[2] / rates[1]
        report.add("batch", "speed-up, 2 workers / 1", round(speedup, 2), "x")
        report.ratio("batch, 2 jobs / 1 job", speedup, ">= 1.6x", speedup >= 1.6)
    else:
        report.ratio("batch, 2 jobs / 1 job", None, ">= 1.6x", None)
    rate = rates.get(2)
    report.target(
        "batch, 2 workers", ">= 150 profiles/s", f"{rate:.0f} profiles/s" if rate else "failed", bool(rate and rate >= 150)
    )


def agenda(report, count, workdir):
    report.section(f"Agenda over a client book (`ipexpert agenda`, {count} profiles, whole process)")
    from ipexpert._reading import document as _document

    book = workdir / "book"
    book.mkdir()
    profiles = [_document.load(p.read_bytes(), p.name).data for p in examples()]
    for i in range(count):
        profile = json.loads(json.dumps(profiles[i % len(profiles)], default=str))
        profile["firm"]["name"] = f"{profile['firm']['name']} {i:04d}"  # a thousand distinct clients
        (book / f"client-{i:04d}.json").write_text(json.dumps(profile), encoding="utf-8")
    seconds_by_run = {}
    for jobs, fmt in ((1, "json"), (2, "json"), (2, "ics")):
        output = workdir / f"agenda-{jobs}.{fmt}"
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            ipexpert_command()
            + ["agenda", str(book), "--days", "90", "--format", fmt, "-o", str(output), "--jobs", str(jobs), "--as-of", AS_OF],
            capture_output=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            report.add("agenda", f"{jobs} worker(s), {fmt}", None, "", f"failed: {done.stderr.decode().strip()[:200]}")
            continue
        seconds_by_run[jobs, fmt] = seconds
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        size = output.stat().st_size
        note = f"{count / seconds:.0f} profiles/s, {cpu:.1f} s of CPU (all processes), {size:,} bytes out"
        report.add("agenda", f"{jobs} worker(s), {fmt}", round(seconds, 2), "s", note)
    measured = seconds_by_run.get((2, "json"))
    report.target(
        f"agenda, {count} profiles, 2 workers",
        "< 30 s" if count >= 1000 else "< 30 s at 1,000 (full run)",
        f"{measured:.1f} s" if measured else "failed",
        bool(measured and measured < 30) if count >= 1000 else None,
    )


def exponent(size_a, time_a, size_b, time_b):
    """k in time ~ size^k between two points (1 = linear)."""
    return math.log(time_b / time_a) / math.log(size_b / size_a)


def scaling(report, rule_base, quick):
    report.section("Scaling with the profile (median evaluation time, dict -> outline)")
    markets = (1, 10) if quick else (1, 10, 50, 200)
    assets = (1, 10) if quick else (1, 10, 100, 500)
    worst = 0.0
    for label, points in (
        ("markets (10 assets)", [(m, 10) for m in markets]),
        ("assets (10 markets)", [(10, a) for a in assets]),
        # (200 markets, 500 assets) is 100,000 market-asset pairs, minutes per evaluation: left out.
        ("markets x assets", [(1, 1), (10, 10)] + ([] if quick else [(50, 100)])),
    ):
        first = None
        previous = None
        for m, a in points:
            profile = synthetic.scaled_profile(m, a)
            size = m * a
            runs = 1 if size >= 5000 else (3 if size >= 1000 else (5 if quick else 11))
            seconds = evaluation_time(rule_base, profile, runs)
            first = first or (size, seconds)
            note = ""
            if previous:
                k = exponent(previous[0], previous[1], size, seconds)
                note = f"x{seconds / first[1]:.1f} time for x{size / first[0]:g} size; exponent {k:.2f} since previous"
                worst = max(worst, k)
            report.add("scaling", f"{label}: {m} markets, {a} assets", ms(seconds), "ms", note)
            previous = (size, seconds)
    report.target(
        "growth in markets x assets", "linear or better (exponent <= 1.1)", f"largest exponent {worst:.2f}", worst <= 1.1
    )


def rule_growth(report, rule_base, quick, workdir):
    from ipexpert import _api
    from ipexpert._engine import rulebase as _rulebase
    from ipexpert._knowledge import packs as _packs

    report.section("Scaling with the rule base (rules that do not match, typical example)")
    example = typical_example()
    text = example.read_bytes()
    base = evaluation_time(rule_base, text, 21 if not quick else 7)
    report.add("rules", f"{len(rule_base.rules)} rules (bundled)", ms(base), "ms", example.name)
    factors = (10,) if quick else (10, 100)
    ratio10 = None
    for factor in factors:
        directory = workdir / f"grown-{factor}"
        directory.mkdir()
        synthetic.non_matching_packs(rule_base, factor - 1, directory)
        start = time.perf_counter()
        grown = _rulebase.RuleBase(_packs.load([directory], defaults=True))
        grown._engine()
        build = time.perf_counter() - start
        seconds = evaluation_time(grown, text, 11 if factor == 10 else 5)
        same = (
            _api.evaluate(text, grown, AS_OF).to_dict()["recommendations"]
            == _api.evaluate(text, rule_base, AS_OF).to_dict()["recommendations"]
        )
        ratio = seconds / base
        if factor == 10:
            ratio10 = ratio
        report.add(
            "rules",
            f"{len(grown.rules)} rules ({factor}x)",
            ms(seconds),
            "ms",
            f"x{ratio:.2f} time; load+compile+network {build:.2f} s; same recommendations: {same}",
        )
    report.target("10x non-matching rules", "<= 2x time", f"x{ratio10:.2f}", ratio10 <= 2)
    report.ratio("10x non-matching rules / 1x", ratio10, "<= 1.5x", ratio10 <= 1.5)


def reference(report, quick, workdir):
    report.section("Reference shape: Firm(stage=S) & Market(code=?m) & not Registration(market=?m, kind=K)")
    try:
        import clips  # noqa: F401

        have_clips = True
    except ImportError:
        have_clips = False
        report.add("reference", "CLIPS", None, "", "clipspy not installed (pip install '.[bench]'); ratios to CLIPS skipped")
    sizes = ((50, 5),) if quick else ((50, 5), (1000, 5), (50, 20), (200, 20))
    worst = None
    for n, m in sizes:
        rules = synthetic.reference_rules(n)
        facts = synthetic.reference_facts(m)
        expected = synthetic.expected(rules, facts)
        runs = 5 if n >= 1000 or quick else 21
        rows = {}
        correct = {}

        experta = synthetic.ExpertaReference(rules)
        naive_runs = 3 if n >= 1000 else runs
        rows["experta, new engine per evaluation"] = statistics.median(
            repeat(lambda: experta.evaluate(experta.new_engine(), facts), naive_runs)
        )
        correct["experta, new engine per evaluation"] = experta.evaluate(experta.new_engine(), facts) == expected
        engine = experta.new_engine()
        rows["experta, one engine reused"] = statistics.median(repeat(lambda: experta.evaluate(engine, facts), runs))
        correct["experta, one engine reused"] = experta.evaluate(engine, facts) == expected

        directory = workdir / f"reference-{n}-{m}"
        directory.mkdir()
        synthetic.reference_pack(rules, directory)
        compiled = synthetic.IPExpertReference(directory)
        rows["ipexpert (compiled pack, RuleBase.run)"] = statistics.median(repeat(lambda: compiled.evaluate(facts), runs))
        correct["ipexpert (compiled pack, RuleBase.run)"] = compiled.evaluate(facts) == expected

        if have_clips:
            clips_ref = synthetic.ClipsReference(rules)
            rows["CLIPS (clipspy)"] = statistics.median(repeat(lambda: clips_ref.evaluate(facts), max(runs, 21)))
            correct["CLIPS (clipspy)"] = clips_ref.evaluate(facts) == expected
        base = rows.get("CLIPS (clipspy)")
        for name, seconds in rows.items():
            note = f"x{seconds / base:.1f} CLIPS" if base else ""
            if not correct[name]:
                note += f"  WRONG firings (expected {len(expected)})"
            report.add("reference", f"{n} rules, {m} markets: {name}", ms(seconds), "ms", note.strip())
        if base:
            ratio = rows["ipexpert (compiled pack, RuleBase.run)"] / base
            worst = max(worst or 0, ratio)
    if worst is not None:
        report.target("reference shape vs CLIPS", "<= 5x", f"worst x{worst:.1f}", worst <= 5)
    else:
        report.target("reference shape vs CLIPS", "<= 5x", "not measured (no clipspy)", None)
    report.ratio("reference shape / CLIPS (worst size)", worst, "<= 3x", None if worst is None else worst <= 3)


def memory(report, rule_base):
    from ipexpert import _api

    report.section("Memory")
    example = typical_example()
    tracemalloc.start()
    _api.evaluate(example.read_bytes(), rule_base, AS_OF)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report.add("memory", f"allocated during one evaluation ({example.name})", round(peak / 1024, 1), "KB", "tracemalloc peak")
    report.add(
        "memory",
        "peak RSS of this benchmark process",
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "MB",
        "ru_maxrss, includes the grown rule packs",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark ipexpert and print a table.")
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and smaller sizes: checks that every row runs; its figures are rough"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    quick = args.quick

    report = Report()
    print(f"ipexpert benchmark, {'quick' if quick else 'full'} run, {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (other jobs on the machine skew every figure; batch with 2 workers most)")
    workdir = Path(tempfile.mkdtemp(prefix="ipexpert-bench-"))
    # The knowledge cache of this run lives in the run's own folder, never in the user's.
    os.environ["XDG_CACHE_HOME"] = str(workdir / "cache")
    os.environ.pop("IPEXPERT_NO_CACHE", None)
    try:
        cold_start(report, 3 if quick else 7, workdir)
        rule_base = load_compile(report, 3 if quick else 5)
        warm_p50 = warm(report, rule_base, 20 if quick else 200)
        interview_pages(report, rule_base, warm_p50)
        reports(report, rule_base, 10 if quick else 50, 2 if quick else 5)
        batch(report, 30 if quick else 600, workdir)
        agenda(report, 40 if quick else 1000, workdir)
        scaling(report, rule_base, quick)
        rule_growth(report, rule_base, quick, workdir)
        reference(report, quick, workdir)
        memory(report, rule_base)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    load_after = os.getloadavg()
    print(f"\nload average after: {load_after[0]:.2f}")
    print("\nRatios (each between two figures of this run; the table of docs/performance.md)")
    for r in report.ratios:
        state = "not measured" if r["met"] is None else ("met" if r["met"] else "MISSED")
        value = "-" if r["value"] is None else f"x{r['value']:.2f}"
        print(f"  {r['ratio']:<62} {value:>8}  goal {r['goal']:<8} {state}")
    print(f"  load average before / after: {load_before[0]:.2f} / {load_after[0]:.2f} on {os.cpu_count()} CPUs")
    print("\nTargets")
    for t in report.targets:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "MISSED")
        print(f"  {t['target']:<40} {t['goal']:<36} {t['measured']:<40} {state}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "quick": quick,
                    "load_average": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
                    "rows": report.rows,
                    "targets": report.targets,
                    "ratios": report.ratios,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
