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
from dataclasses import dataclass, replace
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
    "points_delta",
    "without_deltas",
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
    """One number for the page: its label, formatted value and raw value; `reading`, one short
    line on what it means for the user (shown under it); `detail`, how it is computed and its
    references (its tooltip); and its change against the page's baseline: `delta` with
    `delta_color` "normal" where up is good, "inverse" where up is bad."""

    label: str
    value: str
    number: float
    reading: str
    detail: str = ""
    delta: str | None = None
    delta_color: str = "normal"
    delta_description: str | None = None


def points_delta(now: float, then: float) -> str:
    """A change of a share in percentage points, as st.metric's delta takes it."""
    return f"{100 * (now - then):+.1f} pts"


def without_deltas(metrics) -> tuple[Metric, ...]:
    """The metrics of a page that stands at its own baseline: a change of +0.0 says nothing."""
    return tuple(replace(m, delta=None, delta_description=None) for m in metrics)


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
) -> tuple[float, float, float, tuple[str, ...]]:
    """(ESS share of the train -> OOD importance weights, unsupported OOD share, ESS share of
    the quadrant-balanced remedy weights, the quadrants it finds empty) of one draw."""
    names, diffs = _pool(world, scale)
    d1, d2 = diffs[:, names.index(factor_a)], diffs[:, names.index(factor_b)]
    splits = _splits(world, scale, factor_a, factor_b, rho, seed, sizes)
    tr, ood = splits.indices["train"], splits.indices["ood"]
    weights = importance_weights(d1[tr], d2[tr], d1[ood], d2[ood])
    balanced = reweighting_target_balanced(d1[tr], d2[tr])
    return (
        effective_sample_share(weights),
        unsupported_test_share(d1[tr], d2[tr], d1[ood], d2[ood]),
        balanced.ess_share,
        balanced.empty_quadrants,
    )


def _reweighting_metrics(
    now: tuple[float, float, float, tuple[str, ...]], at_zero: tuple[float, float, float, tuple[str, ...]], n_train: int
) -> tuple[Metric, ...]:
    ess, unsupported, balanced, empty = now
    ess0, unsupported0, balanced0, _ = at_zero
    at_rho_zero = "vs ρ = 0"
    if {"Q2", "Q4"} <= set(empty):
        # every weight is 1, so its ESS reads 100%: not good news, the remedy cannot act
        kept = Metric(
            "Data kept by balancing the quadrants",
            "—",
            balanced,
            "No training pair disagrees: the balancing remedy has nothing to reweight.",
            "Balancing gives the four quadrants equal weight; with quadrants 2 and 4 empty it "
            "can only give weight to pairs that do not exist, so it trains as the plain model.",
        )
    else:
        partial = f" ({' and '.join(empty)} empty: the others share its weight)" if empty else ""
        kept = Metric(
            "Data kept by balancing the quadrants",
            percent(balanced),
            balanced,
            "What the balancing remedy keeps of the data's worth" + partial + ".",
            f"The remedy weights the four quadrants equally, as at ρ = 0; its effective sample share "
            f"is what that costs (the same draw at ρ = 0 keeps {percent(balanced0)}).",
            points_delta(balanced, balanced0),
            "normal",
            at_rho_zero,
        )
    few = "; too few to trust" if ess < 0.10 else ""
    return (
        Metric(
            "Effective training pairs for the OOD test",
            percent(ess),
            ess,
            f"Reweighted to look like the OOD test, the {n_train:,} pairs count as {ess * n_train:,.0f}{few}.",
            f"Kish effective sample size of the importance weights; at most 50%, since OOD pairs lie in "
            f"quadrants 2/4 only and pairs in 1/3 get weight 0. At ρ = 0 the same draw keeps {percent(ess0)}.",
            points_delta(ess, ess0),
            "normal",
            at_rho_zero,
        ),
        Metric(
            "OOD test pairs no reweighting reaches",
            percent(unsupported),
            unsupported,
            "No training pair near them at all: weights cannot create data.",
            f"Share of OOD test pairs in histogram cells without a single training pair; "
            f"at ρ = 0: {percent(unsupported0)}.",
            points_delta(unsupported, unsupported0),
            "inverse",
            at_rho_zero,
        ),
        kept,
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

    at_rho_zero = "vs ρ = 0"
    metrics = [
        Metric(
            "Achieved training ρ",
            f"{achieved:.3f}",
            achieved,
            f"Target ρ = {rho:g}: how strongly the two factors rise together in training.",
            f"The sampler reaches the target within ±0.02; the whole pool of {d1.size:,} candidate "
            f"pairs (factors drawn independently) has ρ = {pearson(d1, d2):.3f}.",
        ),
    ]
    n_q24 = round(summary.q24_train * summary.n_train)
    if discrete:
        q24_detail = (
            f"The Gaussian reference 1/2 − arcsin(ρ)/π = {summary.q24_gaussian:.3f} applies only to "
            f"continuous, Gaussian-like factors; here {percent(train_masses['axes'])} of the "
            f"training pairs tie in a factor, so read the share without ties beside it. "
            f"Whole pool: {percent(pool_masses['q24'])}."
        )
    else:
        q24_detail = (
            f"The Gaussian reference 1/2 − arcsin(ρ)/π = {summary.q24_gaussian:.3f} at the achieved ρ "
            f"(continuous, Gaussian-like factors; 0.500 at ρ = 0); whole pool: "
            f"{percent(pool_masses['q24'])}."
        )
    metrics.append(
        Metric(
            "Training pairs in quadrants 2/4",
            percent(summary.q24_train),
            summary.q24_train,
            f"{n_q24:,} of {summary.n_train:,} pairs show the model how the two factors trade off.",
            q24_detail,
            points_delta(summary.q24_train, baseline.q24_train),
            "normal",
            at_rho_zero,
        )
    )
    if discrete:
        pool_off = 1.0 - pool_masses["axes"]
        pool_q24_off = pool_masses["q24"] / pool_off if pool_off > 0 else 0.0
        metrics.append(
            Metric(
                "Quadrants 2/4 among pairs without ties",
                percent(summary.q24_off_axes),
                summary.q24_off_axes,
                f"Ties teach nothing about the trade-off; below {WARN_Q24:.0%} overlap is poor.",
                f"Pairs that tie in a factor say nothing about the trade-off; among the others "
                f"{percent(summary.q24_off_axes)} disagree, against {percent(pool_q24_off)} in the whole pool.",
                points_delta(summary.q24_off_axes, baseline.q24_off_axes),
                "normal",
                at_rho_zero,
            )
        )
    metrics.append(
        Metric(
            "OOD test pairs poorly covered",
            percent(summary.poorly_covered_share),
            summary.poorly_covered_share,
            f"Test pairs with almost no training pairs nearby; above {WARN_POORLY_COVERED:.0%} overlap is poor.",
            f"Share of the {summary.n_test:,} OOD test pairs (factors disagree) in a cell holding fewer than "
            f"{THRESHOLD_SHARE:.1%} of the training pairs; a draw at ρ = 0 from the same pool leaves "
            f"{percent(baseline.poorly_covered_share)}.",
            points_delta(summary.poorly_covered_share, baseline.poorly_covered_share),
            "inverse",
            at_rho_zero,
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
        f"Standardised mean differences, OOD test against training (|SMD| above {SMD_FLAG:g} is flagged). "
        f"Each factor alone can look balanced; the product d1·d2 ({product_smd:+.2f}) shows the shift."
    )

    figure = overlap_figure(d1[tr], d2[tr], d1[ood], d2[ood], factor_names=(factor_a, factor_b), seed=seed)
    jitter = " (jittered so that stacked pairs show)" if all(integer) else ""
    figure_reading = (
        f"Teal: training pairs; grey: OOD test pairs, red where training pairs are scarce{jitter}. "
        f"Shaded quadrants 2/4: pairs where {factor_a} and {factor_b} disagree, the only ones that teach the trade-off."
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
        metrics=without_deltas(metrics) if rho == 0 else tuple(metrics),
        reweighting=without_deltas(reweighting) if rho == 0 else reweighting,
        balance=balance,
        balance_reading=balance_reading,
        figure=figure,
        figure_reading=figure_reading,
        warning=_warning(summary),
    )


def _warning(summary: OverlapSummary) -> str | None:
    """A short version of the engine's warning: what poor overlap means for the user."""
    if summary.warning is None:
        return None
    return (
        f"Poor overlap: only {summary.q24_train:.1%} of the training pairs disagree, and "
        f"{summary.poorly_covered_share:.0%} of the test pairs have almost no training pairs nearby. "
        "Expect out-of-distribution accuracy well below in-distribution accuracy."
    )
