"""Latent overlap (positivity) between a training set and a test set of preference pairs.

A reward model can only learn how two factors trade off from pairs in which they disagree
(d1 * d2 < 0, quadrants 2 and 4 of the (d1, d2) plane). These measures say how many such
pairs a training set holds and whether the training set has support where the test pairs
lie. They read factor differences only; no model is involved.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from causalpref.errors import CausalPrefError
from causalpref.stats import disagreement_mass as quadrant_24_mass
from causalpref.stats import pearson
from causalpref.validate import finite_vector

__all__ = ["Coverage", "OverlapSummary", "coverage", "overlap_summary", "quadrant_masses"]

# Per axis, for continuous factor differences. With 15 bins and the 0.5 % threshold, a
# random (rho = 0) training set already leaves ~27 % of Gaussian quadrant-2/4 test pairs
# "poorly covered" (cells are small, so the tails fall under the threshold); with 10 bins it
# is ~10 %, rising to ~35 % at rho = 0.6 and ~70 % at rho = 0.9.
CONTINUOUS_BINS = 10
MAX_DISCRETE_SPAN = 40  # integer-valued data spanning more values is binned as continuous
ROBUST_QUANTILES = (0.005, 0.995)
THRESHOLD_SHARE = 0.005  # default: a cell with < 0.5 % of the training set is poorly covered
WARN_POORLY_COVERED = 0.30
WARN_Q24 = 0.2


# --------------------------------------------------------------------------- validation


def as_diffs(d1, d2, names=("d1", "d2")) -> tuple[np.ndarray, np.ndarray]:
    arrays = [finite_vector(value, name) for name, value in zip(names, (d1, d2))]
    if arrays[0].size != arrays[1].size:
        raise CausalPrefError(
            f"{names[0]} and {names[1]} must have equal length, got {arrays[0].size} and {arrays[1].size}"
        )
    return arrays[0], arrays[1]


# --------------------------------------------------------------------------- quadrants


def quadrant_masses(d1, d2) -> dict[str, float]:
    """Share of pairs per quadrant of the (d1, d2) plane.

    Q1: d1 > 0, d2 > 0; Q2: d1 < 0, d2 > 0; Q3: both < 0; Q4: d1 > 0, d2 < 0; 'axes': d1 == 0
    or d2 == 0 (ties, common for discrete ratings). The five shares add up to 1;
    'q24' = Q2 + Q4 is the share of pairs in which the two factors disagree.
    """
    d1, d2 = as_diffs(d1, d2)
    n = d1.size
    masses = {
        "Q1": np.count_nonzero((d1 > 0) & (d2 > 0)) / n,
        "Q2": np.count_nonzero((d1 < 0) & (d2 > 0)) / n,
        "Q3": np.count_nonzero((d1 < 0) & (d2 < 0)) / n,
        "Q4": np.count_nonzero((d1 > 0) & (d2 < 0)) / n,
        "axes": np.count_nonzero((d1 == 0) | (d2 == 0)) / n,
    }
    masses["q24"] = masses["Q2"] + masses["Q4"]
    return {key: float(value) for key, value in masses.items()}


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True, eq=False)
class Coverage:
    edges_d1: np.ndarray  # (b1 + 1,) bin edges along d1
    edges_d2: np.ndarray  # (b2 + 1,) bin edges along d2
    counts: np.ndarray  # (b1, b2) training pairs per cell: counts[i, j] = d1-bin i, d2-bin j
    test_support: np.ndarray  # (n_test,) training pairs in each test pair's cell
    poorly_covered: np.ndarray  # (n_test,) bool: test_support < threshold
    poorly_covered_share: float  # share of test pairs that are poorly covered
    threshold: float  # a cell with fewer training pairs than this is poorly covered
    discrete: bool  # True when the bins sit on integer values


def is_discrete(*arrays: np.ndarray) -> bool:
    values = np.concatenate(arrays)
    return bool(np.all(values == np.round(values)) and np.ptp(values) <= MAX_DISCRETE_SPAN)


def grid_edges(train: np.ndarray, test: np.ndarray, bins: int | None, discrete: bool) -> np.ndarray:
    if discrete and bins is None:
        lo, hi = min(train.min(), test.min()), max(train.max(), test.max())
        return np.arange(lo - 0.5, hi + 1.0, 1.0)
    lo = min(np.quantile(train, ROBUST_QUANTILES[0]), np.quantile(test, ROBUST_QUANTILES[0]))
    hi = max(np.quantile(train, ROBUST_QUANTILES[1]), np.quantile(test, ROBUST_QUANTILES[1]))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, (bins or CONTINUOUS_BINS) + 1)


def grid_cell(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value; values beyond the robust range join the outermost bin."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)


def coverage(train_d1, train_d2, test_d1, test_d2, bins=None, threshold=None) -> Coverage:
    """Training support around each test pair, on a 2-D grid spanning both sets.

    Grid: for integer-valued differences (Likert, binary) one bin per integer value; else
    `bins` x `bins` equal-width bins (default 10) over the 0.5 %-99.5 % quantile range of
    both sets, values beyond it counted in the outermost bins. `bins` (an int >= 1) forces
    equal-width bins on discrete data too. A test pair is poorly covered when its cell holds
    fewer than `threshold` training pairs (default: 0.5 % of the training set, at least 1).
    """
    tr1, tr2 = as_diffs(train_d1, train_d2, ("train_d1", "train_d2"))
    te1, te2 = as_diffs(test_d1, test_d2, ("test_d1", "test_d2"))
    if bins is not None and (not isinstance(bins, numbers.Integral) or isinstance(bins, bool) or bins < 1):
        raise CausalPrefError(f"bins must be a positive integer or None, got {bins!r}")
    if threshold is None:
        threshold = max(1.0, THRESHOLD_SHARE * tr1.size)
    elif (
        not isinstance(threshold, numbers.Real)
        or isinstance(threshold, bool)
        or not math.isfinite(threshold)
        or threshold <= 0
    ):
        raise CausalPrefError(f"threshold must be a positive number of training pairs, got {threshold!r}")
    discrete = is_discrete(tr1, tr2, te1, te2)
    edges1, edges2 = grid_edges(tr1, te1, bins, discrete), grid_edges(tr2, te2, bins, discrete)
    counts = np.zeros((edges1.size - 1, edges2.size - 1), dtype=np.int64)
    np.add.at(counts, (grid_cell(tr1, edges1), grid_cell(tr2, edges2)), 1)
    support = counts[grid_cell(te1, edges1), grid_cell(te2, edges2)]
    poor = support < threshold
    return Coverage(
        edges_d1=edges1,
        edges_d2=edges2,
        counts=counts,
        test_support=support,
        poorly_covered=poor,
        poorly_covered_share=float(poor.mean()),
        threshold=float(threshold),
        discrete=discrete,
    )


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class OverlapSummary:
    rho: float  # Pearson correlation of (d1, d2) over the training set
    q24_train: float  # training share in quadrants 2/4 (factors disagree)
    q24_off_axes: float  # the same share among pairs off the axes (d1 != 0 and d2 != 0)
    q24_gaussian: float  # 1/2 - arcsin(rho)/pi: the same share for Gaussian differences
    poorly_covered_share: float  # share of test pairs with little training support (see coverage)
    n_train: int
    n_test: int
    warning: str | None  # plain-language warning when overlap is poor, else None


def overlap_summary(train_d1, train_d2, test_d1, test_d2) -> OverlapSummary:
    """How well the training pairs cover the test pairs, with a warning when they do not.

    The warning fires when more than 30 % of the test pairs are poorly covered (see
    `coverage`) or fewer than 20 % of the training pairs off the axes have disagreeing
    factors. (Pairs with a tie in one factor, common for Likert or binary ratings, say
    nothing about how the two factors trade off, so the share is taken among the others;
    for continuous factors it equals q24_train.)
    """
    tr1, tr2 = as_diffs(train_d1, train_d2, ("train_d1", "train_d2"))
    te1, te2 = as_diffs(test_d1, test_d2, ("test_d1", "test_d2"))
    rho = pearson(tr1, tr2)
    masses = quadrant_masses(tr1, tr2)
    off_axes = 1.0 - masses["axes"]
    q24_off = masses["q24"] / off_axes if off_axes > 0 else 0.0
    poor = coverage(tr1, tr2, te1, te2).poorly_covered_share
    warning = None
    if poor > WARN_POORLY_COVERED or q24_off < WARN_Q24:
        warning = (
            f"Poor overlap: only {masses['q24']:.1%} of the training pairs have factors that "
            f"disagree (quadrants 2/4), and {poor:.0%} of the test pairs lie where the training "
            f"set has almost no pairs. The model sees too few pairs that separate the two factors "
            f"to learn how they trade off, so expect out-of-distribution accuracy well below "
            f"in-distribution accuracy."
        )
    return OverlapSummary(
        rho=rho,
        q24_train=masses["q24"],
        q24_off_axes=q24_off,
        q24_gaussian=quadrant_24_mass(rho),
        poorly_covered_share=poor,
        n_train=int(tr1.size),
        n_test=int(te1.size),
        warning=warning,
    )
