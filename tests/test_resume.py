"""A stopped or killed sweep resumes from the chunks it finished and gives the same tables as an
uninterrupted run (run/chunks.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from causalpref.run import sweep as sweep_module
from causalpref.run.cache import ResultCache
from causalpref.run.cached import _keys, run_cached
from causalpref.run.chunks import ChunkStore
from causalpref.run.specs import Exp1Spec, SplitSizes

ROOT = Path(__file__).resolve().parents[1]
SIZES = SplitSizes(train=300, val=100, id=200, ood=200)
ONE_CELL = SIZES.total_pairs() * 2 * 32 * 4  # bytes of one cell's pairs at the default d = 32


def tiny_spec() -> Exp1Spec:
    return Exp1Spec(rhos=(0.3, 0.9), seeds=(0, 1), models=("base",), sizes=SIZES, device="cpu")


def csv_text(sweep) -> dict[str, str]:
    tables = {"results": sweep.results, **sweep.details}
    return {name: frame.to_csv(index=False) for name, frame in tables.items()}


@pytest.fixture
def one_cell_per_chunk(monkeypatch):
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", ONE_CELL)


def test_a_stopped_sweep_trains_only_the_missing_chunks_and_matches_an_uninterrupted_run(tmp_path, one_cell_per_chunk):
    spec = tiny_spec()
    whole = csv_text(sweep_module.run_sweep(spec))
    store = ChunkStore(tmp_path, "k")

    def stop_after_two(done, total, message):
        if len(list(store.folder.glob("*.json"))) == 2:
            raise KeyboardInterrupt  # the Stop button

    with pytest.raises(KeyboardInterrupt):
        sweep_module.run_sweep(spec, progress=stop_after_two, chunks=store)
    drawn = []
    resumed = sweep_module.run_sweep(
        spec, progress=lambda d, t, m: drawn.append(m) if m.startswith("drawing") else None, chunks=store
    )
    assert len(drawn) == 2  # the two cells the first run had not finished
    assert csv_text(resumed) == whole


KILLED = """
import sys, time
from causalpref.run import sweep as s
from causalpref.run.chunks import ChunkStore
from causalpref.run.specs import Exp1Spec, SplitSizes
s.CPU_CHUNK_BYTES = int(sys.argv[2])
spec = Exp1Spec(rhos=(0.3, 0.9), seeds=(0, 1), models=("base",), device="cpu",
                sizes=SplitSizes(train=300, val=100, id=200, ood=200))
store = ChunkStore(sys.argv[1], "k")
def slow(done, total, message):
    if list(store.folder.glob("*.json")):
        time.sleep(60)  # killed here, after its first chunk
s.run_sweep(spec, progress=slow, chunks=store)
"""


def test_a_killed_sweep_resumes_and_gives_the_same_tables(tmp_path, one_cell_per_chunk):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path), str(ONE_CELL)], env=env)
    store = ChunkStore(tmp_path, "k")
    deadline = time.time() + 120
    while not list(store.folder.glob("*.json")) and time.time() < deadline:
        time.sleep(0.1)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert len(list(store.folder.glob("*.json"))) == 1
    spec = tiny_spec()
    assert csv_text(sweep_module.run_sweep(spec, chunks=store)) == csv_text(sweep_module.run_sweep(spec))


def test_run_cached_removes_the_chunks_once_the_sweep_is_stored(tmp_path, one_cell_per_chunk):
    spec = tiny_spec()
    cache = ResultCache(tmp_path)
    run_cached("exp1", spec, cache)
    assert not ChunkStore(tmp_path, _keys("exp1", spec)["results"]).folder.exists()
