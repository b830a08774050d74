"""Benchmark: the User objectives page's first training and a cached ρ move, before and after.

    .venv/bin/python benchmarks/objectives_page.py

Prints, from one run on this machine (each training in its own fresh child process, with its
own empty result cache):
1. first training: the page's 54 interactive models (Base, Multihead, Adversarial × 6 ρ × 3
   seeds) plus the prompt–objective overlap the page shows:
   - before: the settings of release 0.3.0 (hidden 128, z_hat 64, heads 64), in a cold
     process (the optimiser's one-time torch imports and the pool are paid by this training),
     the overlap computed for the shown ρ only;
   - after: today's defaults (hidden 64, z_hat 32, heads 32), in a process whose server
     warm-up (causalpref.run.warmup, started by app.py) has run, the overlap of every ρ
     computed with the sweep. Both run today's code otherwise (the evaluation computes each
     margin once in both), so the ratio understates the change against 0.3.0 slightly.
2. a cached ρ move on the page (AppTest, sweeps in the cache): before = the propensity fit of
   the new ρ computed on demand (as in 0.3.0), after = read from what the sweep prepared.
Target (issue 13): first training under 5 s on an idle 2-core machine. No assertion on time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGE = str(ROOT / "app_pages" / "3_User_objectives.py")
RELEASE_030 = {"hidden": 128, "latent": 64, "head_hidden": 64}


def _first_training(mode: str) -> dict:
    from dataclasses import replace

    from causalpref.models import ModelConfig
    from causalpref.run import propensity
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import run_cached
    from causalpref.ui.views import objectives as ov
    from causalpref.ui.views.objective_overlap import objective_overlap_view

    if mode == "after":
        from causalpref.run.warmup import start_warm_up

        start_warm_up().join()  # the server started before the first visitor trained
    specs = [ov.objectives_spec(1.0, model) for model in ov.DEFAULT_ARCHITECTURES]
    if mode == "before":
        old = ModelConfig(hidden=RELEASE_030["hidden"], latent=RELEASE_030["latent"])
        specs = [
            s.with_params(s.models[0], head_hidden=RELEASE_030["head_hidden"]) if s.models[0] != "base" else s
            for s in (replace(s, model=old) for s in specs)
        ]
    cache = ResultCache()
    started = time.perf_counter()
    for spec in specs:
        run_cached("exp2", spec, cache)
    trained = time.perf_counter() - started
    if mode == "after":
        propensity.prepare(specs[-1])
    objective_overlap_view(specs[-1], ov.DEFAULT_RHO)
    return {"seconds": time.perf_counter() - started, "training": trained, "models": 18 * len(specs)}


def _rho_moves(mode: str) -> dict:
    from streamlit.testing.v1 import AppTest

    from causalpref.run import propensity
    from causalpref.ui.views import objective_overlap

    at = AppTest.from_file(PAGE, default_timeout=900)
    at.run()  # trains once into this child's cache
    times = []
    for rho in (0.5, 0.6, 0.7, 0.8, 1.0, 0.9):
        if mode == "before":  # 0.3.0 fitted the propensities of a ρ when the page first showed it
            propensity.training_propensities.cache_clear()
            objective_overlap._draw.cache_clear()
        at.select_slider(key="rho").set_value(rho)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception and not at.error, [e.value for e in at.error]
    return {"median": statistics.median(times), "max": max(times)}


def _child(what: str, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "CAUSALPREF_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, __file__, "--child", what, mode], env=env, capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        if sys.argv[3] == "before" and sys.argv[2] == "moves":
            _patch_no_prepare()
        print(json.dumps((_first_training if sys.argv[2] == "first" else _rho_moves)(sys.argv[3])))
        return
    print(f"User objectives page, {os.cpu_count()} CPU cores")
    first = {mode: _child("first", mode) for mode in ("before", "after")}
    b, a = first["before"], first["after"]
    print(f"1. first training ({a['models']} models + overlap), seconds:")
    print(f"   before (0.3.0 settings, cold process): {b['seconds']:.1f}  (training {b['training']:.1f})")
    print(f"   after  (defaults, warmed server):      {a['seconds']:.1f}  (training {a['training']:.1f})")
    print(f"   speed-up {b['seconds'] / a['seconds']:.2f}x · target: under 5 s on an idle 2-core machine")
    moves = {mode: _child("moves", mode) for mode in ("before", "after")}
    print("2. cached ρ move (page rerun, AppTest), seconds:")
    for mode in ("before", "after"):
        print(f"   {mode:6}: median {moves[mode]['median']:.2f}, slowest {moves[mode]['max']:.2f}")


def _patch_no_prepare() -> None:
    """0.3.0's page: the sweep prepared nothing, and no propensity was kept on disk."""
    from causalpref.run import propensity

    class NoDisk:
        enabled = False

    propensity.prepare = lambda spec, rhos=None: None
    propensity.ResultCache = NoDisk


if __name__ == "__main__":
    main()
