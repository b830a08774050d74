"""Where pairs come from: synthetic latent-factor worlds (the embedded default) and real data.

Every world and pool follows the protocols below. Optional capabilities are stated
attributes (None or False when absent), never probed with hasattr.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.data.worlds.objectives import ObjectivePool, UserObjectivesWorld
from causalpref.data.worlds.synthetic import CorrelatedFactorsWorld, FactorPool


class Pool(Protocol):
    """A fixed set of candidate pairs that splits are drawn from."""

    world: World
    label: np.ndarray  # (N,) 1.0 when response a is preferred
    # Optional capabilities: None when the pool has none.
    group: np.ndarray | None  # (N,) prompt/question id: splits never put one group in two splits
    prompt_type: np.ndarray | None  # (N,) t, the kind of prompt (Experiment 2)
    objective: np.ndarray | None  # (N,) c, the objective the label was given under (Experiment 2)

    def __len__(self) -> int: ...

    def pairs(self, indices: np.ndarray, name: str = "pairs") -> PairSet: ...


class World(Protocol):
    """A source of pairs: its pool, and a name that results rows carry."""

    name: str
    dim: int  # embedding dimension
    can_probe: bool  # True when it can embed any (d1, d2) difference: a decision boundary can be drawn
    can_isolate: bool  # True when it can make pairs that differ in one causal factor only (isolated_pairs)
    has_counterfactual_label: bool  # True when every pair also has its label under the other objective

    def pool(self) -> Pool: ...


__all__ = ["CorrelatedFactorsWorld", "FactorPool", "ObjectivePool", "Pool", "UserObjectivesWorld", "World"]
