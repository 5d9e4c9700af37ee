"""Batch throughput on Dask against the local engine, on the same generated profiles (needs the [dask] extra).

    .venv/bin/python bench/dask_scale.py                 # 5,000 profiles (a few minutes)
    .venv/bin/python bench/dask_scale.py --count 300     # a short run

Runs the local engine with 1 and 2 worker processes, then a local Dask cluster with 1 and
2 workers (cluster start-up timed apart from the batch), checks that every run wrote the
same bytes, and prints profiles per second, CPU time per profile (all processes: steadier than wall
time on a busy machine), the speed-up of 2 workers over 1, and the Dask path's cost per
profile over the local engine's. Figures depend on what else the
machine is doing: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import profilegen  # noqa: E402

from ipexpert._batch import local as _local  # noqa: E402
from ipexpert._batch import on_dask as _on_dask  # noqa: E402
from ipexpert._batch import parquet as _parquet  # noqa: E402

AS_OF = "2026-11-25"


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes (the local engine's pool)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def local(items, out, jobs):
    start, cpu = time.monotonic(), _cpu()
    _local.run(items, out, as_of=AS_OF, jobs=jobs)
    return time.monotonic() - start, _cpu() - cpu


def dask(items, out, workers, partition_size):
    import distributed

    start = time.monotonic()
    with distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=50,
    ) as cluster:
        started = time.monotonic() - start
        with distributed.Client(cluster, set_as_default=False) as client:
            before = sum(client.run(_worker_cpu).values())
            start, cpu = time.monotonic(), time.process_time()  # the scheduler runs in this process too
            _on_dask.run(items, out, as_of=AS_OF, scheduler=cluster.scheduler_address, partition_size=partition_size)
            seconds, cpu = time.monotonic() - start, time.process_time() - cpu
            cpu += sum(client.run(_worker_cpu).values()) - before
            rss = max(client.run(_rss).values())
        return started, (seconds, cpu), rss


def _rss() -> int:
    import psutil  # comes with distributed

    return psutil.Process().memory_info().rss


def _worker_cpu() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="generated profiles (every 10th invalid)")
    parser.add_argument("--partition-size", type=int, default=_on_dask.PARTITION_SIZE)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "profiles.jsonl"
        source.write_text(profilegen.jsonl(profilegen.generate(args.count, seed=11)), encoding="utf-8")
        items = _local.collect(source)
        n = len(items)
        times, outputs = {}, {}
        for jobs in (1, 2):
            out = Path(folder) / f"local-{jobs}.jsonl"
            times[f"local, {jobs} job(s)"] = local(items, out, jobs)
            outputs[out.name] = out.read_bytes()
        startup, rss = {}, {}
        for workers in (1, 2):
            out = Path(folder) / f"dask-{workers}.jsonl"
            startup[workers], times[f"dask, {workers} worker(s)"], rss[workers] = dask(items, out, workers, args.partition_size)
            outputs[out.name] = out.read_bytes()
        tables = Path(folder) / "tables"
        _parquet.jsonl_to_tables(Path(folder) / "local-1.jsonl", tables)
        table_bytes = sum(f.stat().st_size for f in tables.iterdir())
        jsonl_bytes = len(outputs["local-1.jsonl"])
    load_after = os.getloadavg()

    same = len(set(outputs.values())) == 1
    print(f"batch throughput on {n:,} generated profiles (every 10th invalid), as of {AS_OF}, {os.cpu_count()} cores")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (a shared machine makes these figures noisy)"
    )
    print()
    print(f"{'engine':<22} {'seconds':>8} {'profiles/s':>11} {'CPU ms/profile':>15}")
    for name, (seconds, cpu) in times.items():
        print(f"{name:<22} {seconds:8.2f} {n / seconds:11.1f} {1000 * cpu / n:15.3f}")
    print()
    for workers, seconds in startup.items():
        print(
            f"dask local cluster start-up, {workers} worker(s): {seconds:.2f} s (not in the batch times above); "
            f"largest worker RSS after the batch {rss[workers] / 2**20:.0f} MiB"
        )
    wall = {name: seconds for name, (seconds, _) in times.items()}
    local1, dask1, dask2 = wall["local, 1 job(s)"], wall["dask, 1 worker(s)"], wall["dask, 2 worker(s)"]
    print(
        f"dask speed-up, 2 workers over 1: {dask1 / dask2:.2f}x (local engine, 2 jobs over 1: {local1 / wall['local, 2 job(s)']:.2f}x)"
    )
    cpu_local, cpu_dask = times["local, 1 job(s)"][1], times["dask, 1 worker(s)"][1]
    print(
        f"dask path overhead per profile (1 worker over local 1 job): {1000 * (cpu_dask - cpu_local) / n:+.3f} CPU ms "
        f"({100 * (cpu_dask - cpu_local) / cpu_local:+.1f}%); wall clock {1000 * (dask1 - local1) / n:+.3f} ms"
    )
    print(
        f"output per profile: {jsonl_bytes / n / 1024:.1f} KiB of JSON Lines, {table_bytes / n / 1024:.2f} KiB as the two Parquet tables"
    )
    print(f"every run wrote the same bytes: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
