"""Benchmark: two ways to run K small reward models as one batched network, in one run.

    .venv/bin/python benchmarks/stacking.py

1. the project's way (train/stacked.py): the K models' parameters stacked on a leading
   axis and run through models/layers.Linear, which understands stacked weights (bmm);
2. torch.func: `stack_module_state` + `vmap(functional_call)` over an unmodified module.
Both train the same K models of the interactive Experiment-1 size (d = 32, hidden 64,
latent 16, batch 64) for the same steps with one fused Adam; the script prints seconds per
step of each, their ratio, and the largest difference of the final parameters (they must
agree up to float rounding). No assertion on time: the numbers are printed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch.func import functional_call, stack_module_state, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causalpref.models import ModelConfig, build_model  # noqa: E402
from causalpref.train.loop import btl_loss  # noqa: E402
from causalpref.train.stacked import stack_models  # noqa: E402

K, N, D, STEPS, BATCH = 33, 2048, 32, 100, 64


def data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    emb_a, emb_b = torch.randn(K, N, D, generator=g), torch.randn(K, N, D, generator=g)
    label = (torch.rand(K, N, generator=g) > 0.5).float()
    index = torch.randint(0, N, (STEPS, K, BATCH), generator=g)
    return emb_a, emb_b, label, index


def run_project(models, emb_a, emb_b, label, index):
    stacked = stack_models(models)
    optimiser = torch.optim.Adam(stacked.parameters(), lr=1e-3, fused=True)
    rows = torch.arange(K)[:, None]
    started = time.perf_counter()
    for idx in index:
        margin, _ = stacked.pair_terms(emb_a[rows, idx], emb_b[rows, idx], None)
        loss = btl_loss(margin, label[rows, idx]).sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return (time.perf_counter() - started) / len(index), dict(stacked.named_parameters())


def run_torch_func(models, emb_a, emb_b, label, index):
    params, buffers = stack_module_state(models)
    params = {name: torch.nn.Parameter(value) for name, value in params.items()}
    base = models[0]

    def one(p, b, a_side, b_side):
        # both sides in one forward pass, as the project's pair_terms does
        reward = functional_call(base, (p, b), (torch.cat([a_side, b_side]),))
        return reward[: a_side.shape[0]] - reward[a_side.shape[0] :]

    batched = vmap(one)
    optimiser = torch.optim.Adam(params.values(), lr=1e-3, fused=True)
    rows = torch.arange(K)[:, None]
    started = time.perf_counter()
    for idx in index:
        margin = batched(params, buffers, emb_a[rows, idx], emb_b[rows, idx])
        loss = btl_loss(margin, label[rows, idx]).sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return (time.perf_counter() - started) / len(index), params


ROUNDS = 5  # alternate the two ways and keep each one's median: a busy machine slows both alike


def main() -> None:
    torch.manual_seed(0)
    config = ModelConfig(hidden=64, latent=16)
    emb_a, emb_b, label, index = data()
    times = {"ours": [], "func": []}
    for _ in range(ROUNDS + 1):  # the first round warms both up and is not counted
        ours_round, ours_params = run_project(
            [build_model("base", D, config, seed) for seed in range(K)], emb_a, emb_b, label, index
        )
        func_round, func_params = run_torch_func(
            [build_model("base", D, config, seed) for seed in range(K)], emb_a, emb_b, label, index
        )
        times["ours"].append(ours_round)
        times["func"].append(func_round)
    ours, func = (sorted(times[k][1:])[ROUNDS // 2] for k in ("ours", "func"))
    largest = max(float((ours_params[name] - func_params[name]).detach().abs().max()) for name in ours_params)
    print(
        f"{K} models x {STEPS} steps, batch {BATCH}, d = {D}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"  median of {ROUNDS} alternating rounds after a warm-up round")
    print(f"  stacked Linear (project): {1e3 * ours:.2f} ms/step")
    print(f"  torch.func vmap:          {1e3 * func:.2f} ms/step")
    print(f"  ratio vmap / stacked:     {func / ours:.2f}x")
    print(f"  largest parameter difference after training: {largest:.2e}")


if __name__ == "__main__":
    main()
