import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from causalpref import paper
from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import quadrant_24_mass, refit_a_hat, sample_toy_points, toy_accuracy, toy_accuracy_ood
from causalpref.eval.positivity import coverage
from causalpref.models import architecture
from causalpref.run.sweep import RESULT_COLUMNS
from causalpref.ui.plots import (
    a_hat_spread_figure,
    accuracy_vs_rho_figure,
    consistency_figure,
    overlap_figure,
    toy_figure,
)


def _names(fig):
    return [trace.name for trace in fig.data]


def _q24_rects(fig):
    return [s for s in fig.layout.shapes if s.type == "rect" and s.name in ("Q2", "Q4")]


def _assert_q24_shaded(fig):
    q2, q4 = sorted(_q24_rects(fig), key=lambda s: s.name)
    assert (q2.x1, q2.y0) == (0, 0) and q2.x0 < 0 < q2.y1
    assert (q4.x0, q4.y1) == (0, 0) and q4.y0 < 0 < q4.x1


def _results(models, splits, rhos, seeds=(0, 1, 2)):
    rng = np.random.default_rng(0)
    rows = [
        {
            "experiment": "x",
            "world": "w",
            "model": m,
            "rho": r,
            "seed": s,
            "split": sp,
            "accuracy": 0.6 + 0.05 * rng.random(),
            "n": 100,
        }
        for m in models
        for r in rhos
        for s in seeds
        for sp in splits
    ]
    return pd.DataFrame(rows).reindex(columns=RESULT_COLUMNS)


def test_toy_figure():
    rho, a, a_hat = 0.9, 0.25, 0.5
    fig = toy_figure(rho, a, a_hat, n=200, seed=0)
    assert isinstance(fig, go.Figure)
    assert _names(fig) == [
        "â agrees with the truth",
        "â disagrees with the truth",
        "true boundary (a = 0.25)",
        "fitted boundary (â = 0.5)",
    ]
    points = sample_toy_points(rho, 200, 0)
    wrong = np.sign(points @ [a, 1 - a]) != np.sign(points @ [a_hat, 1 - a_hat])
    assert len(fig.data[0].x) + len(fig.data[1].x) == 200
    assert len(fig.data[1].x) == wrong.sum() > 0
    _assert_q24_shaded(fig)
    title = fig.layout.title.text
    assert f"{toy_accuracy(rho, a, a_hat):.1%}" in title
    assert f"{toy_accuracy_ood(rho, a, a_hat):.1%}" in title
    assert f"{quadrant_24_mass(rho):.3f}" in title
    # Boundary lines lie on a*d1 + (1 - a)*d2 = 0.
    line = fig.data[2]
    assert np.allclose(a * np.asarray(line.x) + (1 - a) * np.asarray(line.y), 0)


def test_toy_figure_rejects_bad_input():
    with pytest.raises(CausalPrefError, match="degenerate"):
        toy_figure(1.0, 0.25, 0.5)
    with pytest.raises(CausalPrefError, match="a_hat"):
        toy_figure(0.3, 0.25, 1.5)


def test_a_hat_spread_figure():
    fig = a_hat_spread_figure([0.0, 0.9], a=0.25, n=50, repeats=40, seed=0)
    assert len(fig.data) == 2 and all(isinstance(t, go.Box) for t in fig.data)
    assert _names(fig) == ["ρ = 0", "ρ = 0.9"]
    expected = refit_a_hat(0.9, 0.25, 50, 40, 0)
    np.testing.assert_allclose(fig.data[1].y, expected[~np.isnan(expected)])
    assert any(s.type == "line" and s.y0 == s.y1 == 0.25 for s in fig.layout.shapes)
    with pytest.raises(CausalPrefError, match="rhos"):
        a_hat_spread_figure([], 0.25, 50, 10, 0)
    with pytest.raises(CausalPrefError, match="repeats"):
        a_hat_spread_figure([0.0], 0.25, 50, 0, 0)


@pytest.mark.parametrize("discrete", [True, False])
def test_overlap_figure(discrete):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(5000, 2)) @ np.linalg.cholesky([[1, 0.9], [0.9, 1]]).T
    test = rng.normal(size=(2000, 2))
    test = test[test[:, 0] * test[:, 1] < 0]
    if discrete:
        train, test = np.round(2 * train), np.round(2 * test)
        test = test[test[:, 0] * test[:, 1] < 0]
    fig = overlap_figure(
        train[:, 0],
        train[:, 1],
        test[:, 0],
        test[:, 1],
        factor_names=("truthfulness", "instruction_following"),
        max_points=1500,
        seed=1,
    )
    assert _names(fig) == ["training pairs", "OOD test pairs (covered)", "OOD test pairs (poorly covered)"]
    assert len(fig.data[0].x) == 1500  # subsampled
    assert len(fig.data[1].x) + len(fig.data[2].x) == min(1500, len(test))
    assert len(fig.data[2].x) > 0
    assert fig.layout.xaxis.title.text == "Δ truthfulness"
    assert fig.layout.yaxis.title.text == "Δ instruction_following"
    _assert_q24_shaded(fig)
    cov = coverage(train[:, 0], train[:, 1], test[:, 0], test[:, 1])
    assert f"{cov.poorly_covered_share:.0%} of test pairs poorly covered" in fig.layout.title.text
    if discrete:  # jittered for visibility
        jittered = np.asarray(fig.data[0].x)
        assert np.any(jittered != np.round(jittered)) and np.all(np.abs(jittered - np.round(jittered)) <= 0.2)
    again = overlap_figure(train[:, 0], train[:, 1], test[:, 0], test[:, 1], max_points=1500, seed=1)
    np.testing.assert_array_equal(again.data[0].x, fig.data[0].x)  # seeded


def test_overlap_figure_rejects_bad_input():
    with pytest.raises(CausalPrefError, match="max_points"):
        overlap_figure([1, 2], [1, 2], [1], [-1], max_points=0)
    with pytest.raises(CausalPrefError, match="factor_names"):
        overlap_figure([1, 2], [1, 2], [1], [-1], factor_names=("a",))
    with pytest.raises(CausalPrefError, match="test_d1 and test_d2"):
        overlap_figure([1, 2], [1, 2], [1], [-1, 2])


def test_accuracy_vs_rho_figure():
    frame = _results(["base"], ["id", "ood", "train"], [0.0, 0.3, 0.6, 0.9])
    fig = accuracy_vs_rho_figure(frame, current_rho=0.6, paper_reference=True)
    assert _names(fig) == [
        "Base ID: min–max over seeds",
        "Base ID",
        "Base OOD: min–max over seeds",
        "Base OOD",
        "paper ID (Table 1)",
        "paper OOD (Table 1)",
    ]
    ident, ood = fig.data[1], fig.data[3]
    assert ident.line.dash == "dash" and ood.line.dash == "solid"
    assert ident.line.color == ood.line.color == architecture("base").colour
    means = frame[frame.split == "ood"].groupby("rho")["accuracy"].mean() * 100
    np.testing.assert_allclose(ood.y, means.to_numpy())
    assert list(fig.data[5].y) == [v[0] for v in paper.TABLE1["ood"].values()]
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert any(s.y0 == s.y1 == 50 for s in lines)  # chance
    assert any(s.x0 == s.x1 == 0.6 for s in lines)  # current rho
    assert fig.layout.yaxis.title.text == "Accuracy [%]"
    plain = accuracy_vs_rho_figure(frame)
    assert len(plain.layout.shapes) == 1  # no current rho marker
    assert not any(name.startswith("paper") for name in _names(plain))  # the paper only when asked


def test_consistency_figure():
    frame = _results(["adversarial", "base", "multihead"], ["consistent", "inconsistent", "val"], [0.5, 0.7, 1.0])
    fig = consistency_figure(frame)
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == [
        "Base (inconsistent)",
        "Base (consistent)",
        "Multihead (inconsistent)",
        "Multihead (consistent)",
        "Adversarial (inconsistent)",
        "Adversarial (consistent)",
    ]
    assert len(fig.data) == 12  # a band per line
    for trace in lines:
        model = trace.name.split()[0].lower()
        assert trace.line.color == architecture(model).colour
        assert trace.line.dash == ("solid" if "inconsistent" in trace.name else "dash")
    texts = {a.text: a.x for a in fig.layout.annotations}
    assert texts == {"No confounding": 0.5, "Extreme confounding": 1.0}
    assert fig.layout.yaxis.title.text == "Accuracy [%]"


@pytest.mark.parametrize(
    "builder, frame, word",
    [
        (accuracy_vs_rho_figure, pd.DataFrame({"model": ["base"]}), "lack the column"),
        (accuracy_vs_rho_figure, _results(["base"], ["consistent"], [0.5]), "no rows"),
        (consistency_figure, _results(["base"], ["id"], [0.5]), "no rows"),
        (consistency_figure, [1, 2, 3], "DataFrame"),
    ],
)
def test_results_figures_reject_bad_frames(builder, frame, word):
    with pytest.raises(CausalPrefError, match=word):
        builder(frame)


# --------------------------------------------------------------------------- Experiment 2 page

from causalpref.ui.plots import exp2_figure, latent_figure, overfitting_figure  # noqa: E402

EXP2_MODELS = ["base", "multihead", "adversarial"]
EXP2_SPLITS = ["consistent", "inconsistent", "train_consistent", "train_inconsistent", "val"]


def test_exp2_figure_marks_rho_chance_and_the_papers_table_2():
    frame = _results(EXP2_MODELS, EXP2_SPLITS, [0.5, 0.9, 1.0])
    fig = exp2_figure(frame, rho=0.9, models=["base", "adversarial"], paper_reference=True)
    names = _names(fig)
    assert "Base (inconsistent)" in names and "Multihead (inconsistent)" not in names
    paper_traces = [t for t in fig.data if t.name.startswith("paper")]
    assert len(paper_traces) == 4  # 2 models x 2 splits
    base_inc = next(t for t in paper_traces if t.name == "paper Base (inconsistent, Table 2)")
    assert list(base_inc.y) == [paper.TABLE2[r]["base"][0] for r in sorted(paper.TABLE2)]
    assert base_inc.marker.color == architecture("base").colour
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert any(s.y0 == s.y1 == 50 for s in lines) and any(s.x0 == s.x1 == 0.9 for s in lines)
    with pytest.raises(CausalPrefError, match="no rows for the model"):
        exp2_figure(frame[frame.model == "base"], models=["multihead"])
    assert not any(t.name.startswith("paper") for t in exp2_figure(frame, rho=0.9).data)


def test_overfitting_figure_has_bars_per_model_and_the_papers_tables():
    frame = _results(EXP2_MODELS, EXP2_SPLITS, [0.5, 0.9])
    fig = overfitting_figure(frame, 0.9, EXP2_MODELS, paper_reference=True)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.name for b in bars] == ["Base", "Multihead", "Adversarial"]
    assert [b.marker.color for b in bars] == [architecture(m).colour for m in EXP2_MODELS]
    assert list(bars[0].x) == ["train, inconsistent", "test, inconsistent", "train, consistent", "test, consistent"]
    rows = frame[(frame.rho == 0.9) & (frame.model == "base") & (frame.split == "train_inconsistent")]
    assert bars[0].y[0] == pytest.approx(100 * rows.accuracy.mean())
    marks = [t for t in fig.data if t.type == "scatter"]
    assert list(marks[0].y) == [
        paper.TABLE3[0.9]["base"][0],
        paper.TABLE2[0.9]["base"][0],
        paper.TABLE3[0.9]["base"][1],
        paper.TABLE2[0.9]["base"][1],
    ]
    assert sum(bool(t.showlegend) for t in marks) == 1
    with pytest.raises(CausalPrefError, match="no rows at"):
        overfitting_figure(frame, 0.7)
    assert not [t for t in overfitting_figure(frame, 0.9, EXP2_MODELS).data if t.type == "scatter"]


def test_a_weighted_variant_gets_its_own_label_and_colour():
    frame = _results(["base", "base+ipw"], EXP2_SPLITS, [0.5, 0.9])
    bars = [t for t in overfitting_figure(frame, 0.9).data if t.type == "bar"]
    assert [b.name for b in bars] == ["Base", "Base (IPW)"]
    assert bars[0].marker.color == architecture("base").colour != bars[1].marker.color


def _latent_frame(models, n=50):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        [
            {
                "model": m,
                "rho": 0.9,
                "seed": 0,
                "pc1": rng.normal(),
                "pc2": rng.normal(),
                "objective": i % 2,
                "prompt_type": (i // 2) % 2,
            }
            for m in models
            for i in range(n)
        ]
    )


def test_latent_figure_two_panels_per_model_one_legend_group_each():
    fig = latent_figure(_latent_frame(EXP2_MODELS), ["base", "adversarial"])
    assert {t.legendgroup for t in fig.data} == {"base", "adversarial"}
    assert len(fig.data) == 8  # 2 models x 2 panels x 2 classes
    assert [a.text for a in fig.layout.annotations][:2] == [
        "Base: coloured by objective c",
        "Base: coloured by prompt type t",
    ]
    first = fig.data[0]
    assert len(first.x) == 25 and first.marker.line.color == architecture("base").colour
    assert len(latent_figure(_latent_frame(["multihead"]), "multihead").data) == 4


@pytest.mark.parametrize(
    "frame, models, word",
    [
        ([1, 2], ["base"], "DataFrame"),
        (pd.DataFrame({"model": ["base"]}), ["base"], "lacks the column"),
        (_latent_frame(["base"]), ["adversarial"], "no latent points"),
    ],
)
def test_latent_figure_rejects_bad_input(frame, models, word):
    with pytest.raises(CausalPrefError, match=word):
        latent_figure(frame, models)


# --------------------------------------------------------------------------- colours of what is not a model


def _model_colours() -> set[str]:
    """Every colour a model can be drawn in: each architecture with each weighting, and the
    weightings' own colours (mixed into weighted variants)."""
    from causalpref.models import ARCHITECTURES
    from causalpref.train.weighting import NONE, WEIGHTINGS
    from causalpref.variants import variant_colour, variant_name

    colours = {variant_colour(variant_name(a, w)) for a in ARCHITECTURES for w in WEIGHTINGS}
    colours |= {w.colour for name, w in WEIGHTINGS.items() if name != NONE}
    return {c.lower() for c in colours}


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _colours(fig) -> set[str]:
    """The colours of a figure's traces (markers, lines) and shapes, as lower-case strings."""
    found = set()
    for trace in fig.data:
        for part in ("marker", "line"):
            colour = getattr(getattr(trace, part, None), "color", None)
            if isinstance(colour, str):
                found.add(colour.lower())
    for shape in fig.layout.shapes:
        found |= {c.lower() for c in (shape.line.color, shape.fillcolor) if isinstance(c, str)}
    return found


def test_the_non_model_palette_keeps_clear_of_every_model_colour():
    from causalpref.ui.plots import PALETTE, SEED_COLOURS

    models = _model_colours()
    assert architecture("base").colour.lower() in models and len(models) >= 4
    for name, colour in [*PALETTE.items(), *((f"seed {i}", c) for i, c in enumerate(SEED_COLOURS))]:
        assert colour.lower() not in models, name
        # not merely different: far enough apart to tell on a chart
        assert all(sum((x - y) ** 2 for x, y in zip(_rgb(colour), _rgb(m))) ** 0.5 > 40 for m in models), name


def test_figures_without_models_draw_no_series_in_a_model_colour():
    import numpy as np

    from causalpref.ui.views.correlation import training_figure
    from causalpref.ui.views.objective_overlap import _Draw, _figure

    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 2)) @ np.linalg.cholesky([[1, 0.8], [0.8, 1]]).T
    test = rng.normal(size=(300, 2))
    c = rng.integers(0, 2, 400)
    figures = {
        "toy": toy_figure(0.9, 0.25, 0.5),
        "spread": a_hat_spread_figure([0.0, 0.9], 0.25, 40, 20, 0),
        "overlap": overlap_figure(train[:, 0], train[:, 1], test[:, 0], test[:, 1]),
        "propensity": _figure(_Draw(None, 1.0, rng.uniform(size=400), c), 0.9, 0.1),
        "training curves": training_figure(
            pd.DataFrame(
                {"rho": 0.9, "seed": np.repeat([0, 1, 2], 3), "epoch": np.tile([1, 2, 3], 3), "val_accuracy": 0.7}
            ),
            0.9,
        ),
    }
    models = _model_colours()
    for name, fig in figures.items():
        drawn = _colours(fig)
        assert drawn and not drawn & models, (name, drawn & models)
    # and on a chart of models, the chance line and the paper's markers are no model either
    fig = accuracy_vs_rho_figure(_results(["base"], ["id", "ood"], [0.0, 0.9]), current_rho=0.9, paper_reference=True)
    others = {c for t in fig.data if t.name.startswith("paper") for c in (t.marker.color,)}
    others |= {s.line.color for s in fig.layout.shapes}
    assert others and not {c.lower() for c in others} & models
