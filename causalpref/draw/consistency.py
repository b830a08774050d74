"""Draw preference pairs with a chosen consistency rate rho = P(prompt type = objective).

Experiment 2 of the paper: when users write their own prompts, the objective c they label
under (helpfulness / harmlessness) is confounded with the prompt type t (helpful-style /
red-team). A training set with rho = 1 holds only consistent pairs (t = c), as the original
HH-RLHF does; rho = 0.5 is what randomised prompt assignment would give.

Works on any pool that has, per pair, a prompt type t and an objective c in {0, 1}: the
synthetic user-objectives world and the relabelled HH-RLHF alike. Every draw is without
replacement and seeded; splits never share a pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalpref import validate
from causalpref.draw.groups import group_split
from causalpref.errors import CausalPrefError

OBJECTIVES = (0, 1)


@dataclass(frozen=True, eq=False)
class ConsistencyDraw:
    indices: np.ndarray  # sorted int64 indices into the pool
    achieved_rho: float  # share of drawn pairs with t == c
    target_rho: float


def _check_pool(prompt_type, objective) -> tuple[np.ndarray, np.ndarray]:
    t, c = np.asarray(prompt_type), np.asarray(objective)
    if t.ndim != 1 or c.ndim != 1 or t.shape != c.shape:
        raise CausalPrefError(
            f"prompt_type and objective must be 1-D arrays of equal length, got shapes {t.shape} and {c.shape}"
        )
    if t.size == 0:
        raise CausalPrefError("empty pool: no pairs with a prompt type and an objective")
    for name, values in (("prompt_type", t), ("objective", c)):
        bad = ~np.isin(values, OBJECTIVES)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise CausalPrefError(f"{name} at index {i} is {values[i].item()!r}, expected 0 or 1")
    present = set(np.unique(c).tolist())
    if present != {0, 1}:
        raise CausalPrefError(
            f"the pool has pairs under one objective only ({sorted(present)}); "
            "a consistency rate needs pairs labelled under both objectives"
        )
    return t.astype(np.int64), c.astype(np.int64)


def consistency_counts(n: int, rho: float) -> dict[tuple[int, int], int]:
    """Pairs wanted per (t, c) cell: n/2 per objective, round(rho * n/2) of them consistent."""
    per_objective = {0: n - n // 2, 1: n // 2}
    counts = {}
    for c, m in per_objective.items():
        consistent = int(round(rho * m))
        counts[(c, c)] = consistent
        counts[(1 - c, c)] = m - consistent
    return counts


def feasible_consistency_range(prompt_type, objective, n: int, available=None) -> tuple[float, float]:
    """The rhos a draw of n pairs can reach given how many pairs each (t, c) cell holds."""
    t, c = _check_pool(prompt_type, objective)
    free = np.ones(t.size, bool) if available is None else np.asarray(available, bool)
    lo, hi = 0.0, 1.0
    for obj, m in ((0, n - n // 2), (1, n // 2)):
        if m == 0:
            continue
        consistent = int(np.sum(free & (c == obj) & (t == obj)))
        inconsistent = int(np.sum(free & (c == obj) & (t != obj)))
        hi = min(hi, consistent / m)
        lo = max(lo, 1.0 - inconsistent / m)
    return lo, hi


def sample_with_consistency(prompt_type, objective, n: int, rho: float, seed, available=None) -> ConsistencyDraw:
    """n pairs, equal per objective, with P(t = c) = rho to the nearest pair."""
    t, c = _check_pool(prompt_type, objective)
    rho = validate.consistency_rate(rho, "consistency rate rho")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise CausalPrefError(f"n must be an integer >= 2 (one pair per objective at least), got {n!r}")
    free = np.ones(t.size, bool) if available is None else np.asarray(available, bool).copy()
    if free.shape != t.shape:
        raise CausalPrefError(f"available must have shape {t.shape}, got {free.shape}")
    if n > free.sum():
        raise CausalPrefError(f"cannot draw n={n} pairs: only {int(free.sum())} are available")
    rng = np.random.default_rng(seed)
    chosen = []
    for (cell_t, cell_c), want in consistency_counts(n, rho).items():
        cell = np.flatnonzero(free & (t == cell_t) & (c == cell_c))
        if want > cell.size:
            lo, hi = feasible_consistency_range(t, c, n, free)
            kind = "consistent" if cell_t == cell_c else "inconsistent"
            feasible = f"feasible range is [{lo:.3f}, {hi:.3f}]" if lo <= hi else f"no rate is feasible with n={n}"
            raise CausalPrefError(
                f"consistency rate {rho:g} is infeasible for this pool with n={n}: it needs {want} "
                f"{kind} pairs with t={cell_t}, c={cell_c} but only {cell.size} are available; {feasible}"
            )
        chosen.append(rng.choice(cell, size=want, replace=False))
    indices = np.sort(np.concatenate(chosen)).astype(np.int64)
    return ConsistencyDraw(
        indices=indices, achieved_rho=float(np.mean(t[indices] == c[indices])), target_rho=float(rho)
    )


@dataclass(frozen=True, eq=False)
class ObjectiveSplits:
    indices: dict[str, np.ndarray]  # train, val, consistent, inconsistent: pairwise disjoint
    achieved_rho: dict[str, float]
    target_rho: float


def draw_objective_splits(
    prompt_type, objective, sizes: dict[str, int], rho: float, seed, group=None
) -> ObjectiveSplits:
    """train and val at consistency rate rho; test sets of consistent and inconsistent pairs.

    sizes: keys train, val, test; the test draws `test` pairs with t = c and `test` with
    t != c (each equal per objective) from what train and val left.

    group: one prompt id per pair. When some prompt has several pairs, the prompts are first
    divided among training, validation and the tests (in proportion to the pairs each takes)
    and every split draws only from its own prompts: otherwise a test pair's prompt, often its
    very responses under the other objective, would be trained on. One pair per prompt needs
    no such step: disjoint pairs are disjoint prompts.
    """
    t, c = _check_pool(prompt_type, objective)
    missing = {"train", "val", "test"} - set(sizes)
    if missing:
        raise CausalPrefError(f"sizes is missing {sorted(missing)}; expected train, val and test")
    seeds = np.random.SeedSequence(seed).spawn(4)
    free = np.ones(t.size, bool)
    parts = _prompt_parts(group, t.size, sizes, seed)
    indices, achieved = {}, {}
    plan = [
        ("train", sizes["train"], rho),
        ("val", sizes["val"], rho),
        ("consistent", sizes["test"], 1.0),
        ("inconsistent", sizes["test"], 0.0),
    ]
    for (name, n, target), split_seed in zip(plan, seeds):
        part = free if parts is None else free & parts["test" if name in ("consistent", "inconsistent") else name]
        try:
            draw = sample_with_consistency(t, c, n, target, split_seed, available=part)
        except CausalPrefError as error:
            raise CausalPrefError(f"split {name!r}: {error}") from None
        free[draw.indices] = False
        indices[name], achieved[name] = draw.indices, draw.achieved_rho
    return ObjectiveSplits(indices=indices, achieved_rho=achieved, target_rho=float(rho))


def _prompt_parts(group, n_pairs: int, sizes: dict[str, int], seed) -> dict[str, np.ndarray] | None:
    """Masks of the pairs whose prompts belong to train, val and test; None when no prompt has
    more than one pair (or there are no prompt ids)."""
    if group is None:
        return None
    group = np.asarray(group)
    if group.shape != (n_pairs,):
        raise CausalPrefError(f"group must have one prompt id per pair ({n_pairs}), got shape {group.shape}")
    if np.unique(group).size == n_pairs:
        return None
    shares = {"train": sizes["train"], "val": sizes["val"], "test": 2 * sizes["test"]}
    return group_split(group, shares, np.random.SeedSequence(seed).spawn(5)[4])


def prompt_parts(group, n_pairs: int, sizes: dict[str, int], seed) -> dict[str, np.ndarray] | None:
    """The prompt parts `draw_objective_splits` draws each split from (None: no prompt has
    several pairs); the interventions lab adds extra pairs from the training part only."""
    return _prompt_parts(group, n_pairs, sizes, seed)
