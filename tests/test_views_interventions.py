"""The Interventions page's views and figures (causalpref.ui.views.interventions,
causalpref.ui.plots_interventions) on hand-made frames: no training, no streamlit."""

import numpy as np
import pandas as pd
import pytest

from causalpref.errors import CausalPrefError
from causalpref.ui import plots_interventions as pi
from causalpref.ui.plots import PALETTE
from causalpref.ui.state import INTERVENTIONS
from causalpref.ui.views import interventions as iv

STRATEGIES = ("observational", "targeted", "active")
LABELS = {"observational": "Observational", "targeted": "Targeted", "active": "Active"}
MEANS = {  # OOD accuracy [%] per budget (0, 50, 100, 200, 500, 1000)
    "observational": (58, 59, 60, 61, 62, 63),
    "targeted": (58, 62, 66, 70, 75, 78),
    "active": (58, 60, 63, 66, 70, 73),
}


@pytest.fixture
def frames():
    curves = pd.DataFrame(
        [
            {"strategy": s, "budget": b, "mean": float(v), "sd": 1.0, "n": 3}
            for s, values in MEANS.items()
            for b, v in zip(iv.BUDGET_OPTIONS, values)
        ]
    )
    obs = dict(zip(iv.BUDGET_OPTIONS, MEANS["observational"]))
    paired = pd.DataFrame(
        [
            {"strategy": s, "budget": b, "diff": v - obs[b], "se": 0.8}
            for s in ("targeted", "active")
            for b, v in zip(iv.BUDGET_OPTIONS, MEANS[s])
        ]
    )
    half = pd.DataFrame({"strategy": list(STRATEGIES), "labels": [np.nan, 180.0, 400.0]})
    return curves, paired, half


def test_the_cards_give_each_number_its_baseline(frames):
    curves, paired, _ = frames
    base, obs, best = iv.cards(curves, paired, STRATEGIES, LABELS, 200, "ood", 75.0, "Trained at ρ = 0")
    assert (base.value, base.delta) == ("58.0%", None)
    assert "chance 50%" in base.reading and "trained at ρ = 0: 75.0%" in base.reading
    assert (obs.label, obs.value, obs.delta) == ("Observational, 200 labels", "61.0%", "+3.0 vs base set")
    assert best.label == "Best at 200 labels: Targeted" and best.value == "70.0%"
    assert best.delta == "+9.0 ± 0.8 vs observational"


def test_the_reading_at_a_budget_says_the_winner_its_paired_difference_and_whether_it_is_clear(frames):
    curves, paired, _ = frames
    text = iv.budget_reading(curves, paired, STRATEGIES, LABELS, 200, "ood")
    assert text.startswith("With 200 extra labels, Targeted reaches OOD accuracy 70.0%")
    assert "+9.0 ± 0.8 points against observational's 61.0%" in text and "a clear difference" in text
    close = paired.assign(se=10.0)
    assert "not a clear difference" in iv.budget_reading(curves, close, STRATEGIES, LABELS, 200, "ood")
    assert "every strategy is the base set" in iv.budget_reading(curves, paired, STRATEGIES, LABELS, 0, "ood")
    worse = curves.assign(mean=np.where(curves["strategy"] == "observational", 99.0, curves["mean"]))
    assert iv.budget_reading(worse, paired, STRATEGIES, LABELS, 200, "ood").startswith(
        "With 200 extra labels, Observational reaches"
    )


def test_the_cost_table_has_paired_differences_at_every_budget_and_labels_to_half(frames):
    curves, paired, half = frames
    table = iv.cost_table(curves, paired, half, STRATEGIES, LABELS, 200, "ood")
    assert list(table["strategy"]) == ["Observational", "Targeted", "Active"]
    assert list(table["labels to recover half the loss"]) == ["not reached", "180", "400"]
    assert table.loc[1, "OOD accuracy at 200 labels %"] == "70.0 ± 1.0"
    assert table.loc[1, "vs observational at 1000"] == "+15.0 ± 0.8"
    assert table.loc[0, "vs observational at 50"] == "reference"
    assert "vs observational at 0" not in table  # no labels, nothing to compare


def test_the_curves_draw_a_band_per_strategy_and_the_references_as_labelled_lines(frames):
    curves, _, _ = frames
    strategies = {s: (LABELS[s], pi.strategy_colour(i)) for i, s in enumerate(STRATEGIES)}
    references = [("base set", 58.0, 1.0), ("ρ = 0 model", 75.0, 0.5), ("reweighting", float("nan"), 0.0)]
    fig = iv.budget_curves_figure(curves, strategies, references, "OOD accuracy", 200)
    bands = [t for t in fig.data if t.fill == "toself"]
    lines = [t for t in fig.data if t.fill != "toself"]
    assert len(bands) == 3 and all(t.mode == "lines" for t in bands)
    assert [t.name for t in lines] == [
        "Observational",
        "Targeted",
        "Active",
        "base set: 58.0% ± 1.0",
        "ρ = 0 model: 75.0% ± 0.5",
    ]
    band = bands[1]  # Targeted: mean ± sd
    assert max(band.y) == pytest.approx(79) and min(band.y) == pytest.approx(57)
    base = lines[3]  # a reference: flat across every budget, black, dashed
    assert (
        list(base.x) == [0, 1000] and list(base.y) == [58.0, 58.0] and base.line.dash and base.line.color == "#000000"
    )
    assert not any(t.name.startswith("reweighting") for t in lines)  # no value, no line
    notes = [a.text for a in fig.layout.annotations]
    assert "chance 50%" in notes and "200 labels" in notes


def test_strategy_colours_are_no_model_and_no_reference_colour():
    from causalpref.models import architecture_names
    from causalpref.variants import variant_colour

    taken = {variant_colour(a).lower() for a in architecture_names()} | {c.lower() for c in PALETTE.values()}
    assert not taken & {c.lower() for c in pi.STRATEGY_COLOURS}
    assert pi.BASE_POINTS.lower() not in {c.lower() for c in pi.STRATEGY_COLOURS}


def test_where_the_labels_went_in_the_plane_and_in_the_cells():
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"seed": [0] * 100 + [1] * 100, "d1": rng.integers(1, 4, 200), "d2": rng.integers(1, 4, 200)})
    added = pd.DataFrame(
        {"strategy": "targeted", "budget": 50, "seed": 0, "d1": rng.integers(1, 4, 50), "d2": -rng.integers(1, 4, 50)}
    )
    fig = iv.positivity_figure({"base": base, "added": added}, "exp1", "targeted", 50, "Targeted", "#8c564b")
    assert [len(t.x) for t in fig.data] == [100, 50]  # seed 0 only
    assert "0.0% before, 33.3% after" in fig.layout.title.text  # all 50 extra pairs in quadrant 4
    assert iv.positivity_figure({"base": base}, "exp1", "targeted", 50, "T", "#8c564b") is None

    base2 = pd.DataFrame({"seed": 0, "prompt_type": [0, 0, 1, 1, 0], "objective": [0, 0, 1, 1, 1]})
    added2 = pd.DataFrame(
        {"strategy": "randomised", "budget": 2, "seed": 0, "prompt_type": [1, 0], "objective": [0, 1]}
    )
    cells = iv.cell_counts(base2, added2)
    assert list(cells["base"]) == [2, 1, 0, 2] and list(cells["added"]) == [0, 1, 1, 0]
    assert list(cells["consistent"]) == [True, False, False, True]
    fig = iv.positivity_figure({"base": base2, "added": added2}, "exp2", "randomised", 2, "Randomised", "#8c564b")
    assert "20.0% before, 42.9% after" in fig.layout.title.text
    with pytest.raises(CausalPrefError, match="lack the column"):
        iv.cell_counts(base2.drop(columns="objective"), added2)


def test_bad_url_values_are_named_with_what_the_control_takes():
    lines = iv.bad_params(INTERVENTIONS, {"rho": ["abc"], "budget": ["-5"], "experiment": ["exp1"]})
    assert len(lines) == 2
    assert lines[0].startswith("The link sets rho='abc'") and "using 0.9" in lines[0]
    assert "budget='-5'" in lines[1] and "one of 0, 50, 100, 200, 500, 1000" in lines[1]
    assert iv.bad_params(INTERVENTIONS, {"rho": ["1"]}, {"rho": iv.RHO_OPTIONS["exp2"]}) == []
    assert iv.bad_params(INTERVENTIONS, {"rho": ["1"]}, {"rho": iv.RHO_OPTIONS["exp1"]})


def test_the_models_the_progress_bar_promises_are_the_models_the_engine_trains():
    """appkit's estimate counts models and work with views.interventions.training_size: it must
    match what the engine trains, active querying's intermediate rounds included."""
    from apptest_helpers import tiny_interventions_spec

    from causalpref.interventions.run import run_interventions

    spec = tiny_interventions_spec("exp1", 0.9)
    totals = []
    run_interventions(spec, progress=lambda done, total, message: totals.append((done, total, message)))
    models, factor = iv.training_size(spec)
    trained = [(done, total) for done, total, message in totals if not message.startswith("drawing")]
    assert {total for _, total in trained} == {models} and trained[-1][0] == models
    per_seed = models / len(spec.base.seeds)  # each model sees the base set, and at most the largest budget more
    sizes = spec.base.sizes
    assert per_seed < factor < per_seed * (sizes.train + max(spec.budgets) + sizes.val) / (sizes.train + sizes.val)
