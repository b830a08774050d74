"""The small statistics every stage shares: one definition each.

- pairwise accuracy: the share of pairs whose margin r(a) - r(b) has the label's sign, an
  exact tie counting one half (a coin flip); CHANCE is its value for a coin;
- Pearson's correlation, defined as 0 on constant inputs.
"""

from __future__ import annotations

import math

import numpy as np

from causalpref.errors import CausalPrefError

CHANCE = 0.5  # pairwise accuracy of a coin flip (as a share; 50 % on the pages)


def pairwise_accuracies(margin, label):
    """Accuracy along the last axis: (n,) -> a scalar, (K, n) -> one per model (a torch tensor).

    Computed in the margin's float precision (float32 in training, float64 for reports), so
    the trainers' checkpoint choice and the reported numbers each stay exactly as computed."""
    import torch  # here, not above: the statistics below are numpy only

    margin = torch.as_tensor(margin)
    if not margin.is_floating_point():
        margin = margin.double()
    label = torch.as_tensor(label, device=margin.device)
    correct = torch.where(margin == 0, 0.5, ((margin > 0) == (label == 1)).to(margin.dtype))
    return correct.mean(-1)


def pairwise_accuracy(margin, label) -> float:
    """Accuracy of one set of pairs: margins and labels (1.0 when a is preferred) of equal shape."""
    margin, label = np.asarray(margin, dtype=np.float64), np.asarray(label)
    if margin.shape != label.shape or margin.size == 0:
        raise CausalPrefError(f"margin and label must be non-empty and equal in shape: {margin.shape} vs {label.shape}")
    return float(pairwise_accuracies(margin, label))


def pearson(x, y) -> float:
    """Pearson correlation of two equal-length 1-D arrays.

    Returns 0.0 when either array has zero variance (all values equal) or has fewer than two
    values: a set of pairs in which one factor never varies carries no linear association,
    and 0.0 keeps the statistic defined for the degenerate draws discrete pools allow.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise CausalPrefError(f"pearson: x and y must have equal length, got {x.size} and {y.size}")
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    xc = x - x.mean()
    yc = y - y.mean()
    sxx = float(np.dot(xc, xc))
    syy = float(np.dot(yc, yc))
    if sxx <= 0.0 or syy <= 0.0:
        return 0.0
    r = float(np.dot(xc, yc)) / math.sqrt(sxx * syy)
    return min(1.0, max(-1.0, r))


def disagreement_mass(rho: float) -> float:
    """P(d1 * d2 < 0) for a standard bivariate normal with correlation rho in [-1, 1]:
    1/2 - arcsin(rho)/pi, the share of pairs whose two factors disagree (quadrants 2 and 4)."""
    from causalpref.validate import correlation

    return 0.5 - math.asin(correlation(rho)) / math.pi
