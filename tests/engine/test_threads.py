"""One RuleBase shared by many threads gives the same outlines as evaluating one after another."""

import sys
import threading

import profilegen
import pytest
from conftest import AS_OF

import ipexpert

THREADS = 8
PER_THREAD = 50


def answer(profile, rules):
    """The outline JSON, or the problems of an invalid profile, as text to compare."""
    try:
        return ipexpert.evaluate(profile, rules, as_of=AS_OF).to_json()
    except ipexpert.IPExpertError as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture
def busy_switching():
    """Switch threads far more often than usual, so that shared state would show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def test_eight_threads_of_fifty_evaluations_match_sequential_results(busy_switching):
    rules = ipexpert.load_rules()
    profiles = [profile for profile, _ in profilegen.generate(THREADS * PER_THREAD, seed=23)]
    sequential = [answer(profile, rules) for profile in profiles]
    assert len(set(sequential)) > THREADS * PER_THREAD * 0.8  # the profiles really differ

    threaded = [None] * len(profiles)
    start = threading.Barrier(THREADS)
    failures = []

    def work(index):
        try:
            start.wait()
            # Each thread takes every THREADS-th profile, so neighbours in the list run at the same time.
            for i in range(index, len(profiles), THREADS):
                threaded[i] = answer(profiles[i], rules)
        except BaseException as exc:  # noqa: BLE001 - reported below, on the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == []
    assert threaded == sequential
