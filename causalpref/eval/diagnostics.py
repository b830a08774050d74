"""Diagnostics for Experiment 1: how far a training set is from the test set it is judged on.

Experiment 1 of Kobalczyk & van der Schaar (ICML 2025) trains reward models on pairs whose
factor differences (d1, d2) correlate at rho and tests them out of distribution (OOD) on
pairs whose factors disagree (d1 * d2 < 0). The functions here measure that gap from the
factor differences alone (importance weights, effective sample size, standardised mean
differences), read a trained model's reward margins against the factors, build the three
sanity-check inputs (shuffled labels, a random extra feature, half of the data), and give a
remedy target (quadrant-balanced weights). Everything is numpy (pandas for tables); the
text report `overlap_report` is meant for `python -m causalpref diagnose`.

Binning is shared with `positivity.coverage`: one bin per integer value for integer-valued
differences spanning at most 40 values, else equal-width bins (10 per axis by default) over
the 0.5 %-99.5 % quantile range of both sets, values beyond it counted in the outer bins.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from causalpref import validate
from causalpref.errors import CausalPrefError
from causalpref.eval.positivity import as_diffs, grid_cell, grid_edges, is_discrete, overlap_summary, quadrant_masses
from causalpref.stats import pearson
from causalpref.validate import finite_matrix, finite_vector

__all__ = [
    "BalancedWeights",
    "SMD_FLAG",
    "add_random_feature",
    "effective_sample_share",
    "effective_sample_size",
    "half_subset",
    "importance_weights",
    "label_shuffle",
    "overlap_report",
    "reward_factor_correlations",
    "reweighting_target_balanced",
    "standardised_mean_differences",
    "unsupported_test_share",
]

SMD_FLAG = 0.1  # |SMD| above this flags a factor as imbalanced (the usual rule)
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


# --------------------------------------------------------------------------- validation


def _check_bins(bins) -> None:
    if bins is not None and (not isinstance(bins, numbers.Integral) or isinstance(bins, (bool, np.bool_)) or bins < 1):
        raise CausalPrefError(f"bins must be a positive integer or None, got {bins!r}")


def _check_seed(seed) -> int:
    return validate.seed(seed)


# --------------------------------------------------------------------------- importance weights


@dataclass(frozen=True, eq=False)
class _Histograms:
    train_cell: np.ndarray  # (n_train,) flat cell index of each training pair
    test_cell: np.ndarray  # (n_test,)
    train_counts: np.ndarray  # (cells,) training pairs per cell
    test_counts: np.ndarray  # (cells,)


def _histograms(train_d1, train_d2, test_d1, test_d2, bins) -> _Histograms:
    """Train and test counts on one shared 2-D grid (the grid of `positivity.coverage`)."""
    tr1, tr2 = as_diffs(train_d1, train_d2, ("train_d1", "train_d2"))
    te1, te2 = as_diffs(test_d1, test_d2, ("test_d1", "test_d2"))
    _check_bins(bins)
    discrete = is_discrete(tr1, tr2, te1, te2)
    edges1, edges2 = grid_edges(tr1, te1, bins, discrete), grid_edges(tr2, te2, bins, discrete)
    width = edges2.size - 1
    cells = (edges1.size - 1) * width
    train_cell = grid_cell(tr1, edges1) * width + grid_cell(tr2, edges2)
    test_cell = grid_cell(te1, edges1) * width + grid_cell(te2, edges2)
    return _Histograms(
        train_cell=train_cell,
        test_cell=test_cell,
        train_counts=np.bincount(train_cell, minlength=cells),
        test_counts=np.bincount(test_cell, minlength=cells),
    )


def importance_weights(train_d1, train_d2, test_d1, test_d2, bins=None) -> np.ndarray:
    """Per training pair, the density ratio p_test(d1, d2) / p_train(d1, d2), mean 1.

    Both densities are histograms on one shared grid (see the module docstring; `bins`, an
    int >= 1, forces `bins` x `bins` equal-width bins). A training pair in a cell that holds
    no test pairs gets weight 0. The ratios are normalised to mean 1 over the training
    pairs, so a weighted training average estimates the test average over the part of the
    test distribution the training set reaches; test pairs in cells with no training pairs
    are out of reach of any weighting (see `unsupported_test_share`). When no test pair
    shares a cell with a training pair the weights are all 0.

    Reading: weights all near 1 mean train and test look alike; a few large weights mean
    the test set lives where the training set is thin (check `effective_sample_size`).
    """
    h = _histograms(train_d1, train_d2, test_d1, test_d2, bins)
    n_train, n_test = h.train_cell.size, h.test_cell.size
    train_share = h.train_counts[h.train_cell] / n_train  # > 0: the pair itself is there
    ratio = (h.test_counts[h.train_cell] / n_test) / train_share
    mean = float(ratio.mean())
    if mean <= 0.0:
        return np.zeros(n_train, dtype=np.float64)
    return ratio / mean


def unsupported_test_share(train_d1, train_d2, test_d1, test_d2, bins=None) -> float:
    """Share of test pairs in grid cells that hold no training pair (same grid as
    `importance_weights`).

    Reading: no reweighting of the training set can say anything about these test pairs;
    0 is the goal, 1.0 means the training set and the test set do not overlap at all.
    """
    h = _histograms(train_d1, train_d2, test_d1, test_d2, bins)
    return float(np.mean(h.train_counts[h.test_cell] == 0))


def _check_weights(weights) -> np.ndarray:
    w = finite_vector(weights, "weights")
    if (w < 0).any():
        raise CausalPrefError(f"weights must be non-negative (first negative at index {int(np.flatnonzero(w < 0)[0])})")
    return w


def effective_sample_size(weights) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 of non-negative weights.

    Reading: the number of equally weighted pairs that would give an estimate as precise as
    the weighted set; n when all weights are equal, near 1 when one pair dominates, 0 when
    every weight is 0 (the training set says nothing about the target).
    """
    w = _check_weights(weights)
    total_sq = float(np.dot(w, w))
    if total_sq == 0.0:
        return 0.0
    return float(w.sum()) ** 2 / total_sq


def effective_sample_share(weights) -> float:
    """`effective_sample_size(weights) / n`: 1.0 for equal weights, small when a few pairs
    carry the weight (then a reweighted training set is effectively a much smaller one)."""
    w = _check_weights(weights)
    return effective_sample_size(w) / w.size


# --------------------------------------------------------------------------- balance


def standardised_mean_differences(train: Mapping[str, object], test: Mapping[str, object]) -> pd.DataFrame:
    """Standardised mean difference (test mean - train mean) / pooled SD, per factor.

    `train` and `test` map the same factor names to 1-D arrays (lengths may differ between
    the two sets). pooled_sd = sqrt((var_train + var_test) / 2), sample variances (ddof=1;
    0 for a single value). When pooled_sd is 0 the SMD is 0 for equal means, else +-inf.
    Columns: factor, train_mean, test_mean, pooled_sd, smd, flag (|smd| > 0.1).

    Reading: |smd| <= 0.1 is the usual "balanced" rule; a flagged factor sits, on average,
    more than a tenth of a standard deviation apart in the two sets.
    """
    for name, value in (("train", train), ("test", test)):
        if not isinstance(value, Mapping):
            raise CausalPrefError(f"{name} must be a dict of factor name -> array, got {type(value).__name__}")
        if len(value) == 0:
            raise CausalPrefError(f"{name} is empty: expected at least one factor")
    if set(train) != set(test):
        raise CausalPrefError(
            f"train and test must name the same factors, got {sorted(map(str, train))} and {sorted(map(str, test))}"
        )
    rows = []
    for factor in train:
        a = finite_vector(train[factor], f"train[{factor!r}]")
        b = finite_vector(test[factor], f"test[{factor!r}]")
        var_a = float(a.var(ddof=1)) if a.size > 1 else 0.0
        var_b = float(b.var(ddof=1)) if b.size > 1 else 0.0
        pooled = math.sqrt((var_a + var_b) / 2.0)
        diff = float(b.mean() - a.mean())
        if pooled > 0:
            smd = diff / pooled
        else:
            smd = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        rows.append(
            {
                "factor": str(factor),
                "train_mean": float(a.mean()),
                "test_mean": float(b.mean()),
                "pooled_sd": pooled,
                "smd": smd,
                "flag": bool(abs(smd) > SMD_FLAG),
            }
        )
    return pd.DataFrame(rows, columns=["factor", "train_mean", "test_mean", "pooled_sd", "smd", "flag"])


# --------------------------------------------------------------------------- model read-outs


def reward_factor_correlations(margin, factor_diffs, factor_names) -> pd.DataFrame:
    """Pearson correlation of a model's reward margins with each factor difference.

    `margin` (n,) are r(a) - r(b), `factor_diffs` (n, k) the factor differences named by
    `factor_names` (k names). This is ODIN's reward-spurious correlation: a model that has
    learned the true reward a*d1 + (1 - a)*d2 correlates with each causal factor according
    to its weight and not with nuisance ones. Columns: factor, correlation (0.0 for a
    constant column, as `sampling.pearson`). The frame's `attrs["a_hat"]` holds the implied
    weight w1 / (w1 + w2) of the first two factors from `inspect.implied_weight` (NaN for
    fewer than two factors or w1 + w2 <= 0).

    Reading: a large |correlation| with a nuisance factor means the model rewards it; an
    a_hat far from the world's true weight a means the model trades the factors off wrongly.
    """
    m = finite_vector(margin, "margin")
    diffs = finite_matrix(factor_diffs, "factor_diffs")
    if diffs.shape[0] != m.size:
        raise CausalPrefError(f"factor_diffs must have one row per margin ({m.size}), got {diffs.shape[0]}")
    names = [str(n) for n in factor_names]
    if len(names) != diffs.shape[1]:
        raise CausalPrefError(f"factor_names must name the {diffs.shape[1]} factor columns, got {len(names)} names")
    frame = pd.DataFrame({"factor": names, "correlation": [pearson(m, diffs[:, j]) for j in range(diffs.shape[1])]})
    a_hat = float("nan")
    if diffs.shape[1] >= 2:
        from causalpref.eval.inspect import implied_weight  # imported here: inspect pulls in torch

        a_hat = implied_weight(m, diffs[:, 0], diffs[:, 1])
    frame.attrs["a_hat"] = a_hat
    return frame


# --------------------------------------------------------------------------- sanity checks


def label_shuffle(labels, seed: int) -> np.ndarray:
    """Placebo input: a seeded random permutation of the labels (same values, same dtype).

    Expected outcome: a model trained on shuffled labels scores at chance (about 50 %
    accuracy) on held-out pairs; clearly more means leakage or a bug in the evaluation.
    """
    seed = _check_seed(seed)
    array = np.asarray(labels)
    finite_vector(array, "labels")
    return np.random.default_rng(seed).permutation(array)


def add_random_feature(emb, seed: int) -> np.ndarray:
    """Embeddings (n, d) with one extra column of seeded N(0, 1) noise: shape (n, d + 1),
    the input's float dtype kept.

    Expected outcome: no change. Accuracies and a_hat move no more than across seeds, since
    the model should learn to ignore a feature unrelated to the labels.
    """
    seed = _check_seed(seed)
    as_float = finite_matrix(emb, "emb", "(n, d)")
    original = np.asarray(emb).dtype
    dtype = original if np.issubdtype(original, np.floating) else np.float64
    noise = np.random.default_rng(seed).standard_normal((as_float.shape[0], 1))
    return np.concatenate([as_float, noise], axis=1).astype(dtype)


def half_subset(n: int, seed: int) -> np.ndarray:
    """Seeded, sorted int64 indices of n // 2 distinct pairs out of n (n >= 2).

    Expected outcome: a small change. Training on half the pairs lowers accuracy a little
    and widens the spread across seeds; a large drop means the full set was barely enough.
    """
    seed = _check_seed(seed)
    if not isinstance(n, numbers.Integral) or isinstance(n, (bool, np.bool_)) or n < 2:
        raise CausalPrefError(f"n must be an integer >= 2 (number of pairs), got {n!r}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(int(n), size=int(n) // 2, replace=False)).astype(np.int64)


# --------------------------------------------------------------------------- remedy target


@dataclass(frozen=True, eq=False)
class BalancedWeights:
    weights: np.ndarray  # (n,) mean 1
    ess: float  # Kish effective sample size of the weights
    ess_share: float  # ess / n
    masses: dict[str, float]  # observed shares of Q1..Q4 and 'axes'
    weighted_masses: dict[str, float]  # the same shares under the weights
    empty_quadrants: tuple[str, ...]  # quadrants with no pairs (cannot be balanced)


def _cells(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """0..3 for Q1..Q4 (as positivity.quadrant_masses), 4 for ties on an axis."""
    cell = np.full(d1.size, 4, dtype=np.int64)
    cell[(d1 > 0) & (d2 > 0)] = 0
    cell[(d1 < 0) & (d2 > 0)] = 1
    cell[(d1 < 0) & (d2 < 0)] = 2
    cell[(d1 > 0) & (d2 < 0)] = 3
    return cell


def reweighting_target_balanced(d1, d2) -> BalancedWeights:
    """Weights that give the four quadrants of the (d1, d2) plane equal mass, mean 1.

    Pairs with a tie on an axis (d1 == 0 or d2 == 0) are their own cell and keep their
    share (weight 1); the four quadrants share the rest equally, so under the weights the
    factors disagree (quadrants 2/4) in half of the pairs off the axes, as at rho = 0. A
    quadrant with no pairs cannot be reached: the quadrants that have pairs share its mass
    and it is listed in `empty_quadrants`.

    Reading: this is a remedy target for a correlated training set; its ESS share says how
    much data the remedy costs (a small share means reweighting alone cannot fix the set,
    and drawing more disagreeing pairs is needed).
    """
    d1, d2 = as_diffs(d1, d2)
    cell = _cells(d1, d2)
    counts = np.bincount(cell, minlength=5)
    n = d1.size
    present = [q for q in range(4) if counts[q] > 0]
    axes_share = counts[4] / n
    target = np.zeros(5)
    target[4] = axes_share
    for q in present:
        target[q] = (1.0 - axes_share) / len(present)
    per_cell = np.where(counts > 0, target * n / np.maximum(counts, 1), 0.0)
    weights = per_cell[cell]
    names = QUADRANTS + ("axes",)
    masses = {name: float(counts[i] / n) for i, name in enumerate(names)}
    weighted = {name: float(weights[cell == i].sum() / weights.sum()) for i, name in enumerate(names)}
    return BalancedWeights(
        weights=weights,
        ess=effective_sample_size(weights),
        ess_share=effective_sample_share(weights),
        masses=masses,
        weighted_masses=weighted,
        empty_quadrants=tuple(QUADRANTS[q] for q in range(4) if counts[q] == 0),
    )


# --------------------------------------------------------------------------- report


def overlap_report(train_d1, train_d2, test_d1, test_d2) -> str:
    """A plain multi-line text report of the Experiment-1 overlap measures of a split.

    Lines: sizes and training rho; quadrant masses of the training set beside the Gaussian
    values (Q2 + Q4 = 1/2 - arcsin(rho)/pi); the share of test pairs poorly covered (see
    `positivity.coverage`); the ESS of the train -> test importance weights and its share
    of n; the unsupported test share; an SMD table for d1, d2 and d1*d2 (the product carries
    the OOD shift: its mean is positive when the factors mostly agree); and the quadrant-
    balanced remedy's ESS share. Each line ends with a plain reading.
    """
    tr1, tr2 = as_diffs(train_d1, train_d2, ("train_d1", "train_d2"))
    te1, te2 = as_diffs(test_d1, test_d2, ("test_d1", "test_d2"))
    summary = overlap_summary(tr1, tr2, te1, te2)
    masses = quadrant_masses(tr1, tr2)
    test_masses = quadrant_masses(te1, te2)
    weights = importance_weights(tr1, tr2, te1, te2)
    ess = effective_sample_size(weights)
    ess_share = ess / weights.size
    unsupported = unsupported_test_share(tr1, tr2, te1, te2)
    balanced = reweighting_target_balanced(tr1, tr2)
    smd = standardised_mean_differences(
        {"d1": tr1, "d2": tr2, "d1*d2": tr1 * tr2}, {"d1": te1, "d2": te2, "d1*d2": te1 * te2}
    )
    s = math.asin(max(-1.0, min(1.0, summary.rho))) / (2 * math.pi)
    gauss = {"Q1": 0.25 + s, "Q2": 0.25 - s, "Q3": 0.25 + s, "Q4": 0.25 - s}

    def level(value, good, bad):
        return "good" if value >= good else ("poor" if value < bad else "fair")

    lines = [
        "Overlap between training and test pairs (Experiment 1)",
        f"  pairs: {summary.n_train} train, {summary.n_test} test; training rho = corr(d1, d2) = {summary.rho:+.3f}",
        "  training quadrant masses (Gaussian value at this rho in brackets); test masses after the bar:",
    ]
    for q in QUADRANTS:
        lines.append(f"    {q}: {masses[q]:6.1%}  ({gauss[q]:6.1%})  | test {test_masses[q]:6.1%}")
    lines.append(f"    axes (a tie in d1 or d2): {masses['axes']:6.1%} | test {test_masses['axes']:6.1%}")
    lines.append(
        f"  Q2+Q4 (factors disagree): {summary.q24_train:.1%} of training pairs "
        f"({summary.q24_off_axes:.1%} off the axes) vs 1/2 - arcsin(rho)/pi = {summary.q24_gaussian:.1%}"
        f" -> {level(summary.q24_off_axes, 0.35, 0.2)}: only these pairs show how the factors trade off"
    )
    lines.append(
        f"  poorly covered test pairs: {summary.poorly_covered_share:.1%}"
        f" -> {level(1 - summary.poorly_covered_share, 0.9, 0.7)}: share of test pairs in cells with"
        f" < 0.5 % of the training set"
    )
    lines.append(
        f"  ESS of train->test importance weights: {ess:.1f} of {weights.size} ({ess_share:.1%})"
        f" -> {level(ess_share, 0.5, 0.1)}: a training set reweighted to look like the test set is"
        f" worth this many equally weighted pairs"
    )
    lines.append(
        f"  unsupported test share: {unsupported:.1%}"
        f" -> {level(1 - unsupported, 0.99, 0.9)}: test pairs in cells with no training pair;"
        f" no reweighting reaches them"
    )
    if {"Q2", "Q4"} <= set(balanced.empty_quadrants):  # its high ESS would read as a success
        lines.append(
            "  remedy (quadrant-balanced weights): no effect -> the training set has no pair whose"
            " factors disagree (Q2 and Q4 empty), so there is nothing to up-weight"
        )
    else:
        lines.append(
            f"  remedy (quadrant-balanced weights): ESS share {balanced.ess_share:.1%}"
            + (f", empty quadrants {', '.join(balanced.empty_quadrants)}" if balanced.empty_quadrants else "")
            + " -> share of the training data a reweighting to equal quadrants keeps"
        )
    lines.append("  standardised mean differences (test - train) / pooled SD; |SMD| > 0.1 is flagged:")
    lines.append(f"    {'factor':<7} {'train':>8} {'test':>8} {'pooled sd':>10} {'smd':>8}")
    for row in smd.itertuples(index=False):
        lines.append(
            f"    {row.factor:<7} {row.train_mean:8.3f} {row.test_mean:8.3f} {row.pooled_sd:10.3f}"
            f" {row.smd:+8.3f}{'  imbalanced' if row.flag else ''}"
        )
    lines.append("    (d1 and d2 can balance while d1*d2 does not: the OOD shift is in how the factors co-vary)")
    if summary.warning:
        lines.append(f"  warning: {summary.warning}")
    return "\n".join(lines)
