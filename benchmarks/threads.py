"""Benchmark: training jobs sharing the CPU, with the thread policy and with torch's default.

    .venv/bin/python benchmarks/threads.py [--jobs 1 2 4] [--write docs/performance.md]

For each J: J processes start at once, each training a different interactive Experiment-1
sweep (other seeds, so nothing is shared), uncached. "policy" runs them through run_cached on
one cache root, where run/threads.py gives a lone job every core and J jobs an equal share;
"default" runs the same sweeps with run_sweep and torch's default threads (every core each).
Printed: the wall time until all J are done under each, and their ratio, same run. No
assertion on time; with --write the table replaces the threads block of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc_block import write_block

ROOT = Path(__file__).resolve().parents[1]
JOB = """
import sys, torch
from causalpref.run.specs import Exp1Spec
spec = Exp1Spec(device="cpu", seeds=tuple(range(int(sys.argv[2]), int(sys.argv[2]) + 3)))
if sys.argv[1] == "policy":
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import run_cached
    run_cached("exp1", spec, ResultCache(sys.argv[3]))
else:
    from causalpref.run.sweep import run_sweep
    run_sweep(spec)
"""


def run_jobs(mode: str, jobs: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        running = [
            subprocess.Popen([sys.executable, "-c", JOB, mode, str(100 + 10 * j), cache], cwd=ROOT, env=env)
            for j in range(jobs)
        ]
        for process in running:
            if process.wait() != 0:
                raise SystemExit(f"a {mode} job failed")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    lines = ["jobs at once  policy (s)  torch default (s)  default / policy"]
    for jobs in args.jobs:
        policy, default = run_jobs("policy", jobs), run_jobs("default", jobs)
        lines.append(f"{jobs:>12}  {policy:>10.1f}  {default:>17.1f}  {default / policy:>16.2f}")
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_block(args.write, "threads", text, f"python benchmarks/threads.py --write {args.write.as_posix()}")


if __name__ == "__main__":
    main()
