"""What each lesson reveals, computed by the lab's engine and views — never typed in.

A lesson file names one computation here (front matter `compute:`). A computation says
which settings it takes (parsed and checked), which sweeps it needs (the page trains or
loads them through `appkit.sweep`, the tests through `runs.run_cached`), and which values,
numbers, choice answers, figures and tables it hands back. Every number comes from the
existing engine: `views.correlation.correlation_view`, `views.overlap.overlap_view`,
`views.toy.spread_view`, `views.objectives.objectives_view`, `train.btl_loss`,
`views.interventions.interventions_view`. The sweeps
are those the full pages train at the same settings, so a lesson's "open the full page"
link finds them in the cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.data.worlds.synthetic import SCALES
from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import quadrant_24_mass
from causalpref.run.specs import INTERACTIVE_RHOS
from causalpref.run.sweep import Sweep, merge_sweeps
from causalpref.stats import CHANCE
from causalpref.train.loop import btl_loss
from causalpref.ui.format import percent
from causalpref.ui.views import interventions as iv
from causalpref.ui.views import objectives as ov
from causalpref.ui.views.correlation import correlation_view, page_spec
from causalpref.ui.views.overlap import RHO_OPTIONS as OVERLAP_RHOS
from causalpref.ui.views.overlap import default_pair, overlap_view
from causalpref.ui.views.toy import SPREAD_RHOS, spread_view
from causalpref.variants import variant_name

__all__ = ["COMPUTATIONS", "Computation", "Outcome", "SweepNeed"]


@dataclass(frozen=True)
class SweepNeed:
    """One sweep a lesson needs: what `appkit.sweep(kind, spec, what)` takes."""

    kind: str
    spec: Any
    what: str


@dataclass
class Outcome:
    """What a computation hands back: text for the placeholders, numbers a slider guess is
    checked against, the id of the right option of a choice question, figures and tables."""

    text: dict[str, str]
    numbers: dict[str, float] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Computation:
    name: str
    description: str
    settings: dict[str, Callable[[str], Any]]  # setting -> parser of its text (raises CausalPrefError)
    values: tuple[str, ...]  # placeholders it fills (besides the settings)
    numbers: tuple[str, ...]  # values a slider guess can be checked against (same unit)
    outcomes: dict[str, tuple[str, ...]]  # choice answer -> the option ids it can take
    figures: tuple[str, ...]
    tables: tuple[str, ...]
    needs: Callable[[dict], list[SweepNeed]]
    run: Callable[[dict, list[Sweep]], Outcome]


# --------------------------------------------------------------------------- setting parsers


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise CausalPrefError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise CausalPrefError(f"expected a number from {low:g} to {high:g}, got {text!r}")
        return value

    return parse


def _one_of(options) -> Callable[[str], Any]:
    options = tuple(options)

    def parse(text: str):
        for option in options:
            if isinstance(option, str):
                if text == option:
                    return option
            else:
                try:
                    if math.isclose(float(text), option, abs_tol=1e-9):
                        return option
                except ValueError:
                    pass
        raise CausalPrefError(
            f"expected one of {', '.join(f'{o:g}' if not isinstance(o, str) else o for o in options)}, got {text!r}"
        )

    return parse


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise CausalPrefError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise CausalPrefError(f"expected a whole number from {low} to {high}, got {text!r}")
        return value

    return parse


# --------------------------------------------------------------------------- formatting


def _in_percent(value: float | None) -> str:
    """An accuracy or share already in percent, as the pages print it."""
    return percent(value, scale=1)


def _points(value: float) -> str:
    return f"{value:.1f} points"


def _signed_points(value: float) -> str:
    return f"{value:+.1f} points".replace("-", "−")


# --------------------------------------------------------------------------- shared sweeps


def _correlation_need(settings: dict) -> list[SweepNeed]:
    spec = page_spec(settings["scale"])
    return [SweepNeed("exp1", spec, f"the Experiment-1 sweep ({len(spec.rhos)} ρ × {len(spec.seeds)} seeds)")]


def _objectives_need(lam: float, model: str) -> SweepNeed:
    spec = ov.objectives_spec(lam, model)
    return SweepNeed("exp2", spec, ov.spec_description([spec]))


# --------------------------------------------------------------------------- lesson 1: pairs


def _run_pairs(s: dict, sweeps: list[Sweep]) -> Outcome:
    high, low, shift = s["high"], s["low"], s["shift"]
    margins = torch.tensor([[high - low], [(high + shift) - (low + shift)]], dtype=torch.float64)
    losses = btl_loss(margins, torch.ones_like(margins)).tolist()  # -log P(first wins), per model
    loss_a, loss_b = losses
    if math.isclose(loss_a, loss_b, rel_tol=1e-9, abs_tol=1e-12):
        verdict = "same"
    else:
        verdict = "a" if loss_a < loss_b else "b"
    sweep = sweeps[0]
    world = CorrelatedFactorsWorld(scale=s["scale"])
    view = correlation_view(sweep, s["rho"], world.a)
    oracle_id = float(view.baselines.set_index("split").loc["ID", "true reward (oracle) %"])
    n_train = page_spec(s["scale"]).sizes.train
    return Outcome(
        text={
            "p_a": _in_percent(100 * math.exp(-loss_a)),
            "p_b": _in_percent(100 * math.exp(-loss_b)),
            "loss_a": f"{loss_a:.4f}",
            "loss_b": f"{loss_b:.4f}",
            "high_b": f"{high + shift:g}",
            "low_b": f"{low + shift:g}",
            "id": _in_percent(view.id.value),
            "oracle_id": _in_percent(oracle_id),
            "chance": _in_percent(100 * CHANCE),
            "a_hat": f"{view.a_hat:.2f}",
            "a": f"{world.a:g}",
            "n_train": f"{n_train:,}",
        },
        numbers={"id": view.id.value, "a_hat": view.a_hat},
        choices={"verdict": verdict},
        figures={"boundary": view.boundary, "curves": view.curves},
    )


PAIRS = Computation(
    name="pairs",
    description="BTL probabilities of two rewards and of the same rewards shifted (train.btl_loss); "
    "the Correlation shift model at ρ (accuracy, implied â, decision boundary)",
    settings={
        "rho": _one_of(INTERACTIVE_RHOS),
        "scale": _one_of(SCALES),
        "high": _number(-100, 100),
        "low": _number(-100, 100),
        "shift": _number(-100, 100),
    },
    values=("p_a", "p_b", "loss_a", "loss_b", "high_b", "low_b", "id", "oracle_id", "chance", "a_hat", "a", "n_train"),
    numbers=("id", "a_hat"),
    outcomes={"verdict": ("a", "b", "same")},
    figures=("boundary", "curves"),
    tables=(),
    needs=_correlation_need,
    run=_run_pairs,
)


# --------------------------------------------------------------------------- lesson 2: overlap


def _run_overlap(s: dict, sweeps: list[Sweep]) -> Outcome:
    world, scale, rho, seed = s["world"], s["scale"], s["rho"], s["seed"]
    first, second = default_pair(world)
    view = overlap_view(world, scale, first, second, rho, seed)
    rows = []
    for r in sorted(set(SPREAD_RHOS) | {rho}):
        other = view if r == rho else overlap_view(world, scale, first, second, r, seed)
        rows.append(
            {
                "ρ": r,
                "achieved ρ": round(other.achieved_rho, 3),
                "training pairs in quadrants 2/4 %": round(100 * other.summary.q24_train, 1),
                "1/2 − arcsin(ρ)/π %": round(100 * quadrant_24_mass(r), 1),
                "OOD test pairs poorly covered %": round(100 * other.summary.poorly_covered_share, 1),
            }
        )
    summary, baseline = view.summary, view.baseline
    q24 = 100 * summary.q24_train
    return Outcome(
        text={
            "q24": _in_percent(q24),
            "q24_formula": _in_percent(100 * summary.q24_gaussian),  # at the achieved ρ
            "q24_zero": _in_percent(100 * baseline.q24_train),
            "achieved_rho": f"{view.achieved_rho:.3f}",
            "n_train": f"{summary.n_train:,}",
            "n_disagree": f"{round(summary.q24_train * summary.n_train):,}",
            "n_test": f"{summary.n_test:,}",
            "poor": _in_percent(100 * summary.poorly_covered_share),
            "poor_zero": _in_percent(100 * baseline.poorly_covered_share),
            "factor_a": first.replace("_", " "),
            "factor_b": second.replace("_", " "),
        },
        numbers={"q24": q24, "poor": 100 * summary.poorly_covered_share},
        figures={"overlap": view.figure},
        tables={"masses": pd.DataFrame(rows)},
    )


OVERLAP = Computation(
    name="overlap",
    description="views.overlap.overlap_view at ρ and at ρ = 0, 0.3, 0.6, 0.9 (no training)",
    settings={
        "world": _one_of(("correlated", "objectives")),
        "scale": _one_of(SCALES),
        "rho": _one_of(OVERLAP_RHOS),
        "seed": _whole(0, 10_000),
    },
    values=(
        "q24",
        "q24_formula",
        "q24_zero",
        "achieved_rho",
        "n_train",
        "n_disagree",
        "n_test",
        "poor",
        "poor_zero",
        "factor_a",
        "factor_b",
    ),
    numbers=("q24", "poor"),
    outcomes={},
    figures=("overlap",),
    tables=("masses",),
    needs=lambda s: [],
    run=_run_overlap,
)


# --------------------------------------------------------------------------- lesson 3: correlation


def _spread_std(rho: float, a: float, n: int, repeats: int, seed: int) -> tuple[float, Any]:
    view = spread_view(rho, a, n, repeats, seed)
    table = view.table.set_index("rho")
    return float(table.loc[rho, "std of a_hat"]), view


def _run_correlation(s: dict, sweeps: list[Sweep]) -> Outcome:
    rho, low = s["rho"], s["low"]
    world = CorrelatedFactorsWorld(scale=s["scale"])
    high_view, low_view = correlation_view(sweeps[0], rho, world.a), correlation_view(sweeps[0], low, world.a)
    spurious = float(high_view.baselines.set_index("split").loc["OOD", "wrong factor only %"])
    std_high, spread = _spread_std(rho, world.a, s["n"], s["repeats"], s["seed"])
    std_low, _ = _spread_std(low, world.a, s["n"], s["repeats"], s["seed"])
    return Outcome(
        text={
            "ood": _in_percent(high_view.ood.value),
            "id": _in_percent(high_view.id.value),
            "ood_low": _in_percent(low_view.ood.value),
            "id_low": _in_percent(low_view.id.value),
            "gap": _points(high_view.gap),
            "gap_low": _points(low_view.gap),
            "drop": _points(low_view.ood.value - high_view.ood.value),
            "a_hat": f"{high_view.a_hat:.2f}",
            "a_hat_low": f"{low_view.a_hat:.2f}",
            "a": f"{world.a:g}",
            "spurious": _in_percent(spurious),
            "chance": _in_percent(100 * CHANCE),
            "q24": _in_percent(100 * quadrant_24_mass(rho)),
            "q24_low": _in_percent(100 * quadrant_24_mass(low)),
            "std": f"{std_high:.3f}",
            "std_low": f"{std_low:.3f}",
            "n_q24": f"{s['n'] * quadrant_24_mass(rho):.0f}",
            "n_q24_low": f"{s['n'] * quadrant_24_mass(low):.0f}",
        },
        numbers={"ood": high_view.ood.value, "id": high_view.id.value, "gap": high_view.gap, "a_hat": high_view.a_hat},
        figures={"curves": high_view.curves, "boundary": high_view.boundary, "spread": spread.figure},
        tables={"spread": spread.table[["rho", "std of a_hat", "mean a_hat", "quadrant-2/4 pairs expected"]]},
    )


CORRELATION = Computation(
    name="correlation",
    description="views.correlation.correlation_view at ρ and at a low ρ (the Correlation shift sweep); "
    "views.toy.spread_view (â refitted on n pairs)",
    settings={
        "rho": _one_of(INTERACTIVE_RHOS),
        "low": _one_of(INTERACTIVE_RHOS),
        "scale": _one_of(SCALES),
        "n": _whole(20, 500),
        "repeats": _whole(50, 500),
        "seed": _whole(0, 10_000),
    },
    values=(
        "ood",
        "id",
        "ood_low",
        "id_low",
        "gap",
        "gap_low",
        "drop",
        "a_hat",
        "a_hat_low",
        "a",
        "spurious",
        "chance",
        "q24",
        "q24_low",
        "std",
        "std_low",
        "n_q24",
        "n_q24_low",
    ),
    numbers=("ood", "id", "gap", "a_hat"),
    outcomes={},
    figures=("curves", "boundary", "spread"),
    tables=("spread",),
    needs=_correlation_need,
    run=_run_correlation,
)


# --------------------------------------------------------------------------- lesson 4: objectives


def _which_worse(inconsistent: float, consistent: float) -> str:
    """Which pairs a model gets wrong more often; within ov.CLOSE_POINTS reads as neither."""
    if abs(consistent - inconsistent) < ov.CLOSE_POINTS:
        return "neither"
    return "inconsistent" if inconsistent < consistent else "consistent"


def _run_objectives(s: dict, sweeps: list[Sweep]) -> Outcome:
    model = s["model"]
    text, numbers = {}, {}
    views = {}
    for suffix, rho in (("", s["rho"]), ("_low", s["low"]), ("_top", s["top"])):
        view = ov.objectives_view(sweeps[0], rho, (model,), lam=s["lam"])
        views[suffix] = view
        numbers_ = view.model(model)
        inc, con = numbers_.inconsistent.ours, numbers_.consistent.ours
        text[f"inc{suffix}"], text[f"con{suffix}"] = _in_percent(inc), _in_percent(con)
        text[f"gap{suffix}"] = _signed_points(con - inc)
        numbers[f"inc{suffix}"], numbers[f"con{suffix}"] = inc, con
    base = views[""].baselines
    text.update(
        {
            "model": ov.label(model),
            "chance": _in_percent(base.chance),
            "prompt_type_inc": _in_percent(base.prompt_type_inconsistent),
            "prompt_type_con": _in_percent(base.prompt_type_consistent),
        }
    )
    return Outcome(
        text=text,
        numbers=numbers,
        choices={"worse": _which_worse(numbers["inc"], numbers["con"])},
        figures={"accuracy": views[""].accuracy_figure, "overfitting": views[""].overfitting_figure},
    )


OBJECTIVES = Computation(
    name="objectives",
    description="views.objectives.objectives_view for one architecture at ρ, a low and a top ρ "
    "(the User objectives sweep of that architecture)",
    settings={
        "rho": _one_of(ov.RHO_OPTIONS),
        "low": _one_of(ov.RHO_OPTIONS),
        "top": _one_of(ov.RHO_OPTIONS),
        "model": _one_of(ov.architectures()),
        "lam": _one_of(ov.LAMBDA_OPTIONS),
    },
    values=(
        "inc",
        "con",
        "gap",
        "inc_low",
        "con_low",
        "gap_low",
        "inc_top",
        "con_top",
        "gap_top",
        "model",
        "chance",
        "prompt_type_inc",
        "prompt_type_con",
    ),
    numbers=("inc", "con", "inc_low", "con_low", "inc_top", "con_top"),
    outcomes={"worse": ("consistent", "inconsistent", "neither")},
    figures=("accuracy", "overfitting"),
    tables=(),
    needs=lambda s: [_objectives_need(s["lam"], s["model"])],
    run=_run_objectives,
)


# --------------------------------------------------------------------------- lesson 5: remedies

# The remedies lesson 5 compares, by the name its text uses for each -> the model variant.
REMEDY_VARIANTS = {"multihead": "multihead", "adversarial": "adversarial", "reweighted": variant_name("base", "ipw")}
REMEDIES_MODELS = tuple(REMEDY_VARIANTS)
_COMPARED = {"base": "base", **REMEDY_VARIANTS}


def _remedies_needs(s: dict) -> list[SweepNeed]:
    """One sweep per variant, as the User objectives page trains them, so each is shared."""
    return [_objectives_need(s["lam"], variant) for variant in _COMPARED.values()]


def _inconsistent(sweep: Sweep, rho: float, model: str) -> float:
    rows = sweep.results[
        np.isclose(sweep.results["rho"].astype(float), rho)
        & (sweep.results["model"] == model)
        & (sweep.results["split"] == "inconsistent")
    ]
    if rows.empty:
        raise CausalPrefError(f"the sweep has no inconsistent test results for {model} at ρ = {rho:g}")
    # the mean of the percentages, exactly as views.objectives computes it, so that lesson 4
    # and the User objectives page print the same digits for the same sweep
    return float((100 * rows["accuracy"].astype(float).dropna()).mean())


def _run_remedies(s: dict, sweeps: list[Sweep]) -> Outcome:
    merged = merge_sweeps(sweeps)
    rho, top, low = s["rho"], s["top"], s["low"]
    text, numbers, rows = {}, {}, []
    for model, variant in _COMPARED.items():
        row = {"model": ov.label(variant)}
        for suffix, r in (("_low", low), ("", rho), ("_top", top)):
            value = _inconsistent(merged, r, variant)
            text[f"{model}{suffix}"], numbers[f"{model}{suffix}"] = _in_percent(value), value
            row[f"inconsistent % at ρ = {r:g}"] = round(value, 1)
        rows.append(row)
    weights = merged.details.get("weights")
    for suffix, r in (("", rho), ("_top", top)):
        share = (
            np.nan
            if weights is None
            else float(weights[np.isclose(weights["rho"].astype(float), r)]["ess_share"].mean())
        )
        text[f"ess{suffix}"] = _in_percent(100 * share)
    best = max(REMEDIES_MODELS, key=lambda m: numbers[f"{m}_top"])
    rescuer = best if numbers[f"{best}_top"] - 100 * CHANCE >= ov.CLOSE_POINTS else "none"
    text.update(
        {
            "chance": _in_percent(100 * CHANCE),
            "best_top": ov.label(_COMPARED[best]),
            "best_top_value": text[f"{best}_top"],
        }
    )
    view = ov.objectives_view(merged, top, tuple(_COMPARED.values()), lam=s["lam"])
    return Outcome(
        text=text,
        numbers=numbers,
        choices={"rescuer": rescuer},
        figures={"accuracy": view.accuracy_figure},
        tables={"inconsistent": pd.DataFrame(rows)},
    )


_REMEDY_KEYS = tuple(f"{m}{x}" for m in ("base",) + REMEDIES_MODELS for x in ("_low", "", "_top"))
REMEDIES = Computation(
    name="remedies",
    description="inconsistent accuracy of Base, Multihead, Adversarial and Reweighted (inverse-propensity "
    "weights) at a low ρ, ρ and the top ρ: the User objectives page's per-architecture sweeps",
    settings={
        "rho": _one_of(ov.RHO_OPTIONS),
        "low": _one_of(ov.RHO_OPTIONS),
        "top": _one_of(ov.RHO_OPTIONS),
        "lam": _one_of(ov.LAMBDA_OPTIONS),
    },
    values=_REMEDY_KEYS + ("ess", "ess_top", "chance", "best_top", "best_top_value"),
    numbers=_REMEDY_KEYS,
    outcomes={"rescuer": REMEDIES_MODELS + ("none",)},
    figures=("accuracy",),
    tables=("inconsistent",),
    needs=_remedies_needs,
    run=_run_remedies,
)


# --------------------------------------------------------------------------- lesson 6: interventions

INTERVENTION_STRATEGIES = iv.strategy_names("exp1")  # the lesson's options: Experiment 1's strategies


def _interventions_need(s: dict) -> list[SweepNeed]:
    """The Interventions page's sweep at ρ (all strategies, budgets and seeds), so that the
    lesson's link finds it in the cache."""
    spec = iv.page_spec("exp1", s["rho"])
    return [SweepNeed("interventions", spec, iv.describe(spec))]


def _run_interventions(s: dict, sweeps: list[Sweep]) -> Outcome:
    rho, budget = s["rho"], s["budget"]
    spec = iv.page_spec("exp1", rho)
    view = iv.interventions_view(sweeps[0], spec, budget, spec.strategies)
    curves, paired, half = view.numbers, view.paired, view.half
    winner = iv.best_at(curves, spec.strategies, budget)
    if winner is None:
        raise CausalPrefError(f"the intervention sweep has no results at {budget} labels")
    row = curves[(curves["strategy"] == winner) & (curves["budget"] == budget)].iloc[0]
    (base_label, base, _), (_, reweighting, _), (_, rho0, _) = view.references
    if winner == iv.OBSERVATIONAL:
        versus = "No intervention beat observational: more of the same was the best buy here."
    else:
        diff, se = iv.paired_at(paired, winner, budget)
        clear = "a clear difference" if se > 0 and abs(diff) > iv.CLEAR_SE * se else "within two standard errors"
        versus = f"Against observational, on the same base sets and seeds: {iv.points(diff, se)} ({clear})."
    need = half.loc[half["strategy"] == winner, "labels"]
    need = float(need.iloc[0]) if len(need) else float("nan")
    at_budget = {}
    for name in INTERVENTION_STRATEGIES:
        found = curves[(curves["strategy"] == name) & (curves["budget"] == budget)]["mean"]
        at_budget[name] = float(found.iloc[0]) if len(found) else float("nan")
    winner_label = view.labels[winner]
    return Outcome(
        text={
            "winner": winner_label,
            "winner_acc": _in_percent(float(row["mean"])),
            "winner_sd": _points(float(row["sd"])),
            "seeds": f"{int(row['n'])}",
            "versus": versus,
            **{name: _in_percent(value) for name, value in at_budget.items()},
            "base": _in_percent(base),
            "reweighting": _in_percent(reweighting),
            "rho0": _in_percent(rho0),
            "chance": _in_percent(100 * CHANCE),
            "half": f"{need:,.0f} labels"
            if math.isfinite(need)
            else f"more than the {max(spec.budgets):,} labels tried (not reached)",
            "reading": view.reading,
        },
        numbers={**at_budget, "base": base, "rho0": rho0, "winner_acc": float(row["mean"])},
        choices={"winner": winner},
        figures={"curves": view.curves, "positivity": iv.where_labels_went(sweeps[0], spec, view, winner)},
        tables={"cost": view.table},
    )


INTERVENTIONS = Computation(
    name="interventions",
    description="views.interventions.interventions_view of the Interventions page's Experiment-1 sweep at ρ "
    "(every strategy, budget and seed): the winner at the budget, each strategy's accuracy there, the "
    "paired difference against observational, the references and the labels to recover half the loss",
    settings={
        "rho": _one_of(iv.RHO_OPTIONS["exp1"]),
        "budget": _one_of(tuple(b for b in iv.BUDGET_OPTIONS if b > 0)),
    },
    values=(
        "winner",
        "winner_acc",
        "winner_sd",
        "seeds",
        "versus",
        *INTERVENTION_STRATEGIES,
        "base",
        "reweighting",
        "rho0",
        "chance",
        "half",
        "reading",
    ),
    numbers=(*INTERVENTION_STRATEGIES, "base", "rho0", "winner_acc"),
    outcomes={"winner": INTERVENTION_STRATEGIES},
    figures=("curves", "positivity"),
    tables=("cost",),
    needs=_interventions_need,
    run=_run_interventions,
)


COMPUTATIONS: dict[str, Computation] = {
    c.name: c for c in (PAIRS, OVERLAP, CORRELATION, OBJECTIVES, REMEDIES, INTERVENTIONS)
}
