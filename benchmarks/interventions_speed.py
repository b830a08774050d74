"""Benchmark: the interventions lab's interactive default, stacked vs one by one, and cached.

    .venv/bin/python benchmarks/interventions_speed.py            # exp1 (5 strategies x 6 budgets x 3 seeds)
    .venv/bin/python benchmarks/interventions_speed.py --exp exp2

Prints, in one run: the uncached sweep as the lab trains it (models of one training-set size
stacked per wave), the same models trained one after another with the plain loop, their
ratio, the largest accuracy difference between the two, and the load time of the cached
sweep. Both timed sweeps run after one small warm-up sweep, so neither pays torch's
one-time costs. Target (issue 15): under 15 s uncached on a 2-core CPU, a cached load well
under 0.3 s. No assertion on time: the numbers are printed beside the targets.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exp", choices=("exp1", "exp2"), default="exp1")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from causalpref.interventions.run import run_interventions, run_interventions_cached
    from causalpref.interventions.spec import default_spec
    from causalpref.run.cache import ResultCache

    spec = default_spec(args.exp, device=args.device)
    n_models = len(spec.strategies) * (len(spec.budgets) - 1) * len(spec.base.seeds) + 3 * len(spec.base.seeds)
    print(
        f"{args.exp}: {len(spec.strategies)} strategies x {len(spec.budgets)} budgets x {len(spec.base.seeds)} seeds "
        f"({n_models} evaluated models, plus active querying's {spec.rounds - 1} intermediate rounds); "
        f"torch threads {torch.get_num_threads()}"
    )
    run_interventions(replace(spec, budgets=(0, 20), base=replace(spec.base, seeds=(0,))))  # warm-up

    started = time.perf_counter()
    stacked = run_interventions(spec)
    t_stacked = time.perf_counter() - started
    started = time.perf_counter()
    one_by_one = run_interventions(spec, sequential=True)
    t_sequential = time.perf_counter() - started
    diff = (stacked.results["accuracy"] - one_by_one.results["accuracy"]).abs().max()

    with tempfile.TemporaryDirectory() as folder:
        cache = ResultCache(folder)
        run_interventions_cached(spec, cache)  # computes and stores (not timed: it was timed above)
        started = time.perf_counter()
        _, was_cached = run_interventions_cached(spec, cache)
        t_cached = time.perf_counter() - started

    print(f"uncached, stacked:     {t_stacked:7.1f} s   (target < 15 s on a 2-core CPU)")
    print(f"uncached, one by one:  {t_sequential:7.1f} s")
    print(f"ratio one by one / stacked: {t_sequential / t_stacked:.2f}x")
    print(f"largest accuracy difference stacked vs one by one: {100 * diff:.2f} points")
    print(f"cached load:           {t_cached:7.3f} s   (target < 0.3 s; from cache: {was_cached})")


if __name__ == "__main__":
    main()
