"""The "User objectives" page (Experiment 2) without streamlit: its spec, numbers, readings, figures.

`objectives_spec(lam, variant)` is one sweep the page trains: the interactive default sizes,
the app's 3 seeds, all six ρ of Table 2, one model variant (an architecture with a training
weighting, e.g. "multihead" or "base+ipw"; both lists come from the registries). ρ is not part
of it, so moving the ρ slider never retrains; λ is, but only for architectures that have it.
The page trains one sweep per variant and joins them with `run.sweep.merge_sweeps`, so adding
a variant or moving λ trains only what changed.

`objectives_view(sweep, rho, models)` turns a trained sweep into what the page shows at one
ρ: per model the inconsistent and consistent test accuracy (mean over seeds, in %) beside
chance, the "reads the prompt type" baseline and the paper's Table 2; train vs test against
Table 3; the adversary's accuracy; the latent projection; and one plain reading per section.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref import paper
from causalpref.errors import CausalPrefError
from causalpref.models import architecture_names, param_names
from causalpref.run.specs import Exp2Spec
from causalpref.run.sweep import Sweep
from causalpref.stats import CHANCE
from causalpref.train.weighting import weighting_names
from causalpref.ui import plots
from causalpref.variants import split_variant, variant_markdown_colour, variant_name, variant_order

RHO_OPTIONS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
DEFAULT_RHO = 0.9
LAMBDA_OPTIONS = (0.0, 0.1, 0.3, 1.0, 3.0)
DEFAULT_LAMBDA = 1.0
APP_SEEDS = (0, 1, 2)
DEFAULT_ARCHITECTURES = ("base", "multihead", "adversarial")  # the paper's three
LAMBDA_FIELD = "adversary_lambda"


def architectures() -> tuple[str, ...]:
    """Every variant the page offers: each registered architecture, unweighted first, then with
    each Experiment-2 weighting (read from the registries on every call, so a newly registered
    architecture appears without an edit here)."""
    return tuple(variant_name(a, w) for w in weighting_names("exp2") for a in architecture_names())


def markdown_colour(model: str) -> str:
    return variant_markdown_colour(model)


CLOSE_POINTS = 5.0  # within this many points of a baseline reads as "close to" it


def label(model: str) -> str:
    return plots.model_label(model)


def chosen_models(models) -> tuple[str, ...]:
    """The chosen variants in the registries' order, each once."""
    models = [models] if isinstance(models, str) else list(models or [])
    offered = architectures()
    unknown = [m for m in models if m not in offered]
    if unknown:
        raise CausalPrefError(f"unknown architecture(s) {unknown}; choose from {list(offered)}")
    if not models:
        raise CausalPrefError("choose at least one architecture")
    return tuple(variant_order(models))


def uses_lambda(models) -> bool:
    """Whether any chosen variant's architecture has the adversary's λ."""
    return any(LAMBDA_FIELD in param_names(split_variant(m)[0]) for m in models)


def objectives_spec(lam: float, model: str) -> Exp2Spec:
    """The page's sweep of one variant: Exp2Spec's interactive sizes, seeds (0, 1, 2), every ρ;
    λ only for an architecture that has it (otherwise it is not part of the spec at all, so
    the cache keeps one entry)."""
    (model,) = chosen_models([model])
    architecture, weighting = split_variant(model)
    spec = replace(Exp2Spec(), seeds=APP_SEEDS, models=(architecture,), weighting=weighting)
    if uses_lambda([model]):
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not np.isfinite(lam) or lam < 0:
            raise CausalPrefError(f"λ must be a finite number >= 0, got {lam!r}")
        spec = spec.with_params(architecture, **{LAMBDA_FIELD: float(lam)})
    return spec


def sanity_spec(lam: float, models) -> Exp2Spec:
    """One spec of the chosen architectures, unweighted, for the sanity checks (Base if only
    weighted variants are chosen)."""
    architectures = tuple(dict.fromkeys(split_variant(m)[0] for m in chosen_models(models))) or ("base",)
    spec = replace(Exp2Spec(), seeds=APP_SEEDS, models=architectures)
    for name in architectures:
        if LAMBDA_FIELD in param_names(name):
            spec = spec.with_params(name, **{LAMBDA_FIELD: float(lam)})
    return spec


def spec_description(specs) -> str:
    """What appkit.sweep names in its progress bar: one or several of the page's sweeps."""
    specs = [specs] if isinstance(specs, Exp2Spec) else list(specs)
    names = ", ".join(label(variant_name(s.models[0], s.weighting)) for s in specs)
    lams = {getattr(p, LAMBDA_FIELD) for s in specs for _, p in s.params if hasattr(p, LAMBDA_FIELD)}
    lam = f", λ = {lams.pop():g}" if len(lams) == 1 else ""
    return f"Experiment 2 ({names}; {len(specs[0].rhos)} values of ρ × {len(specs[0].seeds)} seeds{lam})"


# ------------------------------------------------------------------ what the page shows


@dataclass(frozen=True)
class Number:
    """One accuracy [%]: ours as the mean over seeds (None when the split is empty), the paper's."""

    ours: float | None
    spread: float | None  # sample std over seeds (0 with one seed)
    seeds: int
    paper: float | None
    baseline: float | None = None  # the same model trained at the lowest ρ (0.5: no confounding)
    baseline_rho: float | None = None  # None at that ρ itself

    def text(self) -> str:
        return "—" if self.ours is None else f"{self.ours:.1f} %"

    def change(self) -> str | None:
        """'−14.9 vs ρ = 0.5': the card's delta; None at the baseline ρ or without a value."""
        if self.ours is None or self.baseline is None or self.baseline_rho is None:
            return None
        return f"{self.ours - self.baseline:+.1f} vs ρ = {self.baseline_rho:g}"

    def paper_text(self) -> str | None:
        """The paper's value as a labelled reference (never a difference), None without one."""
        return None if self.paper is None else f"paper (reference): {self.paper:.1f} %"


@dataclass(frozen=True)
class Baselines:
    """Baselines on the test pairs at this ρ [%]: chance, a model that reads the prompt type
    (ranks by the factor of objective t instead of c), and the noiseless true reward."""

    chance: float
    prompt_type_inconsistent: float
    prompt_type_consistent: float
    oracle_inconsistent: float
    oracle_consistent: float

    def text(self, split: str) -> str:
        reads = self.prompt_type_inconsistent if split == "inconsistent" else self.prompt_type_consistent
        return f"chance {self.chance:.0f} % · reads the prompt type {reads:.1f} %"


@dataclass(frozen=True)
class ModelView:
    model: str
    label: str
    colour: str
    inconsistent: Number  # test, t != c; paper: Table 2
    consistent: Number  # test, t = c; paper: Table 2
    train_inconsistent: Number  # training pairs at the selected checkpoint; paper: Table 3
    train_consistent: Number
    reading: str


@dataclass(frozen=True)
class DiscriminatorView:
    train: float  # adversary's accuracy at predicting c from z_hat [%]
    val: float
    spread: float  # std over seeds of the validation accuracy
    rho: float
    reading: str


@dataclass(frozen=True)
class GameView:
    figure: go.Figure  # the game's trace at the chosen ρ (plots.game_figure)
    reading: str  # whether the adversary won: discriminator and fresh probe against chance


@dataclass
class ObjectivesView:
    rho: float
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    lam: float | None
    per_model: tuple[ModelView, ...]
    baselines: Baselines
    reading: str  # the gap between consistent and inconsistent, all models
    accuracy_figure: go.Figure  # accuracy vs ρ in the paper's style, chosen ρ marked
    accuracy_reading: str
    overfitting_figure: go.Figure
    overfitting_table: pd.DataFrame
    overfitting_reading: str
    discriminator: DiscriminatorView | None  # only with the adversarial model
    latent_figure: go.Figure | None
    latent_table: pd.DataFrame
    latent_reading: str
    latent_seed: int | None
    results: pd.DataFrame  # the download: every ρ, the chosen models
    remedy_reading: str | None = None  # the reweighted model against Base, with its ESS
    cell_table: pd.DataFrame | None = None  # test accuracy [%] per (t, c) cell: model x cell
    game: GameView | None = None  # the adversarial game's trace, when a chosen model plays one

    def model(self, name: str) -> ModelView:
        for view in self.per_model:
            if view.model == name:
                return view
        raise KeyError(name)


def _rows(results: pd.DataFrame, rho: float, model: str | None, split: str) -> pd.DataFrame:
    keep = np.isclose(results["rho"].astype(float), rho) & (results["split"] == split)
    if model is not None:
        keep &= results["model"] == model
    return results[keep]


def _number(results, rho, model, split, table, position) -> Number:
    rows = _rows(results, rho, model, split)
    values = 100 * rows["accuracy"].astype(float).dropna()
    world = str(rows["world"].iloc[0]) if len(rows) and "world" in rows else ""
    entry = table.get(round(rho, 2), {}).get(model) if paper.shows_reference("exp2", world, model) else None
    return Number(
        ours=float(values.mean()) if len(values) else None,
        spread=float(values.std(ddof=1)) if len(values) > 1 else (0.0 if len(values) else None),
        seeds=int(len(values)),
        paper=None if entry is None else entry[position],
    )


def _mean_pct(rows: pd.DataFrame, column: str) -> float:
    values = rows[column].astype(float).dropna()
    return float(100 * values.mean()) if len(values) else float("nan")


def _baselines(results, rho) -> Baselines:
    inc, con = (_rows(results, rho, None, s) for s in ("inconsistent", "consistent"))
    return Baselines(
        chance=100 * CHANCE,
        prompt_type_inconsistent=_mean_pct(inc, "spurious_accuracy"),
        prompt_type_consistent=_mean_pct(con, "spurious_accuracy"),
        oracle_inconsistent=_mean_pct(inc, "oracle_accuracy"),
        oracle_consistent=_mean_pct(con, "oracle_accuracy"),
    )


def _relation(value: float, baseline: float) -> str:
    diff = value - baseline
    if abs(diff) < CLOSE_POINTS:
        return "close to"
    return f"{abs(diff):.1f} points {'above' if diff > 0 else 'below'}"


def _model_reading(view: ModelView, rho: float, base: Baselines) -> str:
    inc, con = view.inconsistent, view.consistent
    if inc.ours is None:
        return f"No test results for {view.label} at ρ = {rho:g}."
    paper = f"; the paper: {inc.paper:.1f} %" if inc.paper is not None else ""
    return (
        f"At ρ = {rho:g}, {view.label} ranks {inc.ours:.1f} % of inconsistent pairs correctly — "
        f"{_relation(inc.ours, base.prompt_type_inconsistent)} the {base.prompt_type_inconsistent:.1f} % a "
        f"model that reads the prompt type would score (chance {base.chance:.0f} %{paper}); on consistent "
        f"pairs it scores {con.text()} (reading the prompt type: {base.prompt_type_consistent:.0f} %)."
    )


def _gap_reading(per_model, rho) -> str:
    parts, paper_parts = [], []
    for view in per_model:
        inc, con = view.inconsistent, view.consistent
        if inc.ours is None or con.ours is None:
            continue
        parts.append(f"{view.label} {con.ours - inc.ours:.1f}")
        if inc.paper is not None and con.paper is not None:
            paper_parts.append(f"{view.label} {con.paper - inc.paper:.1f}")
    if not parts:
        return f"No test results at ρ = {rho:g}."
    text = (
        f"Confounding shows as the gap between consistent and inconsistent accuracy at ρ = {rho:g}: "
        + ", ".join(parts)
        + " points"
    )
    return text + (f" (the paper: {', '.join(paper_parts)})." if paper_parts else ".")


def _accuracy_reading(results, models) -> str:
    """How each model's inconsistent accuracy moves from the lowest to the highest ρ."""
    rhos = sorted(results["rho"].astype(float).unique())
    if len(rhos) < 2:
        return f"Only ρ = {rhos[0]:g} was trained." if rhos else "No results."
    lo, hi = rhos[0], rhos[-1]
    parts = []
    for model in models:
        a, b = (_number(results, r, model, "inconsistent", paper.TABLE2, 0).ours for r in (lo, hi))
        if a is not None and b is not None:
            parts.append(f"{label(model)} {a:.1f} → {b:.1f} %")
    text = (
        f"Inconsistent accuracy from ρ = {lo:g} (no confounding) to ρ = {hi:g} (extreme confounding): "
        + "; ".join(parts)
        + f". Chance is {100 * CHANCE:.0f} %."
    )
    world = str(results["world"].iloc[0]) if len(results) else ""
    shown = [m for m in models if paper.shows_reference("exp2", world, m)]
    low, high = (round(r, 2) for r in (min(paper.TABLE2), max(paper.TABLE2)))
    if shown and lo == low and hi == high:
        first = [paper.TABLE2[low][m][0] for m in shown]
        last = [paper.TABLE2[high][m][0] for m in shown]
        text += (
            f" For reference ({paper.PROVENANCE['TABLE2']}), the paper's models fall from "
            f"{min(first):.1f}–{max(first):.1f} % to {min(last):.1f}–{max(last):.1f} %."
        )
    return text


def _overfitting(per_model, rho) -> tuple[pd.DataFrame, str]:
    rows, parts = [], []
    for view in per_model:
        rows.append(
            {
                "model": view.label,
                "train inc. % (ours)": view.train_inconsistent.ours,
                "train inc. % (paper, Table 3)": view.train_inconsistent.paper,
                "test inc. % (ours)": view.inconsistent.ours,
                "test inc. % (paper, Table 2)": view.inconsistent.paper,
                "train con. % (ours)": view.train_consistent.ours,
                "train con. % (paper, Table 3)": view.train_consistent.paper,
                "test con. % (ours)": view.consistent.ours,
                "test con. % (paper, Table 2)": view.consistent.paper,
            }
        )
        train, test = view.train_consistent, view.consistent
        if train.ours is not None and test.ours is not None:
            paper_gap = (
                f" (paper {train.paper - test.paper:.1f})" if train.paper is not None and test.paper is not None else ""
            )
            parts.append(f"{view.label} {train.ours - test.ours:.1f}{paper_gap}")
    table = pd.DataFrame(rows)
    numeric = [c for c in table.columns if c != "model"]
    table[numeric] = table[numeric].astype(float).round(1)
    reading = (
        (
            f"Train minus test accuracy on consistent pairs at ρ = {rho:g}, in points: "
            + ", ".join(parts)
            + ". A large gap is overfitting; in the paper Base overfits most."
        )
        if parts
        else "No training results."
    )
    if np.isclose(rho, 1.0):
        reading += " At ρ = 1 there is no inconsistent training pair, so that column is empty."
    return table, reading


DISCRIMINATOR_MEANING = (
    "near 50 % means the encoder beat this discriminator (the game's fresh probe says whether c is gone "
    "from z_hat); near ρ means z_hat encodes the prompt type"
)


def _discriminator(results, rho) -> DiscriminatorView | None:
    """The adversary's read-out of the first chosen model that has one (rows 'discriminator_*')."""
    with_readout = variant_order(results[results["split"] == "discriminator_val"]["model"].unique())
    if not with_readout:
        return None
    train = 100 * _rows(results, rho, with_readout[0], "discriminator_train")["accuracy"].astype(float)
    val = 100 * _rows(results, rho, with_readout[0], "discriminator_val")["accuracy"].astype(float)
    if val.empty:
        return None
    mean, target = float(val.mean()), 100 * rho
    if np.isclose(rho, 0.5):
        verdict = "at ρ = 0.5 the prompt type says nothing about c, so both readings coincide"
    elif abs(mean - 50) <= abs(mean - target):
        verdict = f"here it is closer to 50 % than to ρ = {target:.0f} %"
    else:
        verdict = f"here it is closer to ρ = {target:.0f} % than to 50 %: z_hat still tells the prompt type"
    reading = (
        f"The adversary predicts the objective c from z_hat with {mean:.1f} % accuracy on validation pairs "
        f"({float(train.mean()):.1f} % on training pairs): {DISCRIMINATOR_MEANING}; {verdict}."
    )
    return DiscriminatorView(
        train=float(train.mean()),
        val=mean,
        spread=float(val.std(ddof=1)) if len(val) > 1 else 0.0,
        rho=rho,
        reading=reading,
    )


WON_WITHIN = 5.0  # points from chance within which the adversary beat its discriminator
PROBE_CLEAN = 60.0  # a fresh probe at or below this [%] reads c from z_hat hardly better than chance


def _game(sweep: Sweep, rho: float, models) -> GameView | None:
    """The first chosen model's game trace at ρ and λ, and whether its adversary won the game
    (the encoder hid c from the co-trained discriminator) and whether c is gone from z_hat (a
    fresh probe cannot read it either; achievable: the heads get c as an input, so z_hat never
    needs it). The two differ: at the defaults the encoder often beats its discriminator while
    a fresh probe still reads c."""
    frame = sweep.details.get("game")
    if frame is None or frame.empty:
        return None
    playing = [m for m in models if (frame["model"] == m).any()]
    if not playing:
        return None
    model, results = playing[0], sweep.results
    disc = 100 * _rows(results, rho, model, "discriminator_val")["accuracy"].astype(float)
    probe = 100 * _rows(results, rho, model, "probe_val")["accuracy"].astype(float)
    if disc.empty:
        return None
    d = float(disc.mean())
    lam = float(frame[frame["model"] == model]["lambda"].max())  # the λ it trained with (DANN: its ramp's top)
    if lam == 0:
        verdict = (
            f"λ = 0, so the adversary sends the encoder nothing (Multihead exactly) and did not play: "
            f"its discriminator only watches and reads c at {d:.1f} %"
        )
    elif abs(d - 50) <= WON_WITHIN:
        verdict = (
            f"the adversary won its game (the encoder beat its discriminator): the discriminator ends at "
            f"{d:.1f} %, within {WON_WITHIN:g} points of chance"
        )
    elif d < 50:
        verdict = (
            f"the encoder overshot: its discriminator ends at {d:.1f} %, below chance, so z_hat still "
            "tells c (read backwards)"
        )
    else:
        verdict = f"the adversary lost, the discriminator won: it reads c from z_hat at {d:.1f} % (chance 50 %)"
    reading = f"{label(model)} at ρ = {rho:g}, λ = {lam:g}: {verdict} (± {float(disc.std(ddof=1)) if len(disc) > 1 else 0:.1f} over seeds)."
    if not probe.empty:
        p = float(probe.mean())
        reading += f" A fresh probe fitted on z_hat reads c at {p:.1f} %: " + (
            "c is gone from z_hat."
            if p <= PROBE_CLEAN
            else "c is still in z_hat; a discriminator near chance only means the encoder beat that one "
            "discriminator, not that c is gone."
        )
    return GameView(figure=plots.game_figure(frame, rho, model), reading=reading)


@dataclass(frozen=True)
class LambdaCurveView:
    figure: go.Figure  # accuracies against λ at the chosen ρ (plots.lambda_curve_figure)
    table: pd.DataFrame  # one row per λ trained: accuracies [%], mean and sd over seeds
    reading: str  # the best λ on inconsistent pairs and what it costs on consistent ones


def lambda_curve_specs(specs, models, lambdas=LAMBDA_OPTIONS) -> tuple[str | None, dict[float, Exp2Spec]]:
    """(the first chosen variant with a λ, its page spec at each λ of `lambdas`); (None, {}) when
    no chosen model has a λ. `specs` are the page's specs, one per chosen variant, in order."""
    for model, spec in zip(chosen_models(models), specs):
        names = [name for name, p in spec.params if hasattr(p, LAMBDA_FIELD)]
        if uses_lambda([model]) and names:
            return model, {float(v): spec.with_params(names[0], **{LAMBDA_FIELD: float(v)}) for v in lambdas}
    return None, {}


def lambda_curve_view(sweeps: dict[float, Sweep], rho: float, model: str) -> LambdaCurveView | None:
    """The λ curve at ρ over the λ values trained so far ({λ: sweep}); None below two. The same
    rows and best λ as `exp2 --lambda` prints (run/adversary.py)."""
    from causalpref.run.adversary import best_lambda, lambda_curve_rows

    if len(sweeps) < 2:
        return None
    table = lambda_curve_rows({lam: sweeps[lam].results for lam in sorted(sweeps)}, model)
    table = table[np.isclose(table["rho"].astype(float), float(rho))].reset_index(drop=True)
    if len(table) < 2:
        return None
    best, gain, cost = best_lambda(table, rho)
    low = float(table["lambda"].min())
    reference = "λ = 0 (Multihead exactly)" if low == 0 else f"the smallest λ trained, {low:g}"
    at_best = table[table["lambda"] == best].iloc[0]
    reading = (
        f"{label(model)} at ρ = {rho:g}, over the λ values trained so far "
        f"({', '.join(f'{v:g}' for v in table['lambda'])}): the best λ on inconsistent pairs is {best:g}, "
        f"{gain:+.1f} points over {reference}, at {cost:+.1f} points on consistent pairs; there its "
        f"discriminator reads c at {at_best['disc']:.1f} % and a fresh probe at {at_best['probe']:.1f} %. "
        "Move the λ slider to add a point (each λ trains once, then stays cached)."
    )
    return LambdaCurveView(figure=plots.lambda_curve_figure(table, rho), table=table.round(1), reading=reading)


def centroid_separability(x: np.ndarray, y: np.ndarray, labels: np.ndarray) -> float:
    """Share [%] of points that lie nearer their own class mean than the other's in the (x, y)
    plane: 50 % = the two classes overlap, 100 % = they separate."""
    points = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2 or len(points) == 0:
        return float("nan")
    centres = np.stack([points[labels == c].mean(axis=0) for c in classes])
    nearest = classes[np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)]
    return float(100 * np.mean(nearest == labels))


def _latent(sweep: Sweep, rho, models):
    frame = sweep.details.get("latent")
    if frame is None or frame.empty:
        return None, pd.DataFrame(), "No latent projection was stored with this sweep.", None
    frame = frame[np.isclose(frame["rho"].astype(float), rho) & frame["model"].isin(models)]
    if frame.empty:
        return None, pd.DataFrame(), f"No latent projection at ρ = {rho:g}.", None
    seed = int(frame["seed"].min())
    frame = frame[frame["seed"] == seed]
    rows = []
    for model in models:
        part = frame[frame["model"] == model]
        if part.empty:
            continue
        rows.append(
            {
                "model": label(model),
                "separates objective c %": centroid_separability(part.pc1, part.pc2, part.objective),
                "separates prompt type t %": centroid_separability(part.pc1, part.pc2, part.prompt_type),
                "variance shown %": 100 * float(part.explained_pc1.iloc[0] + part.explained_pc2.iloc[0])
                if {"explained_pc1", "explained_pc2"} <= set(part.columns)
                else float("nan"),
            }
        )
    table = pd.DataFrame(rows).round(1)
    parts = [
        f"{r['model']} {r['separates prompt type t %']:.0f} % by prompt type vs "
        f"{r['separates objective c %']:.0f} % by objective"
        for r in rows
    ]
    reading = (
        "Share of points nearer their own class centre in the projection (50 % = no separation): "
        + "; ".join(parts)
        + ". The prompt type shows in the text, so a latent may encode it; it "
        "hurts only where the reward reads it in place of the objective c, which is what the "
        "inconsistent accuracy above measures."
    )
    shown = [m for m in models if (frame["model"] == m).any()]
    return plots.latent_figure(frame, shown), table, reading, seed


def _remedy_reading(sweep: Sweep, per_model, rho) -> str | None:
    """What each weighted variant bought against its unweighted architecture, and what its
    weights cost (their effective sample size)."""
    views = {view.model: view for view in per_model}
    weights = sweep.details.get("weights")
    weighted = [m for m in views if split_variant(m)[1] != "none"]
    if not weighted or weights is None or weights.empty:
        return None
    texts = []
    for model in weighted:
        rows = weights[np.isclose(weights["rho"].astype(float), rho) & (weights["model"] == model)]
        ess = float(rows["ess_share"].mean()) if len(rows) else float("nan")
        text = (
            f"{label(model)} trains with weights 1/P(c | prompt) (cross-fitted), which make the objective "
            f"look independent of the prompt; at ρ = {rho:g} they keep {100 * ess:.1f}% of the training "
            f"set's effective size."
        )
        re, plain = views[model], views.get(split_variant(model)[0])
        if plain is not None and None not in (
            re.inconsistent.ours,
            plain.inconsistent.ours,
            re.consistent.ours,
            plain.consistent.ours,
        ):
            text += (
                f" Against {plain.label}: inconsistent {re.inconsistent.ours - plain.inconsistent.ours:+.1f} "
                f"points, consistent {re.consistent.ours - plain.consistent.ours:+.1f} points (seed spread "
                f"± {re.inconsistent.spread or 0:.1f})."
            )
        texts.append(text)
    if rho >= 1.0:
        texts.append("At ρ = 1 there is no inconsistent pair to up-weight, so the weights cannot help.")
    return " ".join(texts)


def _cell_table(results: pd.DataFrame, rho: float, models) -> pd.DataFrame:
    """Test accuracy [%] in each (prompt type t, objective c) cell, mean over seeds: the pooled
    inconsistent number can average a model right on one cell and wrong on the other."""
    rows = results[np.isclose(results["rho"].astype(float), rho) & results["split"].str.contains(" t=", regex=False)]
    if rows.empty:
        return pd.DataFrame()
    table = (100 * rows.groupby(["model", "split"])["accuracy"].mean()).round(1).unstack("split")
    table = table.reindex([m for m in models if m in table.index])
    table.index = [label(m) for m in table.index]
    return table.rename_axis("model").reset_index()


def objectives_view(sweep: Sweep, rho: float, models, lam: float | None = None) -> ObjectivesView:
    """Everything the page shows at one ρ for the chosen models of a trained Experiment-2 sweep."""
    if not isinstance(sweep, Sweep):
        raise CausalPrefError(f"expected a Sweep, got {type(sweep).__name__}")
    models = chosen_models(models)
    results = sweep.results
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating)) or not np.isfinite(rho):
        raise CausalPrefError(f"ρ must be a number, got {rho!r}")
    rho = float(rho)
    trained = sorted(results["rho"].astype(float).unique())
    if not any(np.isclose(rho, r) for r in trained):
        raise CausalPrefError(f"ρ = {rho:g} was not trained; the sweep has ρ in {[float(r) for r in trained]}")
    missing = [m for m in models if m not in set(results["model"])]
    if missing:
        raise CausalPrefError(f"the sweep has no results for {[label(m) for m in missing]}")
    results = results[results["model"].isin(models)]
    base = _baselines(results, rho)
    per_model = []
    for model in models:
        numbers = {
            split: _number(results, rho, model, split, table, position)
            for split, table, position in (
                ("inconsistent", paper.TABLE2, 0),
                ("consistent", paper.TABLE2, 1),
                ("train_inconsistent", paper.TABLE3, 0),
                ("train_consistent", paper.TABLE3, 1),
            )
        }
        low = float(trained[0])
        if not np.isclose(rho, low):
            for split in ("inconsistent", "consistent"):
                before = _number(results, low, model, split, paper.TABLE2, 0).ours
                numbers[split] = replace(numbers[split], baseline=before, baseline_rho=low)
        view = ModelView(model=model, label=label(model), colour=plots.model_colour(model), reading="", **numbers)
        per_model.append(replace(view, reading=_model_reading(view, rho, base)))
    table, overfit_reading = _overfitting(per_model, rho)
    latent_fig, latent_table, latent_reading, latent_seed = _latent(sweep, rho, models)
    download = results.copy()
    if lam is not None:
        download["adversary_lambda"] = float(lam) if uses_lambda(models) else np.nan
    reference = any(view.inconsistent.paper is not None for view in per_model)
    return ObjectivesView(
        rho=rho,
        models=models,
        seeds=tuple(int(s) for s in sorted(results["seed"].unique())),
        lam=lam,
        per_model=tuple(per_model),
        baselines=base,
        reading=_gap_reading(per_model, rho),
        accuracy_figure=plots.exp2_figure(results, rho, models, paper_reference=reference),
        accuracy_reading=_accuracy_reading(results, models),
        overfitting_figure=plots.overfitting_figure(results, rho, models, paper_reference=reference),
        overfitting_table=table,
        overfitting_reading=overfit_reading,
        discriminator=_discriminator(results, rho),
        latent_figure=latent_fig,
        latent_table=latent_table,
        latent_reading=latent_reading,
        latent_seed=latent_seed,
        results=download,
        remedy_reading=_remedy_reading(sweep, per_model, rho),
        cell_table=_cell_table(results, rho, models),
        game=_game(sweep, rho, models),
    )
