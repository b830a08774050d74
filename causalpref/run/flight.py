"""Single-flight computing: a result asked for by several sessions (or by the app and a CLI run
sharing a cache) is computed once; the others wait, see the same progress and load it.

The lock is a file lock in the cache root (the `filelock` package: an OS lock, so it holds
across threads and processes and is released by the OS when its holder is killed; no stale-lock
timeouts to tune). The holder writes its progress beside the lock; a waiter polls the lock, the
progress and the cache. When the holder stops or dies without a result, the next waiter takes
the lock and computes (from whatever the computation kept, see run/chunks.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, TypeVar

from filelock import FileLock, Timeout

from causalpref.io import write_atomic

T = TypeVar("T")
Progress = Callable[[float, int, str], None]
POLL_SECONDS = 0.5
WAITING = "trained by another session"  # what a waiter's progress message says


def _paths(root: Path, key: str) -> tuple[Path, Path]:
    folder = root / "flights"
    return folder / f"{key}.lock", folder / f"{key}.progress.json"


class _Relay:
    """The holder's progress callback: calls the caller's and writes it for the waiters (at
    most every POLL_SECONDS, and the last one always)."""

    def __init__(self, path: Path, progress: Progress | None):
        self.path, self.progress, self.written = path, progress, 0.0

    def __call__(self, done: float, total: int, message: str) -> None:
        now = time.monotonic()
        if now - self.written >= POLL_SECONDS or done >= total:
            self.written = now
            record = {"done": done, "total": total, "message": message, "pid": os.getpid()}
            try:
                write_atomic(self.path, lambda handle: handle.write(json.dumps(record).encode()))
            except OSError:
                pass  # progress for the waiters is a courtesy; the computation goes on
        if self.progress is not None:
            self.progress(done, total, message)


def _relayed(path: Path, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    progress(float(record["done"]), int(record["total"]), f"{record['message']} ({WAITING})")


TRAINING_LOG = "CAUSALPREF_TRAINING_LOG"  # a file: one JSON line per computation (benchmarks count them)


def _log_computation(key: str, started: float) -> None:
    path = os.environ.get(TRAINING_LOG)
    if not path:
        return
    record = {"key": key, "pid": os.getpid(), "started": started, "seconds": round(time.time() - started, 3)}
    with open(path, "a", encoding="utf-8") as handle:  # one short append per line: atomic on POSIX
        handle.write(json.dumps(record) + "\n")


def single_flight(
    root: Path,
    key: str,
    load: Callable[[], T | None],
    compute: Callable[[Progress], T],
    progress: Progress | None = None,
    poll: float = POLL_SECONDS,
) -> tuple[T, bool]:
    """(result, computed_here): `load()` if it finds the result, else `compute(progress)` by
    exactly one caller at a time per key; compute must store what load() finds."""
    found = load()
    if found is not None:
        return found, False
    lock_path, progress_path = _paths(Path(root), key)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable cache: no sharing, compute here
        return compute(progress or (lambda *_: None)), True
    lock = FileLock(lock_path)
    while True:
        try:
            lock.acquire(timeout=poll)
        except Timeout:
            found = load()
            if found is not None:
                return found, False
            _relayed(progress_path, progress)
            continue
        try:
            found = load()  # the last holder may have finished while this one waited
            if found is not None:
                return found, False
            started = time.time()
            result = compute(_Relay(progress_path, progress))
            _log_computation(key, started)
            return result, True
        finally:
            progress_path.unlink(missing_ok=True)
            lock.release()
