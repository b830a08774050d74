"""Each strategy's extra pairs for one seed of an intervention sweep.

A seed's base training set, validation set and test sets are drawn exactly as the plain
sweep draws its (rho, seed) cell, once, and shared by every strategy (a paired comparison).
Extra pairs come from the pairs no split uses and, where prompts have several pairs, only
from the training part's prompts: never from a test set, never a test prompt. Generated
pairs (isolated) are new responses with noise of their own. Active querying is in run.py:
it needs trained models.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.draw.consistency import consistency_counts, prompt_parts, sample_with_consistency
from causalpref.draw.correlation import sample_with_target_rho
from causalpref.draw.groups import group_split
from causalpref.draw.splits import cell_seed, draw_exp1_splits, draw_exp2_splits, drawing_of
from causalpref.errors import CausalPrefError
from causalpref.interventions.strategies import REFERENCE_RHO

GENERATED_MAX = 2**20 - 1  # isolated pairs per draw: each seed's noise ids have room for 2**20


@dataclass(frozen=True)
class Extra:
    """The extra pairs a strategy adds: the pairs themselves and, for pairs from the pool,
    their pool indices (None for generated pairs; base-set rows for counterfactual relabels)."""

    pairs: PairSet
    indices: np.ndarray | None = None


def draw_seed(name: str, *parts) -> int:
    """One seed per (strategy or reference, spec seed, rho, budget): reproducible, distinct."""
    entropy = [int(p) for p in parts] + list(name.encode())
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def split_indices(pool, spec, seed: int) -> dict[str, np.ndarray]:
    """The pool indices of a seed's splits, drawn as the plain sweep draws them."""
    draw = draw_exp1_splits if spec.experiment == "exp1" else draw_exp2_splits
    return draw(pool, seed, spec.rho, spec.base.sizes).indices


def allowed_mask(pool, spec, seed: int, indices: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs that may be added: in no split and, on grouped data, in the training prompts."""
    allowed = np.ones(len(pool), bool)
    for idx in indices.values():
        allowed[idx] = False
    if pool.group is not None:
        data_seed = cell_seed(seed, spec.rho)
        if spec.experiment == "exp1":
            part = group_split(np.asarray(pool.group), drawing_of(pool)[0], data_seed)["train"]
        else:
            parts = prompt_parts(pool.group, len(pool), spec.base.sizes.as_dict(), data_seed)
            part = None if parts is None else parts["train"]
        if part is not None:
            allowed &= part
    return allowed


def factor_diffs(pool) -> tuple[np.ndarray, np.ndarray]:
    return tuple(pool.diffs(name) for name in pool.world.factor_names[:2])


def most_available(name: str, pool, spec, allowed: np.ndarray) -> int:
    """The largest budget a strategy can draw for a seed."""
    if name in ("observational", "uniform", "active"):
        return int(allowed.sum())
    if name == "targeted":
        d1, d2 = factor_diffs(pool)
        return int((allowed & (d1 * d2 < 0)).sum())
    if name == "isolated":  # generated: as many as the noise ids leave room for
        return GENERATED_MAX
    if name == "counterfactual":
        return spec.base.sizes.train
    if name == "randomised":
        return _most_at_half(pool, allowed)
    raise CausalPrefError(f"unknown strategy {name!r}")


def _most_at_half(pool, allowed: np.ndarray) -> int:
    """The largest n whose (t, c) cells at consistency 0.5 fit in the allowed pairs."""
    t, c = np.asarray(pool.prompt_type), np.asarray(pool.objective)
    room = {(a, b): int((allowed & (t == a) & (c == b)).sum()) for a in (0, 1) for b in (0, 1)}

    def fits(n):
        return all(k <= room[cell] for cell, k in consistency_counts(n, 0.5).items())

    lo, hi = 0, int(allowed.sum())
    while lo < hi:  # fits() is monotone in n
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def draw_extra(name: str, budget: int, pool, spec, seed: int, allowed: np.ndarray, train: PairSet) -> Extra:
    """The `budget` extra pairs of strategy `name` for one seed (not active: see run.py)."""
    rng_seed = draw_seed(name, seed, round((spec.rho + 1) * 1000), budget)
    try:
        return _draw(name, budget, pool, spec, rng_seed, allowed, train)
    except CausalPrefError as error:
        raise CausalPrefError(f"strategy {name!r}, budget {budget}, seed {seed}: {error}") from None


def _draw(name, budget, pool, spec, rng_seed, allowed, train) -> Extra:
    rng = np.random.default_rng(rng_seed)
    if name == "observational":  # drawn the way the base set was, at the same rho
        if spec.experiment == "exp1":
            d1, d2 = factor_diffs(pool)
            draw = sample_with_target_rho(
                d1, d2, budget, spec.rho, rng_seed, available=allowed, tol=drawing_of(pool)[1]
            )
        else:
            draw = sample_with_consistency(pool.prompt_type, pool.objective, budget, spec.rho, rng_seed, allowed)
        return _from_pool(pool, draw.indices)
    if name in ("uniform", "targeted"):
        candidates = allowed
        if name == "targeted":  # the under-covered quadrants: the two factors disagree
            d1, d2 = factor_diffs(pool)
            candidates = allowed & (d1 * d2 < 0)
        return _from_pool(pool, np.sort(rng.choice(np.flatnonzero(candidates), budget, replace=False)))
    if name == "randomised":  # prompt type independent of the objective: P(t = c) = 0.5
        draw = sample_with_consistency(pool.prompt_type, pool.objective, budget, 0.5, rng_seed, allowed)
        return _from_pool(pool, draw.indices)
    if name == "isolated":
        return Extra(spec.base.world.isolated_pairs(budget, rng_seed, spec.isolated_share))
    if name == "counterfactual":
        rows = np.sort(rng.choice(len(train), budget, replace=False))
        return Extra(relabelled(train.subset(rows)), rows)
    raise CausalPrefError(f"no draw for strategy {name!r}")


def _from_pool(pool, indices: np.ndarray) -> Extra:
    return Extra(pool.pairs(indices, name="extra"), np.asarray(indices, dtype=np.int64))


def relabelled(pairs: PairSet) -> PairSet:
    """The same pairs labelled under the other objective (their counterfactual labels)."""
    if pairs.counterfactual_label is None or pairs.objective is None:
        raise CausalPrefError("counterfactual relabels need each pair's label under the other objective")
    return replace(
        pairs,
        objective=1 - pairs.objective,
        label=pairs.counterfactual_label.astype(np.float32),
        counterfactual_label=pairs.label,
        true_margin=None,  # the world's margin under the other objective is not kept per pair
        weight=None,
        name="counterfactual",
    )


def reference_set(pool, spec, seed: int, allowed: np.ndarray, train_idx: np.ndarray) -> PairSet:
    """A training set of the base set's size drawn without the confounding (rho 0, or
    consistency 0.5), from the base set and the addable pairs: the half-recovery target."""
    available = allowed.copy()
    available[train_idx] = True
    rho = REFERENCE_RHO[spec.experiment]
    rng_seed = draw_seed("rho0", seed, round((spec.rho + 1) * 1000), 0)
    n = spec.base.sizes.train
    try:
        if spec.experiment == "exp1":
            d1, d2 = factor_diffs(pool)
            draw = sample_with_target_rho(d1, d2, n, rho, rng_seed, available=available, tol=drawing_of(pool)[1])
        else:
            draw = sample_with_consistency(pool.prompt_type, pool.objective, n, rho, rng_seed, available)
    except CausalPrefError as error:
        raise CausalPrefError(f"the reference set at rho {rho:g}, seed {seed}: {error}") from None
    return pool.pairs(draw.indices, name="rho0")
