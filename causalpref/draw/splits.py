"""Which pairs a (rho, seed) cell trains and tests on, for each experiment.

Every cell has its own data seed (`cell_seed`), so different rho draw different splits for
the same spec seed, and the same (rho, seed) draws the same splits in every run.
"""

from __future__ import annotations

import numpy as np

from causalpref.draw.consistency import draw_objective_splits
from causalpref.draw.correlation import CorrelationSplits, draw_correlation_splits, sample_with_target_rho
from causalpref.errors import CausalPrefError
from causalpref.stats import pearson


def group_split(group: np.ndarray, fractions: dict[str, float], seed) -> dict[str, np.ndarray]:
    """Boolean masks over pairs: whole groups assigned to parts in proportion to `fractions`."""
    groups = np.unique(group)
    order = np.random.default_rng(seed).permutation(groups)
    total = sum(fractions.values())
    masks, start = {}, 0
    names = list(fractions)
    for i, name in enumerate(names):
        stop = len(order) if i == len(names) - 1 else start + int(round(len(order) * fractions[name] / total))
        masks[name] = np.isin(group, order[start:stop])
        start = stop
    return masks


def cell_seed(spec_seed: int, rho: float) -> int:
    """One data seed per (seed, rho) cell, so every cell draws its own splits."""
    return int(np.random.SeedSequence([spec_seed, int(round((rho + 1) * 1000))]).generate_state(1)[0])


def draw_exp1_splits(pool, spec_seed: int, rho: float, sizes):
    """The four splits of one (rho, seed) cell, drawn from the pool's first two factors.

    Pools with groups (real data: pairs of answers to one question) are split by group
    first — 60 % of the groups for training, 10 % for validation, 30 % for the tests — so
    that no question is seen in training and tested on."""
    d1, d2 = (pool.diffs(name) for name in pool.world.factor_names[:2])
    seed = cell_seed(spec_seed, rho)
    group = pool.group
    if group is None:
        return draw_correlation_splits(d1, d2, sizes.as_dict(), rho, seed)
    parts = group_split(group, {"train": 0.6, "val": 0.1, "test": 0.3}, seed)
    indices, achieved = {}, {}
    split_seeds = np.random.SeedSequence(seed).spawn(4)
    for name, part, split_seed in (
        ("train", "train", split_seeds[0]),
        ("val", "val", split_seeds[1]),
        ("id", "test", split_seeds[2]),
    ):
        try:
            draw = sample_with_target_rho(d1, d2, getattr(sizes, name), rho, split_seed, available=parts[part])
        except CausalPrefError as error:
            raise CausalPrefError(f"split {name!r} (drawn from {part} questions): {error}") from None
        indices[name], achieved[name] = draw.indices, draw.achieved_rho
    left = parts["test"] & (d1 * d2 < 0)
    left[indices["id"]] = False
    candidates = np.flatnonzero(left)
    if candidates.size < sizes.ood:
        raise CausalPrefError(
            f"split 'ood': cannot draw n={sizes.ood} pairs with d1*d2 < 0 from the test "
            f"questions: only {candidates.size} remain"
        )
    ood = np.sort(np.random.default_rng(split_seeds[3]).choice(candidates, sizes.ood, replace=False))
    indices["ood"], achieved["ood"] = ood, pearson(d1[ood], d2[ood])
    return CorrelationSplits(indices=indices, achieved_rho=achieved, target_rho=float(rho))


def draw_exp2_splits(pool, spec_seed: int, rho: float, sizes):
    """Train / val at consistency rate rho and the consistent / inconsistent test sets of one cell."""
    return draw_objective_splits(pool.prompt_type, pool.objective, sizes.as_dict(), rho, cell_seed(spec_seed, rho))
