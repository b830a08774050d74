"""Correlation shift (Experiment 1): what the page shows for a sweep and a chosen rho.

The sweep trains every rho of the slider's grid once (cached), so moving the slider only
selects rows: ID and OOD accuracy with their baselines and the paper's values, the
accuracy-vs-rho curves, the model's decision boundary over the (d1, d2) plane with the
true boundary and the implied a_hat, and the training curves. A second sweep of the
"reweighted" remedy (Base trained with quadrant-balanced weights), when given, adds its
numbers beside Base's with the effective sample size the weights cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.ndimage import gaussian_filter

from causalpref import paper
from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.errors import CausalPrefError
from causalpref.run.specs import INTERACTIVE_RHOS, Exp1Spec
from causalpref.run.sweep import Sweep, merge_sweeps
from causalpref.stats import CHANCE as CHANCE_SHARE
from causalpref.ui.plots import PALETTE, SEED_COLOURS, accuracy_vs_rho_figure, boundary_line
from causalpref.variants import variant_name

CHANCE = 100 * CHANCE_SHARE
REMEDY = variant_name("base", "balanced")  # Base trained with quadrant-balanced weights


def page_spec(scale: str) -> Exp1Spec:
    """The sweep the Correlation shift page trains on the synthetic world: every ρ of the
    slider's grid, the interactive sizes and seeds (the lessons read the same sweep)."""
    return replace(Exp1Spec(), world=CorrelatedFactorsWorld(scale=scale), rhos=INTERACTIVE_RHOS)


@dataclass
class Number:
    """One accuracy [%] with its spread over seeds, the paper's value and a plain reading."""

    value: float
    spread: float
    paper: float | None
    reading: str
    baseline: float | None = None  # the same number for the model trained at the lowest ρ
    baseline_rho: float | None = None

    def change(self) -> str | None:
        """'−15.0 vs ρ = 0': the card's delta; None at the baseline ρ itself."""
        if self.baseline is None:
            return None
        return f"{self.value - self.baseline:+.1f} vs ρ = {self.baseline_rho:g}"


@dataclass
class CorrelationView:
    rho: float
    achieved_rho: float
    id: Number
    ood: Number
    gap: float
    baseline_gap: float | None  # the gap of the model trained at the lowest ρ (None at that ρ)
    baselines: pd.DataFrame  # split x (oracle, spurious-only, chance) in %
    a: float
    a_hat: float
    curves: go.Figure
    boundary: go.Figure | None  # None for worlds that cannot embed any (d1, d2): real data
    training: go.Figure
    remedy: "RemedyView | None" = None
    paper_source: str = paper.PROVENANCE["TABLE1"]  # where the Number.paper references come from


@dataclass
class RemedyView:
    """The reweighted model at the chosen rho beside Base."""

    id: Number
    ood: Number
    ood_gain: float  # reweighted OOD - Base OOD [points]
    ess_share: float  # effective sample size of the weights / training pairs
    no_op: bool  # no training pair where the factors disagree: nothing to reweight
    reading: str


def _at(results: pd.DataFrame, rho: float, split: str) -> pd.DataFrame:
    rows = results[np.isclose(results["rho"], rho) & (results["split"] == split)]
    if rows.empty:
        raise CausalPrefError(
            f"no {split} results at rho = {rho:g}; the sweep has rho in {sorted(results['rho'].unique().tolist())}"
        )
    return rows


def _spread(rows: pd.DataFrame) -> float:
    return 100 * rows["accuracy"].std(ddof=1) if len(rows) > 1 else 0.0


def _only(results: pd.DataFrame, model: str) -> pd.DataFrame:
    return results[results["model"] == model] if "model" in results else results


def remedy_view(remedy: Sweep, rho: float, base_ood: float) -> RemedyView:
    """Reweighted ID/OOD at rho, its gain over Base's OOD accuracy and the weights' ESS share."""
    results = _only(remedy.results, REMEDY)
    ident, ood = _at(results, rho, "id"), _at(results, rho, "ood")
    weights = remedy.details["weights"]
    at_rho = weights[np.isclose(weights["rho"], rho)]
    ess = float(at_rho["ess_share"].mean())
    no_op = bool(at_rho["no_op"].astype(bool).all()) if "no_op" in at_rho else False
    id_value, ood_value = 100 * ident["accuracy"].mean(), 100 * ood["accuracy"].mean()
    gain = ood_value - base_ood
    spread = _spread(ood)
    verdict = (
        "within the seed spread: no clear help"
        if abs(gain) <= max(spread, 1.0)
        else "it helps"
        if gain > 0
        else "it hurts"
    )
    price = (
        "The training set has no pair where the factors disagree, so the remedy has nothing to "
        "reweight: it trains on the same pairs as Base."
        if no_op
        else f"The weights keep {100 * ess:.1f}% of the training set's effective size — the price: at high ρ "
        "a few disagreeing pairs carry the whole weight, so the model sees less data."
    )
    reading = (
        f"Weighting the training pairs so that the four quadrants count equally moves OOD accuracy "
        f"{gain:+.1f} points against Base ({ood_value:.1f}% vs {base_ood:.1f}%, seed spread ± {spread:.1f}): "
        f"{verdict}. {price}"
    )
    return RemedyView(
        id=Number(id_value, _spread(ident), None, ""),
        ood=Number(ood_value, spread, None, ""),
        ood_gain=gain,
        ess_share=ess,
        no_op=no_op,
        reading=reading,
    )


def merged(sweep: Sweep, remedy: Sweep | None) -> Sweep:
    """Base's sweep with the remedy's rows and detail tables added (the curves and the
    reliance bars draw every model they find)."""
    return sweep if remedy is None else merge_sweeps([sweep, remedy])


def correlation_view(sweep: Sweep, rho: float, a: float, remedy: Sweep | None = None) -> CorrelationView:
    """What the page shows at `rho` for a Base sweep (and, optionally, a reweighted one)."""
    results = _only(sweep.results, "base")
    ident, ood = _at(results, rho, "id"), _at(results, rho, "ood")
    reference = paper.shows_reference("exp1", str(results["world"].iloc[0]))
    paper_id, paper_ood = (paper.TABLE1[s].get(round(rho, 2)) if reference else None for s in ("id", "ood"))
    id_value, ood_value = 100 * ident["accuracy"].mean(), 100 * ood["accuracy"].mean()
    spurious_ood = 100 * ood["spurious_accuracy"].mean()
    implied = _only(sweep.details["implied"], "base")
    a_hat = _implied_at(implied, rho)
    low_rho = float(results["rho"].min())
    at_low = None if np.isclose(rho, low_rho) else (_at(results, low_rho, "id"), _at(results, low_rho, "ood"))
    low_id, low_ood = (
        (None, None) if at_low is None else (100 * at_low[0]["accuracy"].mean(), 100 * at_low[1]["accuracy"].mean())
    )
    since = {"baseline_rho": None if at_low is None else low_rho}
    id_number = Number(
        value=id_value,
        spread=_spread(ident),
        paper=None if paper_id is None else paper_id[0],
        baseline=low_id,
        **since,
        reading=(
            f"In distribution (test pairs drawn like the training pairs, ρ = {rho:g}) the model ranks "
            f"{id_value:.1f}% of pairs correctly; chance is 50%, the true reward "
            f"{100 * ident['oracle_accuracy'].mean():.1f}% (ties are coin flips)."
        ),
    )
    ood_number = Number(
        value=ood_value,
        spread=_spread(ood),
        paper=None if paper_ood is None else paper_ood[0],
        baseline=low_ood,
        **since,
        reading=(
            f"Out of distribution (pairs where the two factors disagree) it ranks {ood_value:.1f}% "
            f"correctly: {ood_value - CHANCE:+.1f} points from chance; a model ranking by the wrong "
            f"factor alone would score {spurious_ood:.1f}%."
        ),
    )
    baselines = pd.DataFrame(
        [
            {
                "split": name,
                "model %": round(100 * rows["accuracy"].mean(), 1),
                "true reward (oracle) %": round(100 * rows["oracle_accuracy"].mean(), 1),
                "wrong factor only %": round(100 * rows["spurious_accuracy"].mean(), 1),
                "chance %": CHANCE,
            }
            for name, rows in (("ID", ident), ("OOD", ood))
        ]
    )
    return CorrelationView(
        rho=rho,
        achieved_rho=float(_at(results, rho, "train")["rho_achieved"].mean()),
        id=id_number,
        ood=ood_number,
        gap=id_value - ood_value,
        baseline_gap=None if at_low is None else low_id - low_ood,
        baselines=baselines,
        a=a,
        a_hat=a_hat,
        curves=accuracy_vs_rho_figure(merged(sweep, remedy).results, current_rho=rho, paper_reference=reference),
        boundary=(
            boundary_figure(
                _only(sweep.details["boundary"], "base"),
                rho,
                a,
                a_hat,
                reference=(low_rho, _implied_at(implied, low_rho)),
            )
            if "boundary" in sweep.details
            else None
        ),
        training=training_figure(_only(sweep.details["history"], "base"), rho),
        remedy=None if remedy is None else remedy_view(remedy, rho, ood_value),
    )


TRUE_LINE, IMPLIED_LINE, DISAGREE_LINE = PALETTE["truth"], PALETTE["implied"], PALETTE["reference"]


def _implied_at(implied: pd.DataFrame, rho: float) -> float:
    return float(implied[np.isclose(implied["rho"], rho)]["a_hat"].mean())


def boundary_figure(
    boundary: pd.DataFrame, rho: float, a: float, a_hat: float, reference: tuple[float, float] | None = None
) -> go.Figure:
    """P(a preferred) over the (d1, d2) plane (mean over seeds), smoothed, with the true
    boundary (black), the boundary the model's rewards imply (orange, dashed) and the two
    quadrants where the factors disagree outlined on top. With `reference` = (rho_0, a_hat_0)
    a second panel on the left shows the model trained at rho_0 for comparison."""
    from plotly.subplots import make_subplots

    panels = ([reference] if reference is not None and not np.isclose(reference[0], rho) else []) + [(rho, a_hat)]
    fig = make_subplots(
        rows=1, cols=len(panels), horizontal_spacing=0.08, subplot_titles=[f"trained at ρ = {r:g}" for r, _ in panels]
    )
    lim = 0.0
    for col, (panel_rho, panel_a_hat) in enumerate(panels, start=1):
        rows = boundary[np.isclose(boundary["rho"], panel_rho)]
        grid = rows.groupby(["d1", "d2"], as_index=False)["p_prefer_a"].mean()
        d1, d2 = np.sort(grid["d1"].unique()), np.sort(grid["d2"].unique())
        z = grid.pivot(index="d2", columns="d1", values="p_prefer_a").loc[d2, d1].to_numpy()
        z = gaussian_filter(z, sigma=1.0, mode="nearest")  # the probe's sampling noise is not the model's view
        lim = float(max(abs(d1).max(), abs(d2).max()))
        fig.add_trace(
            go.Heatmap(
                x=d1,
                y=d2,
                z=z,
                zmin=0,
                zmax=1,
                zsmooth="best",
                colorscale="RdBu",
                showscale=col == len(panels),
                name="P(a preferred)",
                colorbar=dict(title="P(a ≻ b)", len=0.8),
            ),
            row=1,
            col=col,
        )
        for name, (x0, x1, y0, y1) in (("Q2", (-lim, 0, 0, lim)), ("Q4", (0, lim, -lim, 0))):
            fig.add_shape(
                type="rect",
                x0=x0,
                x1=x1,
                y0=y0,
                y1=y1,
                layer="above",
                name=name,
                line=dict(color=DISAGREE_LINE, width=2, dash="dot"),
                row=1,
                col=col,
            )
        first = col == 1
        true = boundary_line(a, lim, f"true boundary (a = {a:g})", TRUE_LINE, "solid")
        fig.add_trace(true.update(line_width=3, showlegend=first, legendgroup="true"), row=1, col=col)
        if np.isfinite(panel_a_hat):
            implied = boundary_line(
                panel_a_hat, lim, f"implied at ρ = {panel_rho:g} (â = {panel_a_hat:.2f})", IMPLIED_LINE, "dash"
            )
            fig.add_trace(implied.update(line_width=3, legendgroup=f"implied{col}"), row=1, col=col)
        fig.update_xaxes(range=[-lim, lim], title="Δ truthfulness (d1)", constrain="domain", row=1, col=col)
        fig.update_yaxes(
            range=[-lim, lim],
            title="Δ instruction-following (d2)" if first else None,
            scaleanchor=f"x{'' if col == 1 else col}",
            scaleratio=1,
            constrain="domain",
            row=1,
            col=col,
        )
    fig.add_annotation(
        text="dotted squares: the factors disagree (where a wrong â costs)",
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=-0.32,
        font=dict(size=12),
    )
    fig.update_layout(
        title=f"What the model prefers at ρ = {rho:g}",
        template="plotly_white",
        legend=dict(orientation="h", y=-0.18),
        margin=dict(b=110),
    )
    return fig


def training_figure(history: pd.DataFrame, rho: float) -> go.Figure:
    """Validation accuracy per epoch for each seed; the kept (best) epoch marked."""
    rows = history[np.isclose(history["rho"], rho)]
    fig = go.Figure()
    for i, (seed, run) in enumerate(rows.groupby("seed")):
        fig.add_trace(
            go.Scatter(
                x=run["epoch"],
                y=100 * run["val_accuracy"],
                mode="lines+markers",
                name=f"seed {seed}: validation",
                line=dict(color=SEED_COLOURS[i % len(SEED_COLOURS)]),
            )
        )
        best = run.loc[run["val_accuracy"].idxmax()]
        fig.add_trace(
            go.Scatter(
                x=[best["epoch"]],
                y=[100 * best["val_accuracy"]],
                mode="markers",
                marker=dict(symbol="star", size=14, color=PALETTE["reference"]),
                name=f"seed {seed}: kept epoch",
                showlegend=False,
            )
        )
    fig.update_layout(
        title="Training: validation accuracy per epoch (★ = checkpoint kept)",
        template="plotly_white",
        xaxis_title="epoch",
        yaxis_title="validation accuracy [%]",
    )
    return fig


def reading_of_curve(results: pd.DataFrame) -> str:
    """How much Base's OOD accuracy falls across the sweep, in one sentence."""
    results = _only(results, "base")
    ood = results[results["split"] == "ood"].groupby("rho")["accuracy"].mean() * 100
    ident = results[results["split"] == "id"].groupby("rho")["accuracy"].mean() * 100
    low, high = ood.index.min(), ood.index.max()
    return (
        f"From ρ = {low:g} to ρ = {high:g}, OOD accuracy goes {ood[low]:.1f}% → {ood[high]:.1f}% "
        f"while ID accuracy goes {ident[low]:.1f}% → {ident[high]:.1f}%: correlated training factors "
        f"leave the model unable to tell which one people reward."
    )
