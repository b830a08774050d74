"""Latent-overlap view, without streamlit: its numbers are the engine's numbers."""

import math

import numpy as np
import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.draw.correlation import draw_correlation_splits
from causalpref.errors import CausalPrefError
from causalpref.eval.positivity import overlap_summary, quadrant_masses
from causalpref.ui.views.overlap import DEFAULT_SIZES, RHO_OPTIONS, default_pair, factor_choices, overlap_view

CAUSAL = ("truthfulness", "instruction_following")


def metric(view, label):
    return next(m for m in view.metrics if m.label == label)


def test_factor_choices_list_every_factor_causal_first():
    names = factor_choices("correlated", "likert")
    assert names[:2] == CAUSAL and "length" in names and len(names) == 10
    assert factor_choices("objectives", None)[:2] == ("helpfulness", "harmlessness")
    assert default_pair("correlated") == CAUSAL
    assert default_pair("objectives") == ("helpfulness", "harmlessness")
    assert RHO_OPTIONS[0] == 0.0 and RHO_OPTIONS[-2:] == (0.9, 0.95)


def test_masses_and_summary_equal_the_engine_on_the_drawn_split():
    view = overlap_view("correlated", "likert", *CAUSAL, 0.6, seed=3)
    pool = CorrelatedFactorsWorld(scale="likert").pool()
    d1, d2 = pool.diffs(CAUSAL[0]), pool.diffs(CAUSAL[1])
    splits = draw_correlation_splits(d1, d2, DEFAULT_SIZES, 0.6, 3)
    tr, ood = splits.indices["train"], splits.indices["ood"]
    expected = quadrant_masses(d1[tr], d2[tr])
    assert view.train_masses == expected
    table = view.masses.set_index("quadrant")
    for key in ("Q1", "Q2", "Q3", "Q4", "axes"):
        assert table.loc[key, "training"] == pytest.approx(expected[key], abs=1e-4)
    assert table.loc["Q2+Q4", "training"] == pytest.approx(expected["q24"], abs=1e-4)
    assert table.loc["Q2+Q4", "OOD test"] == 1.0  # OOD pairs all disagree
    assert view.summary == overlap_summary(d1[tr], d2[tr], d1[ood], d2[ood])
    assert view.achieved_rho == splits.achieved_rho["train"]


@pytest.mark.parametrize(
    "world, scale, pair, rho",
    [
        ("correlated", "likert", CAUSAL, 0.6),
        ("correlated", "continuous", CAUSAL, 0.9),
        ("correlated", "binary", ("truthfulness", "length"), 0.95),
        ("objectives", None, ("helpfulness", "harmlessness"), 0.3),
    ],
)
def test_achieved_rho_is_within_002_of_the_target(world, scale, pair, rho):
    view = overlap_view(world, scale, *pair, rho, seed=0)
    assert abs(view.achieved_rho - rho) <= 0.02
    assert view.target_rho == rho
    assert metric(view, "Achieved training ρ").reading.startswith(f"Target ρ = {rho:g}")


def test_objectives_world_uses_the_factor_differences_of_its_pool():
    view = overlap_view("objectives", "ignored", "helpfulness", "length", 0.0, seed=1)
    assert view.scale is None and not view.discrete
    world = UserObjectivesWorld()
    pool = world.pool()
    j, k = world.factor_names.index("helpfulness"), world.factor_names.index("length")
    d1, d2 = pool.z_a[:, j] - pool.z_b[:, j], pool.z_a[:, k] - pool.z_b[:, k]
    assert view.pool_masses == quadrant_masses(d1, d2)


def test_overlap_worsens_with_rho_and_the_warning_fires_at_high_rho():
    low = overlap_view("correlated", "likert", *CAUSAL, 0.0)
    high = overlap_view("correlated", "likert", *CAUSAL, 0.9)
    assert high.summary.q24_train < low.summary.q24_train
    assert high.summary.poorly_covered_share > low.summary.poorly_covered_share
    assert low.warning is None and high.warning is not None and "Poor overlap" in high.warning
    assert high.baseline == low.summary  # the baseline is the rho = 0 draw with the same seed


def test_continuous_reading_names_the_gaussian_reference_value():
    view = overlap_view("correlated", "continuous", *CAUSAL, 0.9)
    reference = 0.5 - math.asin(view.achieved_rho) / math.pi
    detail = metric(view, "Training pairs in quadrants 2/4").detail  # the metric's tooltip
    assert "1/2 − arcsin(ρ)/π" in detail and f"{reference:.3f}" in detail
    assert view.masses.set_index("quadrant").loc["Q2+Q4", "Gaussian reference (achieved ρ)"] == pytest.approx(
        reference, abs=1e-4
    )
    assert not view.discrete and len(view.metrics) == 3  # no off-axis metric for continuous factors
    poor = metric(view, "OOD test pairs poorly covered")
    assert f"{100 * view.baseline.poorly_covered_share:.1f}%" in poor.detail and "30%" in poor.reading


def test_discrete_scales_say_the_reference_does_not_apply_and_show_the_off_axis_share():
    view = overlap_view("correlated", "binary", *CAUSAL, 0.3)
    assert view.discrete
    assert "only to continuous" in metric(view, "Training pairs in quadrants 2/4").detail
    off = metric(view, "Quadrants 2/4 among pairs without ties")
    assert off.number == pytest.approx(view.summary.q24_off_axes)
    assert "20%" in off.reading


def test_the_figure_shows_training_and_ood_pairs_with_quadrants_shaded():
    view = overlap_view("correlated", "likert", *CAUSAL, 0.6)
    names = [trace.name for trace in view.figure.data]
    assert names[0] == "training pairs" and any("poorly covered" in n for n in names)
    assert {shape.name for shape in view.figure.layout.shapes} >= {"Q2", "Q4"}
    assert view.figure.layout.xaxis.title.text == "Δ truthfulness"
    assert "quadrants 2/4" in view.figure_reading


def test_same_factor_twice_is_a_plain_error():
    with pytest.raises(CausalPrefError, match="two different factors"):
        overlap_view("correlated", "likert", "truthfulness", "truthfulness", 0.6)


@pytest.mark.parametrize(
    "args, message",
    [
        (("nowhere", "likert", *CAUSAL, 0.6), "unknown world"),
        (("correlated", "decimal", *CAUSAL, 0.6), "unknown scale"),
        (("correlated", "likert", "wit", "truthfulness", 0.6), "not a factor of this world"),
        (("objectives", None, *CAUSAL, 0.6), "not a factor of this world"),
        (("correlated", "likert", *CAUSAL, "high"), "ρ must be a number"),
        (("correlated", "likert", *CAUSAL, 1.5), "ρ must be a number"),
        (("correlated", "likert", *CAUSAL, 0.6, -1), "seed"),
    ],
)
def test_bad_inputs_are_plain_errors(args, message):
    with pytest.raises(CausalPrefError, match=message):
        overlap_view(*args)


def test_an_infeasible_rho_raises_the_samplers_error_naming_the_range():
    sizes = {"train": 20_000, "val": 500, "id": 500, "ood": 500}
    with pytest.raises(CausalPrefError, match=r"feasible range is \[-0\.\d+, 0\.\d+\]"):
        overlap_view("correlated", "binary", *CAUSAL, 0.99, sizes=sizes)


def test_same_inputs_same_draw_and_a_new_seed_a_new_one():
    first = overlap_view("correlated", "continuous", *CAUSAL, 0.6, seed=0)
    again = overlap_view("correlated", "continuous", *CAUSAL, 0.6, seed=0)
    other = overlap_view("correlated", "continuous", *CAUSAL, 0.6, seed=1)
    assert first.train_masses == again.train_masses
    assert not np.isclose(first.achieved_rho, other.achieved_rho, rtol=0, atol=1e-12)


def test_reweighting_measures_are_the_diagnostics_of_the_drawn_split():
    from causalpref.eval.diagnostics import (
        effective_sample_share,
        importance_weights,
        reweighting_target_balanced,
        unsupported_test_share,
    )

    pool = CorrelatedFactorsWorld(scale="continuous").pool()
    d1, d2 = pool.diffs(CAUSAL[0]), pool.diffs(CAUSAL[1])
    splits = draw_correlation_splits(d1, d2, DEFAULT_SIZES, 0.9, 3)
    tr, ood = splits.indices["train"], splits.indices["ood"]
    view = overlap_view("correlated", "continuous", *CAUSAL, 0.9, seed=3)
    ess, unsupported, balanced = (m.number for m in view.reweighting)
    assert ess == pytest.approx(effective_sample_share(importance_weights(d1[tr], d2[tr], d1[ood], d2[ood])))
    assert unsupported == pytest.approx(unsupported_test_share(d1[tr], d2[tr], d1[ood], d2[ood]))
    assert balanced == pytest.approx(reweighting_target_balanced(d1[tr], d2[tr]).ess_share)
    at_zero = overlap_view("correlated", "continuous", *CAUSAL, 0.0, seed=3)
    assert ess < at_zero.reweighting[0].number / 4
    assert balanced < 0.6 < 0.9 < at_zero.reweighting[2].number  # Gaussian: 1 / (0.5²/0.144 + 0.5²/0.856)
    assert unsupported > at_zero.reweighting[1].number


def test_balance_table_flags_the_product_not_the_single_factors():
    view = overlap_view("correlated", "continuous", *CAUSAL, 0.9)
    table = view.balance
    assert len(table) == len(factor_choices("correlated", "continuous")) + 1
    assert table["role"].iloc[-1] == "product d1·d2" and table["flag"].iloc[-1]
    assert table["smd"].iloc[-1] < -1  # OOD pairs disagree: d1·d2 < 0 there
    assert not table["flag"].iloc[:-1].any()  # every single factor is balanced
    assert "product d1·d2" in view.balance_reading or "d1·d2" in view.balance_reading


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 0.9])
def test_training_quadrant_mass_is_within_sampling_error_of_the_gaussian_formula(rho):
    from causalpref.eval.analytic import quadrant_24_mass

    for seed in range(3):
        view = overlap_view("correlated", "continuous", *CAUSAL, rho, seed=seed)
        expected = quadrant_24_mass(view.achieved_rho)
        standard_error = math.sqrt(expected * (1 - expected) / view.summary.n_train)
        assert abs(view.summary.q24_train - expected) < 3 * standard_error


def test_numbers_carry_their_change_against_rho_zero_coloured_by_what_is_good():
    view = overlap_view("correlated", "continuous", *CAUSAL, 0.9)
    q24 = metric(view, "Training pairs in quadrants 2/4")
    assert q24.delta == f"{100 * (view.summary.q24_train - view.baseline.q24_train):+.1f} pts"
    assert q24.delta.startswith("-") and q24.delta_color == "normal"  # fewer disagreeing pairs: worse
    poor = metric(view, "OOD test pairs poorly covered")
    assert poor.delta.startswith("+") and poor.delta_color == "inverse"  # more uncovered pairs: worse
    assert q24.delta_description == poor.delta_description == "vs ρ = 0"
    assert {m.delta_color for m in view.reweighting} == {"normal", "inverse"}
    at_zero = overlap_view("correlated", "continuous", *CAUSAL, 0.0)
    assert all(m.delta is None for m in at_zero.metrics + at_zero.reweighting)  # no "+0.0" at the baseline


def test_an_empty_quadrant_2_4_reads_as_a_remedy_that_cannot_act_not_as_good_news():
    view = overlap_view("correlated", "likert", *CAUSAL, 0.95)
    kept = next(m for m in view.reweighting if m.label == "Data kept by balancing the quadrants")
    assert view.train_masses["q24"] == 0 and kept.number > 0.99
    assert kept.value == "—" and kept.delta is None and "nothing to reweight" in kept.reading
    usual = overlap_view("correlated", "continuous", *CAUSAL, 0.9)
    assert next(m for m in usual.reweighting if m.label == kept.label).value.endswith("%")


def _library_names() -> set[str]:
    """Public function names of the engine modules the page reads (clip_weights, ...)."""
    import inspect

    from causalpref.draw import correlation
    from causalpref.eval import analytic, diagnostics, positivity, propensity

    return {
        name
        for module in (analytic, correlation, diagnostics, positivity, propensity)
        for name, value in vars(module).items()
        if inspect.isfunction(value) and "_" in name.strip("_")
    }


@pytest.mark.parametrize(
    "args",
    [
        ("correlated", "likert", *CAUSAL, 0.6),
        ("correlated", "binary", *CAUSAL, 0.95),
        ("objectives", None, "helpfulness", "harmlessness", 0.9),
    ],
)
def test_user_text_is_short_and_names_no_library_function(args):
    view = overlap_view(*args)
    names = _library_names()
    texts = [view.figure_reading, view.balance_reading, view.warning or ""]
    for m in view.metrics + view.reweighting:
        texts += [m.label, m.reading, m.detail]
        assert len(m.reading) <= 110, m.reading  # one or two lines under the number
    for text in texts:
        assert "`" not in text and not any(name in text for name in names), text
    assert len(view.figure_reading) <= 260 and (view.warning is None or len(view.warning) <= 260)
