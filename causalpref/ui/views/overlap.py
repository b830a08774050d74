"""Latent overlap: where a training set at correlation rho leaves the (d1, d2) plane empty.

For a world and a pair of its latent factors, draw a training split whose two factor
differences correlate at rho and out-of-distribution test pairs on which the factors
disagree (d1 * d2 < 0), then say how much of the training set can tell the two factors
apart (quadrants 2/4) and how many test pairs lie where the training set has almost no
pairs. No model is trained: the numbers read factor differences only.

Every number comes with its baseline: the target rho, the Gaussian reference
1/2 - arcsin(rho)/pi, the whole pool (factors drawn independently, rho ~ 0) and a draw at
rho = 0 from the same pool with the same seed. Pools and draws are cached so that moving
the rho slider redraws in a few tens of milliseconds.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref import validate
from causalpref.data.worlds.objectives import UserObjectivesWorld
from causalpref.data.worlds.synthetic import SCALES, CorrelatedFactorsWorld
from causalpref.draw.correlation import CorrelationSplits, draw_correlation_splits
from causalpref.errors import CausalPrefError
from causalpref.eval.diagnostics import (
    SMD_FLAG,
    effective_sample_share,
    importance_weights,
    reweighting_target_balanced,
    standardised_mean_differences,
    unsupported_test_share,
)
from causalpref.eval.positivity import (
    THRESHOLD_SHARE,
    WARN_POORLY_COVERED,
    WARN_Q24,
    OverlapSummary,
    overlap_summary,
    quadrant_masses,
)
from causalpref.stats import disagreement_mass as quadrant_24_mass
from causalpref.stats import pearson
from causalpref.ui.format import percent
from causalpref.ui.plots import overlap_figure

__all__ = [
    "DEFAULT_SIZES",
    "RHO_OPTIONS",
    "WORLDS",
    "Metric",
    "OverlapView",
    "default_pair",
    "factor_choices",
    "overlap_view",
]

WORLDS = {"correlated": "Correlated factors (Experiment 1)", "objectives": "User objectives (Experiment 2)"}
SCALE_LABELS = {
    "likert": "Likert 1–5 (like UltraFeedback)",
    "continuous": "continuous (Gaussian)",
    "binary": "binary 0/1",
}
RHO_OPTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
DEFAULT_SIZES = {"train": 2000, "val": 500, "id": 2000, "ood": 2000}
QUADRANT_MEANING = {
    "Q1": "both factors higher in a (d1 > 0, d2 > 0)",
    "Q2": "factors disagree (d1 < 0 < d2)",
    "Q3": "both factors lower in a (d1 < 0, d2 < 0)",
    "Q4": "factors disagree (d2 < 0 < d1)",
    "axes": "a tie in one factor (d1 = 0 or d2 = 0)",
    "q24": "Q2 + Q4: the pairs that tell the factors apart",
}


@dataclass(frozen=True)
class Metric:
    """One number for the page: its label, formatted value, raw value and plain reading."""

    label: str
    value: str
    number: float
    reading: str


@dataclass
class OverlapView:
    world: str
    scale: str | None
    factors: tuple[str, str]
    target_rho: float
    achieved_rho: float
    discrete: bool  # a factor difference takes integer values only (ties occur)
    summary: OverlapSummary  # positivity.overlap_summary(train, OOD test)
    baseline: OverlapSummary  # the same at rho = 0 from the same pool and seed
    train_masses: dict[str, float]
    pool_masses: dict[str, float]
    masses: pd.DataFrame  # quadrant x (training, ID test, OOD test, pool, Gaussian)
    metrics: tuple[Metric, ...]
    reweighting: tuple[Metric, ...]  # can weights make the training set look like the OOD test set?
    balance: pd.DataFrame  # standardised mean differences, every factor, train vs OOD test
    balance_reading: str
    figure: go.Figure
    figure_reading: str
    warning: str | None


# --------------------------------------------------------------------------- validation


def _check_world(world) -> str:
    if world not in WORLDS:
        raise CausalPrefError(f"unknown world {world!r}; choose one of {list(WORLDS)}")
    return world


def _check_scale(world: str, scale) -> str | None:
    if world == "objectives":
        return None  # the user-objectives world has continuous factors only
    if scale not in SCALES:
        raise CausalPrefError(f"unknown scale {scale!r}; choose one of {list(SCALES)}")
    return scale


def _check_rho(rho) -> float:
    return validate.correlation(rho, "ρ")


def _check_seed(seed) -> int:
    return validate.seed(seed, "the seed")


def _check_sizes(sizes) -> tuple[tuple[str, int], ...]:
    """A hashable copy of the split sizes (the sampler checks their values)."""
    if sizes is None:
        sizes = DEFAULT_SIZES
    if not isinstance(sizes, Mapping):
        raise CausalPrefError(f"sizes must be a dict with keys {list(DEFAULT_SIZES)}, got {sizes!r}")
    for name, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
            raise CausalPrefError(f"sizes[{name!r}] must be a whole number of pairs, got {value!r}")
    return tuple(sorted((str(k), int(v)) for k, v in sizes.items()))


# --------------------------------------------------------------------------- cached pools and draws


@lru_cache(maxsize=8)
def _pool(world: str, scale: str | None) -> tuple[tuple[str, ...], np.ndarray]:
    """Factor names and the (N, k) factor differences z(a) - z(b) of the world's pool."""
    if world == "correlated":
        pool = CorrelatedFactorsWorld(scale=scale).pool()
        names = pool.factor_names
    else:
        model = UserObjectivesWorld()
        pool = model.pool()
        names = model.factor_names
    diffs = np.ascontiguousarray(pool.z_a - pool.z_b)
    diffs.setflags(write=False)
    return tuple(names), diffs


def factor_choices(world: str, scale: str | None = "likert") -> tuple[str, ...]:
    """The latent factors of a world, causal ones first (the scale matters only for 'correlated')."""
    world = _check_world(world)
    return _pool(world, _check_scale(world, scale))[0]


def default_pair(world: str) -> tuple[str, str]:
    """The two factors that set the reward (correlated) or the two objectives (objectives)."""
    names = factor_choices(world, "likert")
    return names[0], names[1]


@lru_cache(maxsize=256)
def _splits(
    world: str,
    scale: str | None,
    factor_a: str,
    factor_b: str,
    rho: float,
    seed: int,
    sizes: tuple[tuple[str, int], ...],
) -> CorrelationSplits:
    names, diffs = _pool(world, scale)
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    return draw_correlation_splits(d1, d2, dict(sizes), rho, seed)


@lru_cache(maxsize=256)
def _summary(
    world: str,
    scale: str | None,
    factor_a: str,
    factor_b: str,
    rho: float,
    seed: int,
    sizes: tuple[tuple[str, int], ...],
) -> OverlapSummary:
    """positivity.overlap_summary of the training split against the OOD test split."""
    names, diffs = _pool(world, scale)
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    splits = _splits(world, scale, factor_a, factor_b, rho, seed, sizes)
    tr, ood = splits.indices["train"], splits.indices["ood"]
    return overlap_summary(d1[tr], d2[tr], d1[ood], d2[ood])


@lru_cache(maxsize=256)
def _reweighting(
    world: str,
    scale: str | None,
    factor_a: str,
    factor_b: str,
    rho: float,
    seed: int,
    sizes: tuple[tuple[str, int], ...],
) -> tuple[float, float, float]:
    """(ESS share of the train -> OOD importance weights, unsupported OOD share, ESS share of
    the quadrant-balanced remedy weights) of one draw."""
    names, diffs = _pool(world, scale)
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    splits = _splits(world, scale, factor_a, factor_b, rho, seed, sizes)
    tr, ood = splits.indices["train"], splits.indices["ood"]
    weights = importance_weights(d1[tr], d2[tr], d1[ood], d2[ood])
    return (
        effective_sample_share(weights),
        unsupported_test_share(d1[tr], d2[tr], d1[ood], d2[ood]),
        reweighting_target_balanced(d1[tr], d2[tr]).ess_share,
    )


def _reweighting_metrics(
    now: tuple[float, float, float], at_zero: tuple[float, float, float], n_train: int
) -> tuple[Metric, ...]:
    ess, unsupported, balanced = now
    ess0, unsupported0, balanced0 = at_zero
    return (
        Metric(
            "Effective training pairs for the OOD test",
            percent(ess),
            ess,
            f"Reweighting the {n_train:,} training pairs to look like the OOD test pairs leaves them worth "
            f"{ess * n_train:,.0f} equally weighted pairs (Kish ESS); at ρ = 0 the same draw keeps "
            f"{percent(ess0)} (at most 50%: OOD pairs lie in quadrants 2/4 only, so pairs in 1/3 get weight 0). "
            f"Below 10% the reweighted estimate rests on a handful of pairs.",
        ),
        Metric(
            "OOD test pairs no reweighting reaches",
            percent(unsupported),
            unsupported,
            f"Share of OOD test pairs in histogram cells with no training pair at all; at ρ = 0: "
            f"{percent(unsupported0)}. Weights cannot create data that is not there.",
        ),
        Metric(
            "Data kept by balancing the quadrants",
            percent(balanced),
            balanced,
            f"The 'reweighted' remedy gives the four quadrants equal weight; its ESS share is what it "
            f"costs (100% would mean nothing; the same draw at ρ = 0 keeps {percent(balanced0)}).",
        ),
    )


def _balance_table(
    names: tuple[str, ...], diffs: np.ndarray, factor_a: str, factor_b: str, tr: np.ndarray, ood: np.ndarray
) -> pd.DataFrame:
    """SMD (OOD test − training) / pooled SD of every factor difference and of d1·d2."""
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    train = {name: diffs[tr, j] for j, name in enumerate(names)}
    test = {name: diffs[ood, j] for j, name in enumerate(names)}
    product = f"{factor_a} × {factor_b}"
    train[product], test[product] = d1[tr] * d2[tr], d1[ood] * d2[ood]
    table = standardised_mean_differences(train, test)
    table["role"] = [
        "first factor (d1)"
        if f == factor_a
        else "second factor (d2)"
        if f == factor_b
        else "product d1·d2"
        if f == product
        else "other factor"
        for f in table["factor"]
    ]
    return table[["factor", "role", "train_mean", "test_mean", "smd", "flag"]].round(3)


# --------------------------------------------------------------------------- the view


def _gaussian_quadrants(rho: float) -> dict[str, float]:
    q24 = quadrant_24_mass(rho)
    return {"Q1": (1 - q24) / 2, "Q2": q24 / 2, "Q3": (1 - q24) / 2, "Q4": q24 / 2, "axes": 0.0, "q24": q24}


def _masses_table(split_masses: dict[str, dict[str, float]], gaussian: dict[str, float]) -> pd.DataFrame:
    rows = []
    for key, meaning in QUADRANT_MEANING.items():
        row = {"quadrant": "Q2+Q4" if key == "q24" else key, "meaning": meaning}
        for column, masses in split_masses.items():
            row[column] = round(masses[key], 4)
        row["Gaussian reference (achieved ρ)"] = round(gaussian[key], 4)
        rows.append(row)
    return pd.DataFrame(rows)


def overlap_view(
    world: str,
    scale: str | None,
    factor_a: str,
    factor_b: str,
    rho: float,
    seed: int = 0,
    sizes: Mapping[str, int] | None = None,
) -> OverlapView:
    """Draw train/OOD pairs at rho between two factors of a world and describe their overlap.

    `sizes` (default DEFAULT_SIZES: train 2000, val 500, id 2000, ood 2000) are the split
    sizes passed to `sampling.draw_correlation_splits`; the pool has 40,000 pairs.

    Raises CausalPrefError for an unknown world, scale or factor, the same factor twice, and
    (from the sampler) a rho this pair of factors cannot reach (the message names the range).
    """
    world = _check_world(world)
    scale = _check_scale(world, scale)
    names, diffs = _pool(world, scale)
    for which, name in (("first", factor_a), ("second", factor_b)):
        if name not in names:
            raise CausalPrefError(
                f"the {which} factor {name!r} is not a factor of this world; choose from {list(names)}"
            )
    if factor_a == factor_b:
        raise CausalPrefError(
            f"choose two different factors: both are {factor_a!r}, and a factor "
            f"always agrees with itself (ρ = 1), so there is no overlap to measure"
        )
    rho, seed = _check_rho(rho), _check_seed(seed)
    sizes = _check_sizes(sizes)

    splits = _splits(world, scale, factor_a, factor_b, rho, seed, sizes)
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    tr, idt, ood = (splits.indices[k] for k in ("train", "id", "ood"))
    summary = _summary(world, scale, factor_a, factor_b, rho, seed, sizes)
    baseline = _summary(world, scale, factor_a, factor_b, 0.0, seed, sizes)  # same pool and seed, rho = 0

    train_masses = quadrant_masses(d1[tr], d2[tr])
    pool_masses = quadrant_masses(d1, d2)
    achieved = splits.achieved_rho["train"]
    gaussian = _gaussian_quadrants(achieved)
    masses = _masses_table(
        {
            "training": train_masses,
            "ID test": quadrant_masses(d1[idt], d2[idt]),
            "OOD test": quadrant_masses(d1[ood], d2[ood]),
            "whole pool (ρ ≈ 0)": pool_masses,
        },
        gaussian,
    )
    integer = [bool(np.all(d == np.round(d))) for d in (d1, d2)]
    discrete = any(integer)

    metrics = [
        Metric(
            "Achieved training ρ",
            f"{achieved:.3f}",
            achieved,
            f"Target ρ = {rho:g}, reached within ±0.02 by the sampler; the whole pool of "
            f"{d1.size:,} candidate pairs (factors drawn independently) has ρ = {pearson(d1, d2):.3f}.",
        ),
    ]
    if discrete:
        q24_reading = (
            f"The Gaussian reference 1/2 − arcsin(ρ)/π = {summary.q24_gaussian:.3f} applies only to "
            f"continuous, Gaussian-like factors; here {percent(train_masses['axes'])} of the "
            f"training pairs tie in a factor, so read the share without ties beside it. "
            f"Whole pool: {percent(pool_masses['q24'])}."
        )
    else:
        q24_reading = (
            f"The Gaussian reference 1/2 − arcsin(ρ)/π = {summary.q24_gaussian:.3f} at the achieved ρ "
            f"(continuous, Gaussian-like factors; 0.500 at ρ = 0); whole pool: "
            f"{percent(pool_masses['q24'])}."
        )
    metrics.append(
        Metric("Training pairs in quadrants 2/4", percent(summary.q24_train), summary.q24_train, q24_reading)
    )
    if discrete:
        pool_off = 1.0 - pool_masses["axes"]
        pool_q24_off = pool_masses["q24"] / pool_off if pool_off > 0 else 0.0
        metrics.append(
            Metric(
                "Quadrants 2/4 among pairs without ties",
                percent(summary.q24_off_axes),
                summary.q24_off_axes,
                f"Pairs that tie in a factor say nothing about the trade-off; among the others "
                f"{percent(summary.q24_off_axes)} disagree, against {percent(pool_q24_off)} in the whole pool; "
                f"below {WARN_Q24:.0%} overlap counts as poor.",
            )
        )
    metrics.append(
        Metric(
            "OOD test pairs poorly covered",
            percent(summary.poorly_covered_share),
            summary.poorly_covered_share,
            f"Share of the {summary.n_test:,} OOD test pairs (factors disagree) in a cell holding fewer than "
            f"{THRESHOLD_SHARE:.1%} of the training pairs; a draw at ρ = 0 from the same pool leaves "
            f"{percent(baseline.poorly_covered_share)}; above {WARN_POORLY_COVERED:.0%} overlap counts as poor.",
        )
    )

    reweighting = _reweighting_metrics(
        _reweighting(world, scale, factor_a, factor_b, rho, seed, sizes),
        _reweighting(world, scale, factor_a, factor_b, 0.0, seed, sizes),
        summary.n_train,
    )
    balance = _balance_table(names, diffs, factor_a, factor_b, tr, ood)
    product_smd = float(balance["smd"].iloc[-1])
    balance_reading = (
        f"Standardised mean difference (OOD test − training) / pooled SD of every factor; |SMD| "
        f"above {SMD_FLAG:g} is flagged as imbalanced. Each factor alone can look balanced while the "
        f"product d1·d2 is not (here {product_smd:+.2f}): the shift is in how the two factors "
        f"move together, which a per-factor check misses."
    )

    figure = overlap_figure(d1[tr], d2[tr], d1[ood], d2[ood], factor_names=(factor_a, factor_b), seed=seed)
    jitter = " Discrete differences are jittered slightly so that stacked pairs show." if all(integer) else ""
    figure_reading = (
        f"Blue: the {summary.n_train:,} training pairs at ρ = {achieved:.2f}; grey and red: the "
        f"{summary.n_test:,} OOD test pairs, red where the training set has almost no pairs. "
        f"The shaded quadrants 2/4 hold the pairs in which {factor_a} and {factor_b} disagree — "
        f"the only ones that show a model which of the two people reward.{jitter}"
    )
    return OverlapView(
        world=world,
        scale=scale,
        factors=(factor_a, factor_b),
        target_rho=rho,
        achieved_rho=achieved,
        discrete=discrete,
        summary=summary,
        baseline=baseline,
        train_masses=train_masses,
        pool_masses=pool_masses,
        masses=masses,
        metrics=tuple(metrics),
        reweighting=reweighting,
        balance=balance,
        balance_reading=balance_reading,
        figure=figure,
        figure_reading=figure_reading,
        warning=summary.warning,
    )
