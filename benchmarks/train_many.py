"""Benchmark: many reward models at once vs one after another, in one run.

    .venv/bin/python benchmarks/train_many.py            # full: ~1-2 minutes on a 2-core CPU
    .venv/bin/python benchmarks/train_many.py --quick    # smaller paper-size check

Prints, for the same models trained both ways:
1. the interactive default sweep (Experiment 1, 11 rho values x 3 seeds = 33 models),
   end to end (data, training, evaluation) and training alone, for the first sweep in a
   fresh process (which also pays torch's one-time imports, about 1.3 s, when the first
   optimiser is made) and for a second sweep in the same process: seconds, models/s, the
   speed-up ratios, peak memory of each way, and the largest accuracy difference;
2. the paper-size Experiment-1 shape (d = 4096, hidden 512, latent 64, 15,000 training
   pairs per model, batch 64) for a few models and epochs: achieved FLOP/s of training as a
   fraction of this machine's matmul FLOP/s measured in the same run;
3. the load time of a cached sweep.
Each measurement runs in its own child process, so peak memory (ru_maxrss) is its own.
No assertion on time: the numbers are printed, with the targets beside them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mib(device: str = "cpu") -> float:
    """Peak memory of this process: the GPU's allocator on CUDA, else the resident set."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_trainers(experiments):
    """Wrap the trainers the sweep calls so that training time is measured apart."""
    spent = {"train": 0.0}
    for name in ("train_reward_models", "train_reward_model"):
        original = getattr(experiments, name)

        def timed(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent["train"] += time.perf_counter() - started

        setattr(experiments, name, timed)
    return spent


def worker_interactive(mode: str, device: str) -> dict:
    import torch

    from causalpref.run import sweep as experiments
    from causalpref.run.specs import INTERACTIVE_RHOS, Exp1Spec

    spec = replace(Exp1Spec(), rhos=INTERACTIVE_RHOS, device=device)
    spent = _timed_trainers(experiments)
    runs = []
    for _ in range(2):  # the first run in a process also pays one-time imports and warm-up
        spent["train"] = 0.0
        started = time.perf_counter()
        sweep = experiments.run_sweep(spec, sequential=(mode == "sequential"))
        runs.append((time.perf_counter() - started, spent["train"]))
    (cold, cold_train), (warm, warm_train) = runs
    return {
        "seconds": cold,
        "train_seconds": cold_train,
        "warm_seconds": warm,
        "warm_train_seconds": warm_train,
        "models": len(spec.rhos) * len(spec.seeds),
        "accuracy": sweep.results["accuracy"].tolist(),
        "peak_mib": _peak_mib(device),
        "threads": torch.get_num_threads(),
    }


def mlp_flops_per_response(d: int, hidden: int, latent: int) -> int:
    """Multiply-adds x 2 of one forward pass of the 3-layer MLP and the linear head."""
    return 2 * (d * hidden + hidden * hidden + hidden * latent + latent)


def worker_paper(mode: str, models: int, epochs: int, device: str) -> dict:
    import numpy as np
    import torch

    from causalpref.data.pairs import PairSet
    from causalpref.models import ModelConfig, build_model
    from causalpref.train.loop import TrainConfig, train_reward_model
    from causalpref.train.stacked import train_reward_models

    d, n_train, n_val = 4096, 15_000, 2_000
    config, model_config = TrainConfig(lr=1e-4, epochs=epochs, batch_size=64), ModelConfig(hidden=512, latent=64)
    rng = np.random.default_rng(0)

    def pairs(n):  # random embeddings: the speed of training does not depend on their content
        return PairSet(
            emb_a=rng.standard_normal((n, d), dtype=np.float32),
            emb_b=rng.standard_normal((n, d), dtype=np.float32),
            label=(rng.random(n) < 0.5).astype(np.float32),
        )

    trains, vals = [pairs(n_train) for _ in range(models)], [pairs(n_val) for _ in range(models)]
    built = [build_model("base", d, model_config, s) for s in range(models)]
    target = torch.device(device)
    started = time.perf_counter()
    if mode == "sequential":
        results = [
            train_reward_model(m, t, v, config, s, target) for s, (m, t, v) in enumerate(zip(built, trains, vals))
        ]
    else:
        results = train_reward_models(built, trains, vals, config, list(range(models)), target)
    seconds = time.perf_counter() - started
    per_response = mlp_flops_per_response(d, 512, 64)
    # training: forward + backward (about 2x forward) on both responses; selection: forward on val
    flops = models * epochs * (3 * 2 * n_train + 2 * n_val) * per_response
    return {
        "seconds": seconds,
        "flops": flops,
        "peak_mib": _peak_mib(device),
        "val": [r.history[-1]["val_accuracy"] for r in results],
    }


def worker_matmul_peak(device: str) -> dict:
    import torch

    n, best = (8192 if device.startswith("cuda") else 2048), float("inf")
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(3):
        a @ b
    for _ in range(10):
        sync()
        started = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - started)
    return {"flops_per_s": 2 * n**3 / best, "n": n}


def worker_cache_load() -> dict:
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import run_cached
    from causalpref.run.specs import INTERACTIVE_RHOS, Exp1Spec

    spec = replace(Exp1Spec(), rhos=INTERACTIVE_RHOS, device="cpu")
    cache = ResultCache(tempfile.mkdtemp(prefix="bench-cache-"))
    run_cached("exp1", spec, cache)
    started = time.perf_counter()
    _, hit = run_cached("exp1", spec, cache)
    return {"seconds": time.perf_counter() - started, "hit": hit}


def child(*args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *map(str, args)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="paper-size shape with 2 models and 1 epoch")
    parser.add_argument("--paper-models", type=int, default=3)
    parser.add_argument("--paper-epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = {
            "interactive": lambda: worker_interactive(rest[0], rest[1]),
            "paper": lambda: worker_paper(rest[0], int(rest[1]), int(rest[2]), rest[3]),
            "matmul": lambda: worker_matmul_peak(rest[0]),
            "cache": worker_cache_load,
        }[kind]()
        print(json.dumps(result))
        return
    paper_models, paper_epochs = (2, 1) if args.quick else (args.paper_models, args.paper_epochs)

    device = args.device
    print(f"1. Interactive default sweep: Experiment 1, 11 rho x 3 seeds = 33 models ({device})")
    seq, vec = child("interactive", "sequential", device), child("interactive", "vectorised", device)
    diff = max(abs(a - b) for a, b in zip(seq["accuracy"], vec["accuracy"]))
    for name, r in (("sequential", seq), ("vectorised", vec)):
        print(
            f"   {name:<11} first sweep in a process {r['seconds']:5.2f} s (training {r['train_seconds']:5.2f} s); "
            f"second {r['warm_seconds']:5.2f} s ({r['models'] / r['warm_seconds']:5.1f} models/s; "
            f"training {r['warm_train_seconds']:5.2f} s); peak memory {r['peak_mib']:5.0f} MiB"
        )
    print(
        f"   speed-up, first sweep: {seq['seconds'] / vec['seconds']:.2f}x end to end, "
        f"{seq['train_seconds'] / vec['train_seconds']:.2f}x training"
    )
    print(
        f"   speed-up, second sweep: {seq['warm_seconds'] / vec['warm_seconds']:.2f}x end to end, "
        f"{seq['warm_train_seconds'] / vec['warm_train_seconds']:.2f}x training "
        f"(target >= 5x and < 10 s end to end)"
    )
    print(
        f"   largest accuracy difference {diff:.4f} over {len(seq['accuracy'])} numbers; torch threads {vec['threads']}"
    )

    print(
        f"\n2. Paper-size Experiment-1 shape: {paper_models} models x {paper_epochs} epoch(s), "
        f"15,000 train pairs, d=4096, hidden 512, latent 64 ({device})"
    )
    matmul = child("matmul", device)
    peak = matmul["flops_per_s"]
    print(f"   measured matmul peak ({matmul['n']}x{matmul['n']} fp32): {peak / 1e9:.1f} GFLOP/s")
    for mode in ("sequential", "vectorised"):
        r = child("paper", mode, paper_models, paper_epochs, device)
        rate = r["flops"] / r["seconds"]
        print(
            f"   {mode:<11} {r['seconds']:7.1f} s, {rate / 1e9:6.1f} GFLOP/s = {rate / peak:5.1%} of peak "
            f"(target >= 50%), peak memory {r['peak_mib']:6.0f} MiB"
        )

    cached = child("cache")
    print(
        f"\n3. Cached interactive sweep loads in {cached['seconds'] * 1000:.1f} ms "
        f"(hit={cached['hit']}; target < 200 ms)"
    )


if __name__ == "__main__":
    main()
