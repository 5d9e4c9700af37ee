"""Run the property tests of tests/engine/test_properties.py for a long time; print examples tried and failures found.

    .venv/bin/python scripts/long_property_run.py --minutes 10

Each round runs every property with --batch fresh random examples; a failing property
prints its (shrunk) falsifying example and the run goes on with the next round.
Exit code 1 if any failure was found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--batch", type=int, default=500, help="examples per property per round (default 500)")
    args = parser.parse_args()

    os.environ["IPEXPERT_PROPERTY_EXAMPLES"] = str(args.batch)
    sys.path[:0] = [str(TESTS), str(TESTS / "engine")]
    import test_properties as props

    tests = [getattr(props, name) for name in sorted(dir(props)) if name.startswith("test_")]
    deadline = time.monotonic() + args.minutes * 60
    failures = []
    rounds = 0
    started = time.monotonic()
    while time.monotonic() < deadline:
        rounds += 1
        for test in tests:
            try:
                test()
            except Exception:  # a falsified property: report it and keep going
                failures.append(test.__name__)
                print(f"FAILED {test.__name__}", file=sys.stderr)
                traceback.print_exc()
            if time.monotonic() >= deadline:
                break
        print(f"round {rounds}: {props.tried['examples']:,} examples so far, {len(failures)} failures", flush=True)
    minutes = (time.monotonic() - started) / 60
    print(f"examples tried: {props.tried['examples']:,} in {minutes:.1f} minutes ({rounds} rounds of {args.batch} per property)")
    print(f"failures found: {len(failures)}" + (f" ({', '.join(sorted(set(failures)))})" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
