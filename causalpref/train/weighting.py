"""Training weightings (remedies): how much each training pair counts in the BTL loss.

A weighting is a property of training, not of an architecture: any architecture trains
with any weighting its experiment supports (Multihead + IPW is a valid spec). Results rows
name the combination ("base+balanced"); "none" leaves the model's name as it is.

- none: every pair counts once;
- balanced: Experiment 1's remedy, weights that give the four quadrants of the two causal
  factor differences (d1, d2) equal mass, as at rho = 0 (diagnostics.reweighting_target_balanced);
- ipw: Experiment 2's remedy, inverse-propensity weights 1 / P(c | prompt), with P
  cross-fitted from the prompt's embedding (propensity.cross_fitted_propensity).

Adding a weighting is one function and one `register(Weighting(...))` call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class Weights:
    weights: np.ndarray  # one per training pair, mean 1
    ess_share: float  # Kish effective sample size / n (1 = unweighted)
    no_op: bool = False  # True when the weights cannot change anything (e.g. empty quadrants left nothing to move)


@dataclass(frozen=True)
class Weighting:
    name: str
    label: str  # appended to the architecture's label in brackets: "Base (IPW)"
    experiments: tuple[str, ...]  # the experiments whose pairs carry what it needs
    weigh: Callable[[PairSet, int], Weights] | None  # (training pairs, seed) -> weights; None: unweighted
    colour: str = "#7f7f7f"  # mixed into the architecture's colour for weighted variants
    description: str = ""


WEIGHTINGS: dict[str, Weighting] = {}
NONE = "none"


def register(weighting: Weighting) -> Weighting:
    if weighting.name in WEIGHTINGS:
        raise CausalPrefError(f"a weighting named {weighting.name!r} is registered already")
    WEIGHTINGS[weighting.name] = weighting
    return weighting


def weighting(name: str) -> Weighting:
    if name not in WEIGHTINGS:
        raise CausalPrefError(f"unknown weighting {name!r}; choose from {list(WEIGHTINGS)}")
    return WEIGHTINGS[name]


def weighting_names(experiment: str | None = None) -> tuple[str, ...]:
    return tuple(n for n, w in WEIGHTINGS.items() if experiment is None or experiment in w.experiments)


def apply_weighting(name: str, train: PairSet, seed: int) -> tuple[PairSet, Weights | None]:
    """The training set with its weights attached (unchanged for 'none'), and the weights."""
    chosen = weighting(name)
    if chosen.weigh is None:
        return train, None
    weights = chosen.weigh(train, seed)
    return replace(train, weight=weights.weights.astype(np.float32)), weights


def balanced_quadrants(train: PairSet, seed: int) -> Weights:
    if train.factor_diffs is None or train.factor_diffs.shape[1] < 2:
        raise CausalPrefError("balanced weights need two causal factor differences per pair (Experiment 1)")
    from causalpref.eval.diagnostics import reweighting_target_balanced  # pandas: loaded when weighing

    balanced = reweighting_target_balanced(train.factor_diffs[:, 0], train.factor_diffs[:, 1])
    # With only one of the two disagreeing quadrants present, or none, the weights cannot add
    # disagreeing pairs that are not there.
    no_op = len(balanced.empty_quadrants) > 0 and {"Q2", "Q4"} <= set(balanced.empty_quadrants)
    return Weights(balanced.weights, balanced.ess_share, no_op=no_op)


def inverse_propensity(train: PairSet, seed: int) -> Weights:
    if train.objective is None:
        raise CausalPrefError("inverse-propensity weights need the objective c of every pair (Experiment 2)")
    from causalpref.eval.propensity import cross_fitted_propensity, inverse_propensity_weights

    p = cross_fitted_propensity(train.emb_a, train.objective, seed=seed)
    weights, ess = inverse_propensity_weights(p, train.objective)
    return Weights(weights, ess / len(train))


register(Weighting(NONE, "", ("exp1", "exp2"), None, description="every pair counts once"))
register(
    Weighting(
        "balanced",
        "balanced",
        ("exp1",),
        balanced_quadrants,
        colour="#9467bd",
        description="the four quadrants of (d1, d2) get equal mass, as at rho = 0",
    )
)
register(
    Weighting(
        "ipw",
        "IPW",
        ("exp2",),
        inverse_propensity,
        colour="#9467bd",
        description="1 / P(c | prompt), cross-fitted, so that the objective looks randomised",
    )
)
