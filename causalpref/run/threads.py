"""How many CPU threads one training job gets: all cores when it runs alone, one each when
several run at once (sessions of one server, or the app beside a CLI run on the same cache).

Why: torch's intra-op pool spin-waits (OpenMP) between the small matmuls of the interactive
models. Two jobs with two threads each on two cores spent most of their time waiting for each
other: the same sweep took 17.5 s beside one other job with the default and 6.9 s with one
thread (benchmarks/threads.py measures it). Jobs in this process are counted directly; jobs in
other processes by their live progress files in the cache root (run/flight.py).
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from causalpref.io import process_running

_lock = threading.Lock()
_running_here = 0
_ceiling = torch.get_num_threads()  # the threads set when the first job started (a caller may pin 1)


def jobs_elsewhere(root: Path | None) -> int:
    """Training jobs of other processes on this cache root (their progress files, live pids)."""
    folder = Path(root) / "flights" if root is not None else None
    if folder is None or not folder.is_dir():
        return 0
    count = 0
    for path in folder.glob("*.progress.json"):
        try:
            pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        count += pid != os.getpid() and process_running(pid)
    return count


def threads_for(jobs: int, cores: int) -> int:
    """The policy: all `cores` for a lone job, else an equal share (at least one)."""
    return max(1, cores // max(1, jobs))


def _apply(root: Path | None) -> None:
    torch.set_num_threads(threads_for(_running_here + jobs_elsewhere(root), _ceiling))


_last_refresh = 0.0


def refresh(root: Path | None, every: float = 1.0) -> None:
    """Re-apply the policy while a job runs (called from its progress): a job that started
    alone gives up cores when others start, and takes them back when they end."""
    global _last_refresh
    now = time.monotonic()
    if now - _last_refresh < every:
        return
    with _lock:
        _last_refresh = now
        if _running_here:
            _apply(root)


@contextmanager
def training_threads(root: Path | None = None):
    """Hold one training job's place in the count while it runs; torch's threads follow."""
    global _running_here, _ceiling
    with _lock:
        if _running_here == 0:
            _ceiling = torch.get_num_threads()
        _running_here += 1
        _apply(root)
    try:
        yield
    finally:
        with _lock:
            _running_here -= 1
            if _running_here:
                _apply(root)
            else:
                torch.set_num_threads(_ceiling)  # as the caller had it
