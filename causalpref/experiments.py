"""Declarative experiment specs -> tidy results.

A spec (a frozen dataclass) says everything that decides the numbers: the world, the
target correlations, the seeds, the split sizes, the model and the optimiser. Running it
gives one tidy table (one row per model x rho x seed x split) that the CLI prints and the
app plots. Same spec, same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .device import resolve_device
from .errors import CausalPrefError
from .metrics import (CHANCE, mean_margin, non_dominant_factor, oracle_accuracy,
                      pairwise_accuracy, spurious_accuracy)
from .models import ModelConfig, build_model
from .sampling import draw_correlation_splits, pearson
from .train import TrainConfig, reward_margins, train_reward_model
from .worlds import CorrelatedFactorsWorld

RESULT_COLUMNS = ["experiment", "world", "model", "rho", "seed", "split", "accuracy", "n",
                  "rho_achieved", "margin", "oracle_accuracy", "spurious_accuracy", "chance",
                  "best_epoch"]
EXP1_MODELS = ("base",)


@dataclass(frozen=True)
class SplitSizes:
    train: int = 2000
    val: int = 500
    id: int = 2000
    ood: int = 2000

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "id": self.id, "ood": self.ood}


@dataclass(frozen=True)
class Exp1Spec:
    """Experiment 1: limited latent positivity (correlated causal factors)."""
    world: CorrelatedFactorsWorld = field(default_factory=CorrelatedFactorsWorld)
    rhos: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)
    seeds: tuple[int, ...] = (0, 1, 2)
    sizes: SplitSizes = field(default_factory=SplitSizes)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=128, latent=32))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, epochs=10, batch_size=64))
    models: tuple[str, ...] = ("base",)
    device: str = "auto"

    def __post_init__(self):
        for rho in self.rhos:
            if not (isinstance(rho, (int, float)) and np.isfinite(rho) and -1 <= rho <= 1):
                raise CausalPrefError(f"rho must be a number in [-1, 1], got {rho!r}")
        if not self.rhos:
            raise CausalPrefError("at least one rho is needed")
        if not self.seeds:
            raise CausalPrefError("at least one seed is needed")
        unknown = [m for m in self.models if m not in EXP1_MODELS]
        if unknown:
            raise CausalPrefError(f"unknown model(s) {unknown} for exp1; choose from {list(EXP1_MODELS)}")

    @classmethod
    def paper_size(cls, **changes) -> "Exp1Spec":
        """The paper's sizes: 15k/2k/15k/15k pairs, d = 4096, hidden 512, latent 64, Adam 1e-4."""
        spec = cls(
            world=CorrelatedFactorsWorld(dim=4096, pool_size=250_000),
            sizes=SplitSizes(train=15_000, val=2_000, id=15_000, ood=15_000),
            model=ModelConfig(hidden=512, latent=64),
            train=TrainConfig(lr=1e-4, epochs=10, batch_size=64),
        )
        return replace(spec, **changes)


def draw_exp1_splits(pool, spec_seed: int, rho: float, sizes: SplitSizes):
    """The four splits of one (rho, seed) cell, drawn from the pool's causal factors."""
    d1, d2 = (pool.diffs(name) for name in pool.world.factor_names)
    seed = int(np.random.SeedSequence([spec_seed, int(round((rho + 1) * 1000))]).generate_state(1)[0])
    return draw_correlation_splits(d1, d2, sizes.as_dict(), rho, seed)


def run_exp1(spec: Exp1Spec, progress=None) -> pd.DataFrame:
    """Train every (rho, seed) and evaluate on train/val/id/ood. Returns the tidy table.

    `progress(done, total, message)` is called after each trained model.
    """
    device = resolve_device(spec.device)
    world = spec.world
    pool = world.pool()
    spurious_factor = non_dominant_factor(world.factor_names, world.a)
    rows, total, done = [], len(spec.rhos) * len(spec.seeds) * len(spec.models), 0
    for rho in spec.rhos:
        for seed in spec.seeds:
            splits = draw_exp1_splits(pool, seed, rho, spec.sizes)
            data = {name: pool.pairs(idx, name=name) for name, idx in splits.indices.items()}
            for model_name in spec.models:
                model = build_model(world.dim, spec.model, seed)
                result = train_reward_model(model, data["train"], data["val"], spec.train, seed, device)
                for split, pairs in data.items():
                    margin = reward_margins(result.model, pairs, device)
                    rows.append({
                        "experiment": "exp1", "world": world.name, "model": model_name,
                        "rho": float(rho), "seed": int(seed), "split": split,
                        "accuracy": pairwise_accuracy(margin, pairs.label), "n": len(pairs),
                        "rho_achieved": splits.achieved_rho.get(split, pearson(*_causal(pairs))),
                        "margin": mean_margin(margin, pairs.label),
                        "oracle_accuracy": oracle_accuracy(pairs),
                        "spurious_accuracy": spurious_accuracy(pairs, spurious_factor),
                        "chance": CHANCE, "best_epoch": result.best_epoch,
                    })
                done += 1
                if progress is not None:
                    progress(done, total, f"rho={rho:g} seed={seed} model={model_name}")
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _causal(pairs):
    return pairs.factor_diffs[:, 0], pairs.factor_diffs[:, 1]
