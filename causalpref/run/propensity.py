"""The prompt–objective propensities of an Experiment-2 sweep's training sets, cached like a sweep.

For each ρ, the training split the sweep draws for its first seed, and the cross-fitted
P(c = 1 | prompt embedding) of every pair in it. The User objectives page shows them beside
the models; computing them when the sweep trains (all ρ at once, stored in the result cache)
means a ρ move only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from causalpref.draw.splits import draw_exp2_splits
from causalpref.errors import CausalPrefError
from causalpref.eval.propensity import cross_fitted_propensity
from causalpref.run.cache import ResultCache, canonical_spec, spec_key


@dataclass(frozen=True)
class PropensityDraw:
    """What the propensities depend on: the world, the split sizes and ρ (the seed is 0)."""

    world: Any
    sizes: Any
    rho: float


def compute(draw: PropensityDraw) -> pd.DataFrame:
    """One row per training pair: its cross-fitted propensity and its objective."""
    pool = draw.world.pool()
    if pool.objective is None or pool.prompt_type is None:
        raise CausalPrefError(
            f"{draw.world.name} has no objective and prompt type per pair: there is no prompt–objective overlap to measure"
        )
    splits = draw_exp2_splits(pool, 0, draw.rho, draw.sizes)  # seed 0's split, as the sweep draws it
    train = pool.pairs(splits.indices["train"], "train")
    propensity = cross_fitted_propensity(train.emb_a, train.objective, seed=0)
    return pd.DataFrame({"propensity": propensity, "objective": np.asarray(train.objective, dtype=np.int64)})


@lru_cache(maxsize=64)
def training_propensities(world, sizes, rho: float) -> pd.DataFrame:
    """The propensities at ρ: from this process, from the result cache, or computed (and stored)."""
    draw = PropensityDraw(world, sizes, float(rho))
    cache = ResultCache()
    key = spec_key("exp2/propensity", draw)
    found = cache.load(key) if cache.enabled else None
    if found is not None:
        return found
    frame = compute(draw)
    if cache.enabled:
        try:
            cache.store(key, frame, {"kind": "exp2/propensity", "spec": canonical_spec(draw)})
        except (OSError, CausalPrefError):
            pass  # only a lost shortcut: the next process computes it again
    return frame


def prepare(spec, rhos=None) -> None:
    """Compute (or load) the propensities of every ρ of `spec` now, with its sweep."""
    for rho in spec.rhos if rhos is None else rhos:
        training_propensities(spec.world, spec.sizes, float(rho))
