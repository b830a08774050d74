"""Plotly figure builders: toy, overlap and results figures for the app and the CLI.

Every builder returns a `plotly.graph_objects.Figure` and never touches streamlit. Model
colours come from the registries (the paper's: Base blue, Multihead green, Adversarial
yellow); everything else (chance, references, training pairs, classes) takes its colour from
PALETTE, which keeps clear of them so that a line in a model's colour always is that model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref import paper, validate
from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import quadrant_24_mass, refit_a_hat, sample_toy_points, toy_accuracy, toy_accuracy_ood
from causalpref.eval.positivity import as_diffs, coverage, quadrant_masses
from causalpref.stats import pearson
from causalpref.variants import variant_colour, variant_label, variant_order

__all__ = [
    "PALETTE",
    "a_hat_spread_figure",
    "accuracy_vs_rho_figure",
    "consistency_figure",
    "overlap_figure",
    "toy_figure",
]

# The colours of every series that is not a model, in one place. None may equal a model's
# colour (architectures, weighted variants, weightings; tests/test_plots.py checks), or a
# chance line would read as a model.
PALETTE = {
    "chance": "#8c8c8c",  # chance lines (50%)
    "reference": "#000000",  # the paper's numbers, the chosen-ρ marker
    "truth": "#222222",  # the true boundary, the true weight a
    "fitted": "#c51b7d",  # a fitted boundary: magenta, so that it shows over red points
    "implied": "#ff8c00",  # a model's implied boundary over a red-blue map: orange shows on both
    "wrong": "#d62728",  # misranked points, poorly covered test pairs
    "neutral": "#a0a0a0",  # points that are fine; light: far from Multihead+IPW
    "training": "#17becf",  # training pairs
    "refits": "#17becf",  # the spread of refitted â
    "class 0": "#17becf",  # helpful(ness): objective c = 0 or prompt type t = 0
    "class 1": "#d62728",  # harmless(ness) / red-team: c = 1 or t = 1
    "band": "#8c8c8c",  # shaded ranges that hold no data (an overlap band)
}
SEED_COLOURS = ("#17becf", "#8c564b", "#e377c2", "#bcbd22", "#c0c0c0")  # one line per seed: no model's colour
OTHER_COLOUR = "#7f7f7f"  # a model no registry knows (an old CSV)
TRUE_COLOUR, FIT_COLOUR, BAD_COLOUR = PALETTE["truth"], PALETTE["fitted"], PALETTE["wrong"]
Q24_FILL = "rgba(255, 165, 0, 0.12)"  # quadrants 2/4: a light orange wash, no series
RESULT_NEEDS = ("model", "rho", "seed", "split", "accuracy")


# --------------------------------------------------------------------------- shared helpers


def _shade_q24(fig: go.Figure, lim: float) -> None:
    """Shade quadrants 2 (d1 < 0 < d2) and 4 (d2 < 0 < d1) of the square [-lim, lim]^2."""
    for name, (x0, x1, y0, y1) in (("Q2", (-lim, 0, 0, lim)), ("Q4", (0, lim, -lim, 0))):
        fig.add_shape(
            type="rect", x0=x0, x1=x1, y0=y0, y1=y1, fillcolor=Q24_FILL, line_width=0, layer="below", name=name
        )


def plane_layout(fig: go.Figure, lim: float, xtitle: str, ytitle: str, title: str) -> go.Figure:
    _shade_q24(fig, lim)
    # the legend below the x-axis title, not on it
    fig.update_layout(title=title, template="plotly_white", legend=dict(orientation="h", y=-0.2, yanchor="top"))
    fig.update_xaxes(title=xtitle, range=[-lim, lim], zeroline=True)
    fig.update_yaxes(title=ytitle, range=[-lim, lim], zeroline=True, scaleanchor="x", scaleratio=1)
    return fig


def boundary_line(a: float, lim: float, name: str, colour: str, dash: str) -> go.Scatter:
    """The line a*d1 + (1 - a)*d2 = 0 across the square (direction (1 - a, -a))."""
    direction = np.array([1.0 - a, -a]) / np.hypot(1.0 - a, a)
    ends = np.outer([-2 * lim, 2 * lim], direction)
    return go.Scatter(
        x=ends[:, 0], y=ends[:, 1], mode="lines", name=name, line=dict(color=colour, dash=dash, width=2.5)
    )


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _check_results(frame, splits: tuple[str, ...], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise CausalPrefError(f"{what}: expected a pandas DataFrame of results, got {type(frame).__name__}")
    missing = [c for c in RESULT_NEEDS if c not in frame.columns]
    if missing:
        raise CausalPrefError(f"{what}: results lack the column(s) {missing}; expected {list(RESULT_NEEDS)}")
    rows = frame[frame["split"].isin(splits)]
    if rows.empty:
        raise CausalPrefError(f"{what}: results have no rows with split in {list(splits)}")
    return rows


def _mean_with_band(fig: go.Figure, rows: pd.DataFrame, name: str, colour: str, dash: str) -> None:
    """Mean accuracy [%] over seeds per rho as a line, min-max over seeds as a band."""
    pct = rows.assign(pct=100 * rows["accuracy"].astype(float))
    stats = pct.groupby("rho")["pct"].agg(["mean", "min", "max", "count"]).reset_index()
    x, lo, hi = (stats[c].to_numpy() for c in ("rho", "min", "max"))
    # mode="lines": plotly draws a trace of < 20 points with markers by default, which put
    # unlabelled dots on the band's corners
    fig.add_trace(
        go.Scatter(
            x=np.r_[x, x[::-1]],
            y=np.r_[hi, lo[::-1]],
            mode="lines",
            fill="toself",
            fillcolor=_rgba(colour, 0.18),
            line=dict(width=0),
            hoverinfo="skip",
            name=f"{name}: min–max over seeds",
            showlegend=False,
            legendgroup=name,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=stats["mean"],
            mode="lines+markers",
            name=name,
            legendgroup=name,
            line=dict(color=colour, dash=dash, width=2.5),
            customdata=stats["count"],
            hovertemplate="ρ = %{x}<br>mean %{y:.1f}% over %{customdata} seeds<extra>" + name + "</extra>",
        )
    )


def model_label(model: str) -> str:
    try:
        return variant_label(model)
    except CausalPrefError:  # a name no registry knows (an old CSV): show it as it is
        return str(model)


def model_colour(model: str) -> str:
    try:
        return variant_colour(model)
    except CausalPrefError:
        return OTHER_COLOUR


# --------------------------------------------------------------------------- analytic toy


def toy_figure(rho, a, a_hat, n=200, seed=0) -> go.Figure:
    """Sampled (d1, d2) points, quadrants 2/4 shaded, the true and the fitted boundary."""
    accuracy, ood, q24 = toy_accuracy(rho, a, a_hat), toy_accuracy_ood(rho, a, a_hat), quadrant_24_mass(rho)
    points = sample_toy_points(rho, n, seed)
    agree = np.sign(points @ [a, 1 - a]) == np.sign(points @ [a_hat, 1 - a_hat])
    lim = 1.05 * max(3.0, float(np.abs(points).max()))
    fig = go.Figure()
    for keep, name, colour in (
        (agree, "â agrees with the truth", PALETTE["neutral"]),
        (~agree, "â disagrees with the truth", BAD_COLOUR),
    ):
        fig.add_trace(
            go.Scatter(
                x=points[keep, 0],
                y=points[keep, 1],
                mode="markers",
                name=name,
                marker=dict(color=colour, size=6, opacity=0.75),
            )
        )
    fig.add_trace(boundary_line(a, lim, f"true boundary (a = {a:g})", TRUE_COLOUR, "solid"))
    fig.add_trace(boundary_line(a_hat, lim, f"fitted boundary (â = {a_hat:g})", FIT_COLOUR, "dash"))
    # two short lines: a single long title ran off a half-width panel
    title = f"ρ = {rho:g}: accuracy {accuracy:.1%}<br><sup>quadrants 2/4: {ood:.1%} right, mass {q24:.3f}</sup>"
    return plane_layout(fig, lim, "d1", "d2", title)


def a_hat_spread_figure(rhos, a, n, repeats, seed) -> go.Figure:
    """Box plot of refitted â per rho (see analytic.refit_a_hat) with the true a marked."""
    rhos = list(rhos) if not isinstance(rhos, (str, bytes)) and np.iterable(rhos) else None
    if not rhos:
        raise CausalPrefError("rhos must be a non-empty list of correlations in (-1, 1)")
    fig = go.Figure()
    for rho in rhos:
        a_hat = refit_a_hat(rho, a, n, repeats, seed)
        valid = a_hat[~np.isnan(a_hat)]
        bad = a_hat.size - valid.size
        name = f"ρ = {rho:g}" + (f" ({bad} fits without â)" if bad else "")
        sd = float(valid.std(ddof=1)) if valid.size > 1 else float("nan")
        fig.add_trace(
            go.Box(
                y=valid,
                x=[f"ρ = {rho:g}"] * valid.size,
                name=name,
                boxmean=True,
                marker_color=PALETTE["refits"],
                line_color=PALETTE["refits"],
                hovertemplate=f"{name}<br>sd {sd:.3f}<br>â = %{{y:.3f}}<extra></extra>",
            )
        )
    fig.add_hline(y=a, line=dict(color=TRUE_COLOUR, dash="dash"), annotation_text=f"true a = {a:g}")
    fig.update_layout(
        title=f"Refitted â over {repeats} training sets of {n} pairs each", template="plotly_white", showlegend=False
    )
    fig.update_xaxes(title="training correlation ρ")
    fig.update_yaxes(title="â = w1 / (w1 + w2)")
    return fig


# --------------------------------------------------------------------------- overlap


def overlap_figure(
    train_d1,
    train_d2,
    test_d1,
    test_d2,
    factor_names=("truthfulness", "instruction_following"),
    max_points=3000,
    seed=0,
) -> go.Figure:
    """Training and OOD test pairs in the (d1, d2) plane; poorly covered test pairs highlighted.

    Discrete differences are jittered by up to +-0.2 so that stacked pairs show; each set is
    subsampled to at most `max_points` (both seeded by `seed`).
    """
    tr1, tr2 = as_diffs(train_d1, train_d2, ("train_d1", "train_d2"))
    te1, te2 = as_diffs(test_d1, test_d2, ("test_d1", "test_d2"))
    if (
        not isinstance(factor_names, (tuple, list))
        or len(factor_names) != 2
        or not all(isinstance(f, str) for f in factor_names)
    ):
        raise CausalPrefError(f"factor_names must be two names, got {factor_names!r}")
    validate.positive_int(max_points, "max_points")
    validate.seed(seed)
    cov = coverage(tr1, tr2, te1, te2)
    rng = np.random.default_rng(seed)

    def take(size):
        return np.sort(rng.choice(size, max_points, replace=False)) if size > max_points else np.arange(size)

    def jitter(values):
        return values + rng.uniform(-0.2, 0.2, values.size) if cov.discrete else values

    keep_tr, keep_te = take(tr1.size), take(te1.size)
    poor = cov.poorly_covered[keep_te]
    fig = go.Figure()
    sets = (
        ("training pairs", tr1[keep_tr], tr2[keep_tr], PALETTE["training"], 0.45),
        ("OOD test pairs (covered)", te1[keep_te][~poor], te2[keep_te][~poor], PALETTE["neutral"], 0.5),
        ("OOD test pairs (poorly covered)", te1[keep_te][poor], te2[keep_te][poor], BAD_COLOUR, 0.8),
    )
    for name, x, y, colour, opacity in sets:
        fig.add_trace(
            go.Scattergl(
                x=jitter(x), y=jitter(y), mode="markers", name=name, marker=dict(color=colour, size=4, opacity=opacity)
            )
        )
    lim = 1.05 * max(float(np.abs(np.r_[tr1, tr2, te1, te2]).max()), 1.0) + (0.2 if cov.discrete else 0.0)
    title = (
        f"Training ρ = {pearson(tr1, tr2):.2f}: {quadrant_masses(tr1, tr2)['q24']:.1%} of pairs in quadrants 2/4"
        f"<br><sup>{cov.poorly_covered_share:.0%} of test pairs poorly covered</sup>"
    )
    return plane_layout(fig, lim, f"Δ {factor_names[0]}", f"Δ {factor_names[1]}", title)


# --------------------------------------------------------------------------- results


def accuracy_vs_rho_figure(summary_frame, current_rho=None, paper_reference: bool = False) -> go.Figure:
    """Experiment 1: ID (dashed) and OOD (solid) accuracy vs training rho; with
    `paper_reference` (only beside the synthetic default the paper's Table 1 corresponds to)
    the paper's values as labelled markers."""
    rows = _check_results(summary_frame, ("id", "ood"), "accuracy_vs_rho_figure")
    fig = go.Figure()
    for model in variant_order(rows["model"].unique()):
        by_model = rows[rows["model"] == model]
        colour = model_colour(model)
        for split, dash in (("id", "dash"), ("ood", "solid")):
            part = by_model[by_model["split"] == split]
            if not part.empty:
                _mean_with_band(fig, part, f"{model_label(model)} {split.upper()}", colour, dash)
    for split, symbol in (("id", "diamond-open"), ("ood", "diamond")) if paper_reference else ():
        table = paper.TABLE1[split]
        fig.add_trace(
            go.Scatter(
                x=list(table),
                y=[v[0] for v in table.values()],
                mode="markers",
                name=f"paper {split.upper()} (Table 1)",
                marker=dict(color=PALETTE["reference"], symbol=symbol, size=10),
                error_y=dict(type="data", array=[v[1] for v in table.values()], visible=True),
            )
        )
    fig.add_hline(y=50, line=dict(color=PALETTE["chance"], dash="dot"), annotation_text="chance 50%")
    if current_rho is not None:
        fig.add_vline(
            x=float(current_rho),
            line=dict(color=PALETTE["reference"], width=1),
            annotation_text=f"ρ = {float(current_rho):g}",
        )
    fig.update_layout(title="Accuracy vs training correlation ρ (bands: min–max over seeds)", template="plotly_white")
    fig.update_xaxes(title="training correlation ρ")
    fig.update_yaxes(title="Accuracy [%]")
    return fig


def consistency_figure(results) -> go.Figure:
    """Experiment 2 in the paper's style: inconsistent solid, consistent dashed, per model."""
    rows = _check_results(results, ("consistent", "inconsistent"), "consistency_figure")
    fig = go.Figure()
    for model in variant_order(rows["model"].unique()):
        colour = model_colour(model)
        for split, dash in (("inconsistent", "solid"), ("consistent", "dash")):
            part = rows[(rows["model"] == model) & (rows["split"] == split)]
            if not part.empty:
                _mean_with_band(fig, part, f"{model_label(model)} ({split})", colour, dash)
    for x, text in ((0.5, "No confounding"), (1.0, "Extreme confounding")):
        fig.add_annotation(x=x, y=1.0, yref="paper", text=text, showarrow=False, yanchor="bottom")
    fig.update_layout(
        title="Consistent vs inconsistent accuracy (bands: min–max over seeds)",
        template="plotly_white",
        margin=dict(t=90),
    )
    fig.update_xaxes(title="consistency rate ρ")
    fig.update_yaxes(title="Accuracy [%]")
    return fig


# --------------------------------------------------------------------------- Experiment 2 page

# Two classes in both latent panels: 0 = helpful(ness), 1 = harmless(ness) / red-team.
LATENT_COLOURS = (PALETTE["class 0"], PALETTE["class 1"])
LATENT_NEEDS = ("model", "pc1", "pc2", "objective", "prompt_type")


def _rho_rows(frame: pd.DataFrame, rho) -> pd.DataFrame:
    return frame[np.isclose(frame["rho"].astype(float), float(rho))]


def exp2_figure(results, rho=None, models=None, paper_reference: bool = False) -> go.Figure:
    """consistency_figure plus the chosen ρ and chance; with `paper_reference` (only beside the
    synthetic default) the paper's Table 2 as markers for the models the paper ran.

    Paper markers: filled diamonds inconsistent, open diamonds consistent, in model colour."""
    rows = _check_results(results, ("consistent", "inconsistent"), "exp2_figure")
    if models is not None:
        rows = rows[rows["model"].isin(list(models))]
        if rows.empty:
            raise CausalPrefError(f"exp2_figure: results have no rows for the model(s) {list(models)}")
    fig = consistency_figure(rows)
    in_paper = {model for table in paper.TABLE2.values() for model in table} if paper_reference else set()
    shown = [m for m in variant_order(rows["model"].unique()) if m in in_paper]
    for model in shown:
        for position, split, symbol in ((0, "inconsistent", "diamond"), (1, "consistent", "diamond-open")):
            rhos = sorted(paper.TABLE2)
            fig.add_trace(
                go.Scatter(
                    x=rhos,
                    y=[paper.TABLE2[r][model][position] for r in rhos],
                    mode="markers",
                    name=f"paper {model_label(model)} ({split}, Table 2)",
                    legendgroup=f"paper-{model}",
                    marker=dict(
                        color=model_colour(model), symbol=symbol, size=9, line=dict(color=PALETTE["reference"], width=1)
                    ),
                    hovertemplate="ρ = %{x}<br>paper %{y:.1f}%<extra>" + model_label(model) + f" {split}</extra>",
                )
            )
    fig.add_hline(
        y=50,
        line=dict(color=PALETTE["chance"], dash="dot"),
        annotation_text="chance 50%",
        annotation_position="bottom right",
    )
    if rho is not None:
        fig.add_vline(
            x=float(rho),
            line=dict(color=PALETTE["reference"], width=1),
            annotation_text=f"ρ = {float(rho):g}",
            annotation_position="bottom left",
        )
    fig.update_layout(
        title="Accuracy vs consistency rate ρ: solid inconsistent (t ≠ c), dashed consistent "
        "(t = c); bands: min–max over seeds; diamonds: the paper",
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def overfitting_figure(results, rho, models=None, paper_reference: bool = False) -> go.Figure:
    """Train vs test accuracy at one ρ: grouped bars per model (mean, error bar = min–max over
    seeds), the paper's Tables 3 (train) and 2 (test) as black-edged markers on each bar."""
    splits = ("train_inconsistent", "inconsistent", "train_consistent", "consistent")
    rows = _rho_rows(_check_results(results, splits, "overfitting_figure"), rho)
    if models is not None:
        rows = rows[rows["model"].isin(list(models))]
    if rows.empty:
        raise CausalPrefError(f"overfitting_figure: results have no rows at ρ = {float(rho):g}")
    names = {
        "train_inconsistent": "train, inconsistent",
        "inconsistent": "test, inconsistent",
        "train_consistent": "train, consistent",
        "consistent": "test, consistent",
    }
    sources = {
        "train_inconsistent": (paper.TABLE3, 0),
        "inconsistent": (paper.TABLE2, 0),
        "train_consistent": (paper.TABLE3, 1),
        "consistent": (paper.TABLE2, 1),
    }
    shown = variant_order(rows["model"].unique())
    fig = go.Figure()
    paper_in_legend = False
    for model in shown:
        x, mean, lo, hi, ours_paper = [], [], [], [], []
        for split in splits:
            pct = 100 * rows[(rows["model"] == model) & (rows["split"] == split)]["accuracy"].astype(float)
            table, position = sources[split]
            entry = table.get(round(float(rho), 2), {}).get(model) if paper_reference else None
            x.append(names[split])
            ours_paper.append(None if entry is None else entry[position])
            if pct.empty:
                mean.append(None), lo.append(0.0), hi.append(0.0)
            else:
                mean.append(float(pct.mean()))
                lo.append(float(pct.mean() - pct.min())), hi.append(float(pct.max() - pct.mean()))
        fig.add_trace(
            go.Bar(
                x=x,
                y=mean,
                name=model_label(model),
                marker_color=model_colour(model),
                offsetgroup=model,
                legendgroup=model,
                error_y=dict(type="data", array=hi, arrayminus=lo, visible=True),
                hovertemplate="%{x}<br>ours %{y:.1f}%<extra>" + model_label(model) + "</extra>",
            )
        )
        if not any(v is not None for v in ours_paper):
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=ours_paper,
                mode="markers",
                name="paper (Tables 2 and 3)",
                offsetgroup=model,
                legendgroup=model,
                showlegend=not paper_in_legend,
                marker=dict(color=PALETTE["reference"], symbol="diamond", size=9),
                hovertemplate="%{x}<br>paper %{y:.1f}%<extra>" + model_label(model) + "</extra>",
            )
        )
        paper_in_legend = True
    fig.add_hline(y=50, line=dict(color=PALETTE["chance"], dash="dot"), annotation_text="chance 50%")
    fig.update_layout(
        title=f"Train vs test accuracy at ρ = {float(rho):g} (a train–test gap means overfitting)",
        template="plotly_white",
        barmode="group",
        scattermode="group",
        legend=dict(orientation="h", y=-0.2),
    )
    fig.update_yaxes(title="Accuracy [%]", range=[40, 100])
    return fig


def latent_figure(latent_frame, models) -> go.Figure:
    """2-D projection (PCA) of each model's latent z_hat: one row per model, left coloured by the
    objective c, right by the prompt type t. A latent that encodes the prompt type splits the
    right panel into two clouds. Each model's traces share one legend group (the model's name)."""
    if not isinstance(latent_frame, pd.DataFrame):
        raise CausalPrefError(f"latent_figure: expected a pandas DataFrame, got {type(latent_frame).__name__}")
    missing = [c for c in LATENT_NEEDS if c not in latent_frame.columns]
    if missing:
        raise CausalPrefError(f"latent_figure: the latent frame lacks the column(s) {missing}")
    models = [models] if isinstance(models, str) else list(models or [])
    models = [m for m in models if (latent_frame["model"] == m).any()]
    if not models:
        raise CausalPrefError("latent_figure: no latent points for the chosen model(s)")
    from plotly.subplots import make_subplots

    from causalpref.data.worlds.objectives import OBJECTIVE_NAMES, PROMPT_TYPE_NAMES

    titles = [f"{model_label(m)}: coloured by {what}" for m in models for what in ("objective c", "prompt type t")]
    fig = make_subplots(
        rows=len(models),
        cols=2,
        subplot_titles=titles,
        horizontal_spacing=0.08,
        vertical_spacing=0.12 / max(1, len(models) - 1) + 0.04,
    )
    for row, model in enumerate(models, start=1):
        part = latent_frame[latent_frame["model"] == model]
        for col, (column, labels) in enumerate(
            (("objective", OBJECTIVE_NAMES), ("prompt_type", PROMPT_TYPE_NAMES)), start=1
        ):
            for value, label in enumerate(labels):
                points = part[part[column] == value]
                fig.add_trace(
                    go.Scattergl(
                        x=points["pc1"],
                        y=points["pc2"],
                        mode="markers",
                        name=f"{model_label(model)}: {column.replace('_', ' ')} = {label}",
                        legendgroup=model,
                        legendgrouptitle_text=model_label(model),
                        marker=dict(
                            color=LATENT_COLOURS[value],
                            size=5,
                            opacity=0.6,
                            line=dict(color=model_colour(model), width=0.5),
                        ),
                    ),
                    row=row,
                    col=col,
                )
        fig.update_xaxes(title_text="PC 1", row=row)
        fig.update_yaxes(title_text="PC 2", row=row)
    fig.update_layout(
        template="plotly_white",
        height=320 * len(models) + 80,
        legend=dict(groupclick="toggleitem"),
        title="Latent z_hat, 2-D projection (PCA), test responses of seed 0",
    )
    return fig


__all__ += ["exp2_figure", "latent_figure", "overfitting_figure"]


GAME_NEEDS = ("model", "rho", "seed", "step", "disc_accuracy", "btl_loss", "grad_btl", "grad_adversary")


def game_figure(game_frame, rho, model: str = "adversarial", smooth: int = 10) -> go.Figure:
    """The adversarial game through training at one ρ (mean over seeds, a running mean over
    `smooth` steps): top, the discriminator's accuracy on each training batch beside chance
    and ρ, and the BTL loss; bottom, the L2 norm of the encoder's gradient from each term."""
    if not isinstance(game_frame, pd.DataFrame):
        raise CausalPrefError(f"game_figure: expected a pandas DataFrame, got {type(game_frame).__name__}")
    missing = [c for c in GAME_NEEDS if c not in game_frame.columns]
    if missing:
        raise CausalPrefError(f"game_figure: the game frame lacks the column(s) {missing}")
    rows = game_frame[(game_frame["model"] == model) & np.isclose(game_frame["rho"].astype(float), float(rho))]
    if rows.empty:
        raise CausalPrefError(f"game_figure: no game trace of {model} at ρ = {rho:g}")
    from plotly.subplots import make_subplots

    mean = rows.groupby("step").mean(numeric_only=True).rolling(smooth, min_periods=1).mean()
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=("Discriminator accuracy on the batch and BTL loss", "Encoder gradient norm per term"),
    )
    colour = model_colour(model)
    fig.add_trace(
        go.Scatter(
            x=mean.index, y=100 * mean["disc_accuracy"], name="discriminator accuracy [%]", line=dict(color=colour)
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=mean.index, y=100 * mean["btl_loss"], name="BTL loss × 100", line=dict(color="#555", dash="dot")),
        row=1,
        col=1,
    )
    fig.add_hline(y=50, line=dict(color="#999", dash="dash"), annotation_text="chance", row=1, col=1)
    fig.add_hline(y=100 * float(rho), line=dict(color="#999", dash="dot"), annotation_text="ρ", row=1, col=1)
    for column, name, dash in (("grad_btl", "from BTL", "solid"), ("grad_adversary", "from the adversary", "dash")):
        fig.add_trace(
            go.Scatter(x=mean.index, y=mean[column], name=f"gradient {name}", line=dict(color=colour, dash=dash)),
            row=2,
            col=1,
        )
    fig.update_xaxes(title_text="training step", row=2, col=1)
    fig.update_layout(template="plotly_white", height=560, title=f"The adversarial game at ρ = {float(rho):g}")
    return fig


__all__ += ["game_figure"]


LAMBDA_CURVE_LINES = (
    ("inconsistent", "inconsistent pairs", "solid"),
    ("consistent", "consistent pairs", "dot"),
    ("disc", "discriminator reads c", "dash"),
    ("probe", "fresh probe reads c", "dashdot"),
)


def lambda_curve_figure(table, rho, colour: str | None = None) -> go.Figure:
    """The adversary's λ curve at one ρ: accuracies [%] (mean ± sd over seeds, as
    run/adversary.lambda_curve_rows gives them) against λ, one point per λ trained."""
    if not isinstance(table, pd.DataFrame):
        raise CausalPrefError(f"lambda_curve_figure: expected a pandas DataFrame, got {type(table).__name__}")
    rows = table[np.isclose(table["rho"].astype(float), float(rho))].sort_values("lambda")
    if rows.empty:
        raise CausalPrefError(f"lambda_curve_figure: no λ curve at ρ = {rho:g}")
    colour = colour or model_colour("adversarial")
    x = [f"{lam:g}" for lam in rows["lambda"]]
    fig = go.Figure()
    for column, name, dash in LAMBDA_CURVE_LINES:
        if rows[column].isna().all():
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rows[column],
                error_y=dict(type="data", array=rows[f"{column}_sd"], visible=True),
                name=name,
                mode="lines+markers",
                line=dict(color=colour if column in ("inconsistent", "consistent") else "#555", dash=dash),
            )
        )
    fig.add_hline(y=50, line=dict(color="#999", dash="dash"), annotation_text="chance")
    fig.update_xaxes(title_text="λ (0 = Multihead exactly)", type="category")
    fig.update_yaxes(title_text="accuracy [%]")
    fig.update_layout(template="plotly_white", height=420, title=f"The adversary's λ curve at ρ = {float(rho):g}")
    return fig


__all__ += ["lambda_curve_figure"]
