"""cislens.runtime: pin_cores makes "1 thread" one core; numba_threads sets numba's pool for a block."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")

_PROBE = """
import json, os, sys, threading
from cislens.runtime import pin_cores
kept = pin_cores(int(sys.argv[1]))
seen = {}
worker = threading.Thread(target=lambda: seen.update(thread=sorted(os.sched_getaffinity(0))))
worker.start(); worker.join()
print(json.dumps({"kept": kept, "process": sorted(os.sched_getaffinity(0)), **seen}))
"""


def _probe(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(n)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_pin_cores_confines_the_process_and_threads_started_later():
    allowed = sorted(os.sched_getaffinity(0))
    got = _probe(1)
    assert got["kept"] == got["process"] == got["thread"] == allowed[:1]


def test_pin_cores_keeps_at_most_the_allowed_cores_and_at_least_one():
    allowed = sorted(os.sched_getaffinity(0))
    assert _probe(len(allowed) + 5)["process"] == allowed
    assert _probe(0)["process"] == allowed[:1]


def test_numba_threads_sets_the_count_for_the_block_and_restores_it():
    import numba

    from cislens.runtime import numba_threads

    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), numba_threads(1):  # restored when the block fails too
        raise RuntimeError
    assert numba.get_num_threads() == before
    with numba_threads(-1):
        assert numba.get_num_threads() == before
