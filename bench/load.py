"""Load on `ipexpert serve`: requests per second and latency percentiles, on loopback only.

    .venv/bin/python bench/load.py                   # 1, 8, 32, 128 connections; --workers 1 and 2
    .venv/bin/python bench/load.py --seconds 2       # shorter levels
    .venv/bin/python bench/load.py --workers 2 --connections 32

For each worker count it starts the service on a free loopback port, and for each number of
connections sends POST /v1/evaluate (examples/spinwell-trending.yaml) over keep-alive
connections for a fixed time, then prints req/s and p50/p95/p99. It prints the service's
resident memory (all its processes) before and after, how long /healthz takes while a
every-market (250) by 50-mark profile is refused with 413, and the load average: on a shared
machine the figures are noisy. Everything is bounded: a fixed time per level, a timeout per
request, the server stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only
PROFILE = ROOT / "examples" / "spinwell-trending.yaml"
AS_OF = "2026-11-25"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tree_rss(pid: int) -> int:
    """Resident bytes of *pid* and its descendants (Linux /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    family = {pid}
    while True:
        more = {child for child, parent in parents.items() if parent in family} - family
        if not more:
            break
        family |= more
    total = 0
    for member in family:
        with contextlib.suppress(OSError):
            with open(f"/proc/{member}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return total


async def one_request(reader, writer, head: bytes, body: bytes) -> int:
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def connection(port, head, body, stop_at, latencies, errors):
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        errors.append("connect")
        return
    try:
        while time.monotonic() < stop_at:
            start = time.monotonic()
            try:
                status = await asyncio.wait_for(one_request(reader, writer, head, body), 30)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                return
            if status != 200:
                errors.append(str(status))
                return
            latencies.append(time.monotonic() - start)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def level(port: int, connections: int, seconds: float) -> dict:
    body = PROFILE.read_bytes()
    head = (
        f"POST /v1/evaluate?as_of={AS_OF} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/yaml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    latencies, errors = [], []
    start = time.monotonic()
    await asyncio.gather(*(connection(port, head, body, start + seconds, latencies, errors) for _ in range(connections)))
    elapsed = time.monotonic() - start
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {
        "connections": connections,
        "requests": len(latencies),
        "errors": len(errors),
        "req_per_s": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def request(port, method, path, body=b"", content_type=None, timeout=120):
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers={"Content-Type": content_type} if content_type else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def big_profile() -> bytes:
    from ipexpert._reading import codes as _codes

    codes = _codes.market_codes()  # every market there is
    return json.dumps(
        {
            "firm": {"name": "Everywhere Ltd", "home_country": "CN", "employees": 10, "business_model": "own_brand"},
            "channels": ["amazon"],
            "markets": [{"code": c, "status": "active"} for c in codes],
            "ip_assets": [{"type": "trademark", "name": f"MARK{i}", "registrations": []} for i in range(50)],
        }
    ).encode()


def healthz_during_large_request(port: int) -> dict:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        big = pool.submit(request, port, "POST", f"/v1/evaluate?as_of={AS_OF}", big_profile(), "application/json")
        times = []
        while not big.done():
            start = time.monotonic()
            request(port, "GET", "/healthz", timeout=30)
            times.append(time.monotonic() - start)
            time.sleep(0.05)
        status, _ = big.result()
    from ipexpert._reading import codes as _codes

    return {
        "status": status,
        "markets": len(_codes.market_codes()),
        "healthz_max_ms": max(times) * 1000,
        "healthz_p50_ms": statistics.median(times) * 1000,
        "healthz_samples": len(times),
    }


def run_workers(workers: int, connections: list, seconds: float, large: bool) -> dict:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipexpert", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if request(port, "GET", "/healthz", timeout=5)[0] == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        asyncio.run(level(port, max(connections), 1.0))  # warm every worker's evaluating process
        rss_before = tree_rss(proc.pid)
        rows = [asyncio.run(level(port, n, seconds)) for n in connections]
        rss_after = tree_rss(proc.pid)
        result = {"workers": workers, "levels": rows, "rss_before_mb": rss_before / MB, "rss_after_mb": rss_after / MB}
        if large:
            result["large"] = healthz_during_large_request(port)
            time.sleep(2)
            result["rss_after_large_mb"] = tree_rss(proc.pid) / MB
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per connection level (default 5)")
    parser.add_argument("--workers", type=int, action="append", help="worker counts (default 1 and 2)")
    parser.add_argument("--connections", type=int, action="append", help="connection levels (default 1 8 32 128)")
    parser.add_argument("--no-large", action="store_true", help="skip the every-market x 50 marks request")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    workers = args.workers or [1, 2]
    connections = args.connections or [1, 8, 32, 128]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    results = []
    for count in workers:
        result = run_workers(count, connections, args.seconds, large=not args.no_large and count == workers[0])
        results.append(result)
        print(f"\n--workers {count}   RSS {result['rss_before_mb']:.0f} MB before, {result['rss_after_mb']:.0f} MB after")
        print(f"{'conns':>6} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for row in result["levels"]:
            print(
                f"{row['connections']:>6} {row['requests']:>9} {row['errors']:>6} {row['req_per_s']:>8.1f} "
                f"{row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f}"
            )
        if "large" in result:
            large = result["large"]
            print(
                f"{large['markets']} markets x 50 marks: HTTP {large['status']}; /healthz meanwhile: median {large['healthz_p50_ms']:.1f} ms, "
                f"max {large['healthz_max_ms']:.1f} ms over {large['healthz_samples']} requests; "
                f"RSS afterwards {result['rss_after_large_mb']:.0f} MB"
            )
    if len(results) >= 2:
        first, second = results[0], results[1]
        for a, b in zip(first["levels"], second["levels"]):
            if a["req_per_s"]:
                print(
                    f"{a['connections']} connections: --workers {second['workers']} / --workers {first['workers']} "
                    f"= {b['req_per_s'] / a['req_per_s']:.2f}x"
                )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine: figures are noisy)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
