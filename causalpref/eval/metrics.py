"""Pairwise accuracy and the baselines every number is read against.

- accuracy: share of pairs whose predicted margin r(a) - r(b) has the label's sign
  (an exact tie counts one half, like a coin flip);
- margin: mean of r(chosen) - r(rejected) (TRL's name);
- chance: 0.5;
- oracle: the world's true reward used as the model: the best any model can do;
- spurious-only: ranks by the non-dominant causal factor alone (z1 when a < 0.5): what a
  model that latched onto the wrong factor would score.
"""

from __future__ import annotations

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.stats import pairwise_accuracy


def mean_margin(margin: np.ndarray, label: np.ndarray) -> float:
    """Mean reward margin of the preferred response over the other."""
    return float(np.mean(np.where(label == 1, margin, -margin)))


def oracle_accuracy(pairs: PairSet) -> float | None:
    if pairs.true_margin is None:
        return None
    return pairwise_accuracy(pairs.true_margin, pairs.label)


def spurious_accuracy(pairs: PairSet, factor: str) -> float | None:
    """Accuracy of ranking by one factor alone (ties count one half)."""
    if pairs.factor_diffs is None or factor not in pairs.factor_names:
        return None
    return pairwise_accuracy(pairs.factor(factor), pairs.label)


def non_dominant_factor(factor_names: tuple[str, str], a: float) -> str:
    """The causal factor with the smaller weight in r = a*z1 + (1 - a)*z2."""
    return factor_names[0] if a < 0.5 else factor_names[1]


def prompt_type_accuracy(pairs: PairSet) -> float | None:
    """Baseline of a model that reads the prompt type instead of the objective it is given:
    it ranks by the factor of objective t (perfect on consistent pairs, the counterfactual
    label's accuracy on inconsistent ones). Real pairs have no factors; where the label under
    the other objective is known (a mapped label_other column), that is what t's objective says."""
    if pairs.prompt_type is None:
        return None
    if pairs.factor_diffs is not None and pairs.objective is not None and pairs.factor_diffs.shape[1] >= 2:
        by_type = np.where(pairs.prompt_type == 0, pairs.factor_diffs[:, 0], pairs.factor_diffs[:, 1])
        return pairwise_accuracy(by_type, pairs.label)
    if pairs.objective is None or pairs.counterfactual_label is None:
        return None
    under_t = np.where(pairs.prompt_type == pairs.objective, pairs.label, pairs.counterfactual_label)
    return float(np.mean(under_t == pairs.label))
