"""One training per spec however many ask (run/flight.py), and the thread policy for jobs that
share the CPU (run/threads.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from filelock import FileLock, Timeout

from causalpref.run import threads
from causalpref.run.flight import WAITING, single_flight

ROOT = Path(__file__).resolve().parents[1]

TWO_PROCESSES = """
import sys
from causalpref.run.cache import ResultCache
from causalpref.run.cached import run_cached
from causalpref.run.specs import Exp1Spec, SplitSizes
spec = Exp1Spec(rhos=(0.9,), seeds=(0,), models=("base",), device="cpu",
                sizes=SplitSizes(train=400, val=100, id=200, ood=200))
sweep, cached = run_cached("exp1", spec, ResultCache(sys.argv[1]))
print("cached" if cached else "trained", sweep.results["accuracy"].round(6).tolist())
"""


def test_two_processes_asking_for_one_uncached_sweep_train_it_once(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_PROCESSES, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sorted(out.split(" ", 1)[0] for out in outputs) == ["cached", "trained"]
    assert outputs[0].split(" ", 1)[1] == outputs[1].split(" ", 1)[1]  # the same numbers


def _store(box: dict):
    def compute(progress):
        for step in range(4):
            progress(step, 4, f"step {step}")
            time.sleep(0.15)
        box["value"] = "result"
        box["computed"] = box.get("computed", 0) + 1
        progress(4, 4, "done")
        return "result"

    return compute


def test_a_waiter_sees_the_holders_progress_and_receives_its_result(tmp_path):
    box, seen, results = {}, [], []

    def ask(progress=None):
        results.append(single_flight(tmp_path, "k", lambda: box.get("value"), _store(box), progress, poll=0.05))

    holder = threading.Thread(target=ask)
    holder.start()
    time.sleep(0.1)
    ask(lambda done, total, message: seen.append(message))
    holder.join()
    assert box["computed"] == 1
    assert sorted(computed for _, computed in results) == [False, True]
    assert seen and all(WAITING in message for message in seen)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    lock = tmp_path / "flights" / "k.lock"
    lock.parent.mkdir()
    code = f"from filelock import FileLock; import time; l = FileLock({str(lock)!r}); l.acquire(); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(Timeout):  # held by the other process
        FileLock(lock).acquire(timeout=0.2)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    box = {}
    started = time.perf_counter()
    value, computed = single_flight(tmp_path, "k", lambda: box.get("value"), _store(box), poll=0.05)
    assert (value, computed) == ("result", True)
    assert time.perf_counter() - started < 5


def test_a_stopped_holder_hands_the_computation_to_the_next_caller(tmp_path):
    box = {}

    def stopped(progress):
        raise KeyboardInterrupt  # a Stop button: the holder leaves without a result

    with pytest.raises(KeyboardInterrupt):
        single_flight(tmp_path, "k", lambda: box.get("value"), stopped)
    assert single_flight(tmp_path, "k", lambda: box.get("value"), _store(box)) == ("result", True)
    assert not (tmp_path / "flights" / "k.progress.json").exists()


def test_thread_policy_gives_a_lone_job_every_core_and_shares_them_between_jobs(tmp_path):
    assert threads.threads_for(1, 8) == 8 and threads.threads_for(2, 8) == 4 and threads.threads_for(3, 2) == 1
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        with threads.training_threads(tmp_path):
            assert torch.get_num_threads() == 4
            with threads.training_threads(tmp_path):
                assert torch.get_num_threads() == 2
            assert torch.get_num_threads() == 4
        assert torch.get_num_threads() == 4
        torch.set_num_threads(1)  # a caller that pins one thread (report) keeps it
        with threads.training_threads(tmp_path):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_jobs_of_other_live_processes_count(tmp_path):
    folder = tmp_path / "flights"
    folder.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (folder / "a.progress.json").write_text(f'{{"pid": {sleeper.pid}, "done": 0, "total": 1, "message": ""}}')
        (folder / "b.progress.json").write_text('{"pid": 999999999, "done": 0, "total": 1, "message": ""}')
        (folder / "c.progress.json").write_text(f'{{"pid": {os.getpid()}, "done": 0, "total": 1, "message": ""}}')
        assert threads.jobs_elsewhere(tmp_path) == 1  # the live other one; not the dead, not ours
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_running_job_gives_up_cores_when_another_process_starts_training(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    folder = tmp_path / "flights"
    folder.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with threads.training_threads(tmp_path):
            assert torch.get_num_threads() == 2  # alone
            (folder / "x.progress.json").write_text(f'{{"pid": {other.pid}, "done": 0, "total": 1, "message": ""}}')
            threads.refresh(tmp_path, every=0)
            assert torch.get_num_threads() == 1  # shared with the other process's job
            other.kill()
            other.wait()
            threads.refresh(tmp_path, every=0)
            assert torch.get_num_threads() == 2  # alone again
    finally:
        other.kill()
        torch.set_num_threads(before)
