"""The Interventions page without streamlit: which extra labels buy back accuracy where the
training data do not reach (issue 15).

A sweep (causalpref.interventions.run) trains the base training set at one ρ plus, for every
chosen strategy and budget, the same base set with that many extra labelled pairs; for a given
seed the base set, the test sets and the initial weights are the same across strategies, so
every strategy is compared with "more of the same" (observational) pair by pair. This module
turns such a sweep into what the page shows at a chosen budget B:

- the headline split's accuracy against the budget, one line per strategy with a ± 1 sd band
  over seeds, the references (the base set alone, the reweighting remedy on it, the model
  trained at ρ = 0) as labelled horizontal lines;
- cards: the base set, observational at B, the best strategy at B, each with its baseline;
- a cost table: accuracy at B, the paired difference against observational at every budget
  with its standard error, and the labels needed to recover half of the loss;
- the engine's one-line reading of the whole sweep and one computed at B;
- where the extra labels of one strategy went: the (d1, d2) plane (Experiment 1) or the
  (prompt type, objective) cells (Experiment 2), before and after.

No number here is typed: all come from the sweep, through causalpref.interventions.summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref.errors import CausalPrefError
from causalpref.interventions import strategies as registry
from causalpref.interventions import summary
from causalpref.interventions.run import portions
from causalpref.interventions.spec import InterventionSpec, default_spec
from causalpref.run.sweep import Sweep
from causalpref.ui.format import percent
from causalpref.ui.plots_interventions import budget_curves_figure, cells_figure, plane_figure, strategy_colour

EXPERIMENTS = ("exp1", "exp2")
EXPERIMENT_LABELS = {
    "exp1": "Correlated factors (Experiment 1)",
    "exp2": "User objectives (Experiment 2)",
}
RHO_OPTIONS = {"exp1": (0.5, 0.6, 0.7, 0.8, 0.9, 0.95), "exp2": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)}
DEFAULT_RHO = 0.9
BUDGET_OPTIONS = default_spec("exp1").budgets  # the interactive default's budgets
DEFAULT_BUDGET = 200
SPLIT_LABELS = {"ood": "OOD accuracy", "inconsistent": "Inconsistent accuracy"}
SPLIT_DETAILS = {"ood": "test pairs where the two factors disagree", "inconsistent": "test pairs with t ≠ c"}
SPLIT_SHORT = {"ood": "OOD accuracy", "inconsistent": "inconsistent accuracy"}
OBSERVATIONAL = "observational"
CLEAR_SE = 2.0  # a paired difference of more than this many standard errors reads as clear


# --------------------------------------------------------------------------- the registry and the spec


def strategy_controls() -> list[tuple[str, str, str]]:
    """(name, label, description) of every strategy of either experiment, each once, in the
    registry's order: the page's strategy toggles."""
    seen: dict[str, tuple[str, str, str]] = {}
    for experiment in EXPERIMENTS:
        for s in registry.strategies_for(experiment):
            seen.setdefault(s.name, (s.name, s.label, s.description))
    return list(seen.values())


def strategy_names(experiment: str) -> tuple[str, ...]:
    return registry.strategy_names(experiment)


def page_spec(experiment: str, rho: float) -> InterventionSpec:
    """The sweep the page trains at one ρ: the interactive default (every strategy the world
    allows, every budget, 3 seeds). The strategy toggles and the budget only choose what is
    shown, so they never retrain; the lesson reads the same sweep."""
    if experiment not in EXPERIMENTS:
        raise CausalPrefError(f"unknown experiment {experiment!r}; choose from {list(EXPERIMENTS)}")
    return default_spec(experiment, rho=float(rho))


def availability(spec: InterventionSpec) -> dict[str, str | None]:
    """Strategy name -> None (the world allows it) or the reason it does not."""
    return registry.availability(spec)


def training_size(spec: InterventionSpec) -> tuple[int, float]:
    """(models the sweep trains, its training work as a multiple of the base spec's): per seed
    and architecture the base set, the two references, every strategy at every budget above 0,
    and each active round (trained on the base set plus what was asked so far)."""
    base = spec.base
    n, val = base.sizes.train, base.sizes.val
    sizes = [n, n, n]  # the base set, reweighting, the reference set of the same size
    for name in spec.strategies:
        for budget in spec.budgets:
            if budget == 0:
                continue
            if name == "active":
                sizes += list(n + np.cumsum(portions(budget, spec.rounds)))
            else:
                sizes.append(n + budget)
    copies = len(base.seeds) * len(base.models)
    return len(sizes) * copies, float(sum(size + val for size in sizes)) / (n + val)


def describe(spec: InterventionSpec) -> str:
    """What the progress bar names: the experiment, ρ, strategies × budgets × seeds."""
    models, _ = training_size(spec)
    return (
        f"the intervention sweep ({EXPERIMENT_LABELS[spec.experiment]}, ρ = {spec.rho:g}: "
        f"{len(spec.strategies)} strategies × {len(spec.budgets) - 1} budgets × {len(spec.base.seeds)} seeds, "
        f"{models} models)"
    )


# --------------------------------------------------------------------------- small readers


def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value)


def points(value: float, se: float | None = None) -> str:
    """'+3.2 ± 1.1 points' (a minus sign, not a hyphen)."""
    if not _finite(value):
        return "—"
    text = f"{value:+.1f}".replace("-", "−")
    if _finite(se):
        text += f" ± {se:.1f}"
    return text + " points"


def _at(curves: pd.DataFrame, strategy: str, budget: int) -> pd.Series | None:
    rows = curves[(curves["strategy"] == strategy) & (curves["budget"] == budget)]
    return None if rows.empty else rows.iloc[0]


def base_value(curves: pd.DataFrame, strategies) -> tuple[float, float]:
    """(mean %, sd %) of the base training set alone: any strategy at budget 0 (they share the
    base set), observational first."""
    for name in [OBSERVATIONAL, *strategies]:
        row = _at(curves, name, 0)
        if row is not None:
            return float(row["mean"]), float(row["sd"])
    return float("nan"), float("nan")


# --------------------------------------------------------------------------- cards and readings


@dataclass(frozen=True)
class Card:
    """One st.metric with its caption (appkit.metric_row reads these fields)."""

    label: str
    value: str
    delta: str | None
    reading: str
    detail: str = ""
    delta_color: str = "normal"
    delta_description: str | None = None


def best_at(curves: pd.DataFrame, strategies, budget: int) -> str | None:
    """The strategy with the highest mean accuracy at `budget` (None if none has a value)."""
    found = [(float(row["mean"]), name) for name in strategies if (row := _at(curves, name, budget)) is not None]
    found = [(value, name) for value, name in found if math.isfinite(value)]
    return max(found)[1] if found else None


def paired_at(paired: pd.DataFrame, strategy: str, budget: int) -> tuple[float, float]:
    rows = paired[(paired["strategy"] == strategy) & (paired["budget"] == budget)]
    if rows.empty:
        return float("nan"), float("nan")
    return float(rows.iloc[0]["diff"]), float(rows.iloc[0]["se"])


def cards(
    curves, paired, strategies, labels: Mapping[str, str], budget: int, split: str, rho0: float, rho0_label: str
) -> list[Card]:
    """Base set, observational at B, best strategy at B, each against its baseline; `rho0` is the
    accuracy of the model trained without the confounding (`rho0_label` says how)."""
    short = SPLIT_SHORT[split]
    base, base_sd = base_value(curves, strategies)
    rho0_text = f"; {rho0_label[:1].lower() + rho0_label[1:]}: {percent(rho0, 1)}" if _finite(rho0) else ""
    out = [
        Card(
            label=f"Base set, {short}",
            value=percent(base, 1),
            delta=None,
            detail=f"± {base_sd:.1f} over seeds",
            reading=f"no extra labels; chance 50%{rho0_text}",
        )
    ]
    obs = _at(curves, OBSERVATIONAL, budget) if OBSERVATIONAL in strategies else None
    if obs is not None:
        out.append(
            Card(
                label=f"Observational, {budget} labels",
                value=percent(float(obs["mean"]), 1),
                delta=f"{float(obs['mean']) - base:+.1f} vs base set".replace("-", "−"),
                detail=f"± {float(obs['sd']):.1f} over seeds",
                reading="more pairs at the same ρ",
            )
        )
    best = best_at(curves, strategies, budget)
    if best is not None:
        row = _at(curves, best, budget)
        if best != OBSERVATIONAL and obs is not None:
            diff, se = paired_at(paired, best, budget)
            delta = f"{diff:+.1f} ± {se:.1f} vs observational".replace("-", "−")
        else:
            delta = f"{float(row['mean']) - base:+.1f} vs base set".replace("-", "−")
        out.append(
            Card(
                label=f"Best at {budget} labels: {labels.get(best, best)}",
                value=percent(float(row["mean"]), 1),
                delta=delta,
                detail=f"± {float(row['sd']):.1f} over seeds",
                reading="paired over the same base sets and seeds" if best != OBSERVATIONAL else "no strategy beats it",
            )
        )
    return out


def budget_reading(curves, paired, strategies, labels: Mapping[str, str], budget: int, split: str) -> str:
    """One sentence at the chosen budget: the best strategy, its paired difference against
    observational with its standard error, and whether that difference is clear."""
    short = SPLIT_SHORT[split]
    base, _ = base_value(curves, strategies)
    if budget == 0:
        return (
            f"With no extra labels every strategy is the base set: {short} {percent(base, 1)}. "
            "Move the budget to compare what the strategies buy."
        )
    best = best_at(curves, strategies, budget)
    if best is None:
        return f"No strategy has results at {budget} labels."
    row = _at(curves, best, budget)
    head = (
        f"With {budget} extra labels, {labels.get(best, best)} reaches {short} {percent(float(row['mean']), 1)} "
        f"(± {float(row['sd']):.1f} over {int(row['n'])} seeds; base set {percent(base, 1)})"
    )
    if best == OBSERVATIONAL or OBSERVATIONAL not in strategies:
        return head + "."
    diff, se = paired_at(paired, best, budget)
    obs = _at(curves, OBSERVATIONAL, budget)
    clear = _finite(se) and se > 0 and abs(diff) > CLEAR_SE * se
    verdict = "a clear difference" if clear else "within two standard errors: not a clear difference"
    return (
        f"{head}: {points(diff, se)} against observational's {percent(float(obs['mean']), 1)} on the same "
        f"base sets — {verdict}."
    )


# --------------------------------------------------------------------------- the cost table


def cost_table(
    curves: pd.DataFrame,
    paired: pd.DataFrame,
    to_half: pd.DataFrame,
    strategies,
    labels: Mapping[str, str],
    budget: int,
    split: str,
) -> pd.DataFrame:
    """Per strategy: accuracy at B (mean ± sd), the paired difference against observational at
    every budget (± its standard error) and the labels needed to recover half of the loss
    (half the way from the base set back to the ρ = 0 model; "not reached" where it is not)."""
    budgets = sorted(b for b in curves["budget"].unique() if b > 0)
    rows = []
    for name in strategies:
        at = _at(curves, name, budget)
        row = {
            "strategy": labels.get(name, name),
            f"{SPLIT_SHORT[split]} at {budget} labels %": "—"
            if at is None
            else f"{float(at['mean']):.1f} ± {float(at['sd']):.1f}",
        }
        need = to_half[to_half["strategy"] == name]["labels"] if "labels" in to_half else pd.Series([], dtype=float)
        value = float(need.iloc[0]) if len(need) else float("nan")
        row["labels to recover half the loss"] = f"{value:,.0f}" if math.isfinite(value) else "not reached"
        for b in budgets:
            if name == OBSERVATIONAL:
                row[f"vs observational at {b}"] = "reference"
            else:
                diff, se = paired_at(paired, name, b)
                row[f"vs observational at {b}"] = points(diff, se).removesuffix(" points")
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- where the labels went


def chosen_rows(frame: pd.DataFrame, strategy: str | None, budget: int | None, seed) -> pd.DataFrame:
    rows = frame
    if "seed" in rows and seed is not None:
        rows = rows[rows["seed"] == seed]
    if strategy is not None and "strategy" in rows:
        rows = rows[rows["strategy"] == strategy]
    if budget is not None and "budget" in rows:
        rows = rows[rows["budget"] == budget]
    return rows


CELL_NAMES = {0: "helpful", 1: "harmless"}


def cell_counts(base: pd.DataFrame, added: pd.DataFrame) -> pd.DataFrame:
    """Experiment 2: training pairs per (prompt type t, objective c) cell before (`base`) and
    the extra ones (`added`): cell, t, c, consistent, base, added."""
    for what, frame in (("base", base), ("added", added)):
        missing = [c for c in ("prompt_type", "objective") if c not in frame.columns]
        if missing:
            raise CausalPrefError(f"cell_counts: the {what} pairs lack the column(s) {missing}")
    rows = []
    for t in (0, 1):
        for c in (0, 1):
            rows.append(
                {
                    "cell": f"t = {CELL_NAMES[t]}, c = {CELL_NAMES[c]}",
                    "t": t,
                    "c": c,
                    "consistent": t == c,
                    "base": int(((base["prompt_type"] == t) & (base["objective"] == c)).sum()),
                    "added": int(((added["prompt_type"] == t) & (added["objective"] == c)).sum()),
                }
            )
    return pd.DataFrame(rows)


def positivity_figure(
    details: Mapping[str, pd.DataFrame],
    experiment: str,
    strategy: str,
    budget: int,
    label: str,
    colour: str,
    seed=None,
) -> go.Figure | None:
    """Where the extra labels of `strategy` at `budget` went, for one seed (the first by
    default): None when the sweep keeps no record of the pairs."""
    if "base" not in details or "added" not in details:
        return None
    base, added = details["base"], details["added"]
    if seed is None:
        seeds = sorted(base["seed"].unique()) if "seed" in base else [None]
        seed = seeds[0] if seeds else None
    base_rows = chosen_rows(base, None, None, seed)
    added_rows = chosen_rows(added, strategy, budget, seed)
    if experiment == "exp1":
        return plane_figure(base_rows, added_rows, label, colour)
    return cells_figure(cell_counts(base_rows, added_rows), label, colour)


# --------------------------------------------------------------------------- URL values


def bad_params(state, params: Mapping[str, list[str]], options: Mapping[str, tuple] | None = None) -> list[str]:
    """One plain line for each URL value this page's controls cannot take (the page falls back to
    the default): `params` key -> the URL's values (st.query_params.get_all); `options` the
    options given at render time (e.g. ρ of the chosen experiment)."""
    from causalpref.ui.state import MISSING

    lines = []
    for control in state:
        raw = params.get(control.key)
        if not raw:
            continue
        c = control.with_(options=options[control.key]) if options and control.key in options else control
        if c.parse(raw) is not MISSING:
            continue
        if c.options:
            expected = "one of " + ", ".join(c.label_of(o) if c.kind != "select_slider" else str(o) for o in c.options)
        elif c.kind == "toggle":
            expected = "true or false"
        elif c.range:
            expected = f"a number from {c.range[0]:g} to {c.range[1]:g} in steps of {c.range[2]:g}"
        else:
            expected = "a valid value"
        default = c.label_of(c.default) if c.kind != "toggle" else str(c.default).lower()
        lines.append(f"The link sets {c.key}={raw[-1]!r}, which {c.short} cannot take ({expected}); using {default}.")
    return lines


@dataclass
class InterventionsView:
    experiment: str
    split: str
    budget: int
    strategies: tuple[str, ...]  # the strategies the sweep trained, in the registry's order
    labels: dict[str, str]
    colours: dict[str, str]
    cards: list[Card]
    curves: go.Figure
    table: pd.DataFrame
    reading: str  # the engine's one line over the whole sweep
    budget_reading: str  # one line at the chosen budget
    references: list = field(default_factory=list)  # (label, mean %, sd %)
    numbers: pd.DataFrame | None = None  # summary.curves in percent: strategy, budget, mean, sd, n
    paired: pd.DataFrame | None = None  # summary.paired_differences: strategy, budget, diff, se
    half: pd.DataFrame | None = None  # summary.labels_to_half: strategy, labels (NaN: not reached)


def _reference(curves: pd.DataFrame, name: str) -> tuple[float, float]:
    row = _at(curves, name, 0)
    return (float("nan"), float("nan")) if row is None else (float(row["mean"]), float(row["sd"]))


def interventions_view(sweep: Sweep, spec: InterventionSpec, budget: int, shown) -> InterventionsView:
    """What the page shows for a trained sweep at the chosen budget, for the strategies `shown`
    (the toggles that are on; the sweep trained every strategy the world allows)."""
    experiment = spec.experiment
    split = summary.HEADLINE[experiment]
    results = sweep.results
    if budget not in spec.budgets:
        raise CausalPrefError(f"the sweep has no budget {budget}; it trained {list(spec.budgets)}")
    names = registry.labels(experiment)
    strategies = tuple(s for s in spec.strategies if s in set(shown))
    colours = {name: strategy_colour(i) for i, (name, _, _) in enumerate(strategy_controls())}
    curves = summary.curves(results, split)  # in percent, as every number below
    paired = summary.paired_differences(results, split)
    half = summary.labels_to_half(results, split)
    rho0, rho0_sd = _reference(curves, registry.RHO0)
    base, base_sd = base_value(curves, spec.strategies)
    reweighting, reweighting_sd = _reference(curves, registry.REWEIGHTING)
    references = [
        ("Base set, no extra labels", base, base_sd),
        (names[registry.REWEIGHTING], reweighting, reweighting_sd),
        (names[registry.RHO0], rho0, rho0_sd),
    ]
    figure = budget_curves_figure(
        curves,
        {s: (names[s], colours[s]) for s in strategies},
        references,
        SPLIT_LABELS[split],
        budget,
        SPLIT_DETAILS[split],
    )
    return InterventionsView(
        experiment=experiment,
        split=split,
        budget=budget,
        strategies=strategies,
        labels=names,
        colours=colours,
        cards=cards(curves, paired, strategies, names, budget, split, rho0, names[registry.RHO0]) if strategies else [],
        curves=figure,
        table=cost_table(curves, paired, half, strategies, names, budget, split),
        reading=summary.reading(results[results["strategy"].isin(strategies + registry.REFERENCES)], split)
        if strategies
        else "",
        budget_reading=budget_reading(curves, paired, strategies, names, budget, split) if strategies else "",
        references=references,
        numbers=curves,
        paired=paired,
        half=half,
    )


def where_labels_went(sweep: Sweep, spec: InterventionSpec, view: InterventionsView, strategy: str) -> go.Figure | None:
    """The positivity picture of one shown strategy at the view's budget (first seed)."""
    return positivity_figure(
        sweep.details, spec.experiment, strategy, view.budget, view.labels[strategy], view.colours[strategy]
    )
