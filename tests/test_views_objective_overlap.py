"""Prompt–objective overlap view: its numbers are the propensity engine's on the sweep's draw."""

from dataclasses import replace

import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.draw.consistency import draw_objective_splits
from causalpref.draw.splits import cell_seed
from causalpref.errors import CausalPrefError
from causalpref.eval.propensity import cross_fitted_propensity, inverse_propensity_weights, propensity_overlap
from causalpref.run.specs import Exp2Sizes, Exp2Spec
from causalpref.ui.views.objective_overlap import objective_overlap_view

SPEC = Exp2Spec(world=UserObjectivesWorld(pool_size=8000), sizes=Exp2Sizes(train=800, val=200, test=400))


def test_numbers_are_the_engines_on_the_training_split_of_seed_zero():
    pool = SPEC.world.pool()
    splits = draw_objective_splits(pool.prompt_type, pool.objective, SPEC.sizes.as_dict(), 0.8, cell_seed(0, 0.8))
    train = pool.pairs(splits.indices["train"])
    p = cross_fitted_propensity(train.emb_a, train.objective, seed=0)
    view = objective_overlap_view(SPEC, 0.8)
    assert view.overlap == propensity_overlap(p, train.objective, 0.1)
    weights, ess = inverse_propensity_weights(p, train.objective)
    assert view.ess_share == pytest.approx(ess / len(weights))


def test_overlap_collapses_as_rho_goes_to_one_and_only_then_the_warning_fires():
    low, high, full = (objective_overlap_view(SPEC, rho) for rho in (0.5, 0.9, 1.0))
    assert low.warning is None and high.warning and full.warning
    assert low.overlap.outside_share < 0.05 < high.overlap.outside_share < full.overlap.outside_share
    assert low.overlap.auc < 0.6 and full.overlap.auc > 0.99
    assert high.ess_share < low.ess_share / 2
    assert high.baseline == low.overlap  # every view carries the ρ = 0.5 numbers
    assert "0.5" in high.readings["outside"] and len(high.figure.data) == 2


def test_the_warning_and_readings_speak_to_the_reader_not_to_a_programmer():
    low, high, full = (objective_overlap_view(SPEC, rho) for rho in (0.5, 0.9, 1.0))
    for view in (low, high, full):
        for text in [*view.readings.values(), view.warning or ""]:
            assert "`" not in text and "clip_weights" not in text and "WARNING" not in text, text
        assert all(len(text) <= 130 for text in view.readings.values())  # one or two lines
    assert "Poor overlap between prompt and objective" in high.warning and len(high.warning) <= 320
    # at rho = 1 the weights are flat again, which is no good news: nothing left to up-weight
    assert full.ess_share > 0.5 and "nothing to up-weight" in full.readings["ess"]
    assert "nothing to up-weight" not in high.readings["ess"]
    # the two objectives are drawn in the class colours, not in Base's blue
    from causalpref.ui.plots import PALETTE

    assert [t.marker.color for t in high.figure.data] == [PALETTE["class 0"], PALETTE["class 1"]]


def test_worlds_without_objectives_and_bad_rho_are_plain_errors():
    with pytest.raises(CausalPrefError, match="no objective"):
        objective_overlap_view(replace(SPEC, world=CorrelatedFactorsWorld(pool_size=4000)), 0.9)
    for rho in (0.2, 1.5, float("nan"), True):
        with pytest.raises(CausalPrefError, match="ρ must be"):
            objective_overlap_view(SPEC, rho)
