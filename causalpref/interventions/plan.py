"""What is checked before any training, and what each seed shares across strategies.

`check(spec)` counts, per seed, the pairs each strategy may draw from (on a data file from
its text, before anything is embedded) and refuses a budget the pool cannot supply, naming
the strategy, the budget and the most available; a strategy the world cannot run is refused
with its reason. `plan_seed` draws a seed's base set, test sets, reference set and every
non-active strategy's extra pairs: the same base set and test sets for every strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.data.worlds.real import RealDataWorld
from causalpref.errors import CausalPrefError
from causalpref.interventions.draws import (
    Extra,
    allowed_mask,
    draw_extra,
    most_available,
    reference_set,
    split_indices,
)
from causalpref.interventions.strategies import availability
from causalpref.run.cells import Cell


def counting_pool(world):
    """The pool to count on: a data file's text pool (no embeddings), else the world's pool."""
    return world.text_pool() if isinstance(world, RealDataWorld) else world.pool()


def check(spec) -> None:
    """Refuse, before any training, what the sweep could not do (one-line CausalPrefError)."""
    reasons = availability(spec)
    for name in spec.strategies:
        if reasons[name] is not None:
            raise CausalPrefError(f"strategy {name!r} cannot run on {spec.base.world.name}: {reasons[name]}")
    pool = counting_pool(spec.base.world)
    largest = max(spec.budgets)
    for seed in spec.base.seeds:
        allowed = allowed_mask(pool, spec, seed, split_indices(pool, spec, seed))
        for name in spec.strategies:
            most = most_available(name, pool, spec, allowed)
            if largest > most:
                raise CausalPrefError(
                    f"strategy {name!r}: budget {largest:,} asked, but at most {most:,} pairs are available "
                    f"to it (seed {seed}, rho {spec.rho:g}); choose budgets up to {most:,}"
                )


@dataclass
class SeedPlan:
    """One seed's data, shared by every strategy of the sweep."""

    seed: int
    cell: Cell  # the base training set, validation set and evaluated splits
    train_idx: np.ndarray  # pool indices of the base training set
    allowed: np.ndarray  # bool over the pool: pairs that may be added
    reference: PairSet  # the training set drawn without the confounding (same size)
    extras: dict[tuple[str, int], Extra] = field(default_factory=dict)  # (strategy, budget) -> extra pairs


def plan_seed(experiment, spec, seed: int) -> SeedPlan:
    """Draw a seed's splits (as the plain sweep does), its reference set and every non-active
    strategy's extra pairs at every budget above 0."""
    pool = experiment.pool
    indices = split_indices(pool, spec, seed)
    cell = experiment.draw(spec.rho, seed)
    allowed = allowed_mask(pool, spec, seed, indices)
    plan = SeedPlan(seed, cell, indices["train"], allowed, reference_set(pool, spec, seed, allowed, indices["train"]))
    for name in spec.strategies:
        if name == "active":
            continue
        for budget in spec.budgets:
            if budget > 0:
                plan.extras[name, budget] = draw_extra(name, budget, pool, spec, seed, allowed, cell.train)
    return plan
