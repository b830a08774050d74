"""The Correlation-shift view without Streamlit: numbers, references and the boundary figure."""

from dataclasses import replace

import numpy as np
import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.run.specs import Exp1Spec, SplitSizes
from causalpref.run.sweep import run_sweep
from causalpref.train.loop import TrainConfig
from causalpref.ui.views.correlation import REMEDY, correlation_view


@pytest.fixture(scope="module")
def sweeps():
    spec = Exp1Spec(
        world=CorrelatedFactorsWorld(dim=16, pool_size=6000),
        rhos=(0.0, 0.9),
        seeds=(0, 1),
        sizes=SplitSizes(train=500, val=150, id=300, ood=300),
        train=TrainConfig(lr=1e-3, epochs=3),
        device="cpu",
    )
    return run_sweep(spec), run_sweep(replace(spec, weighting="balanced"))


def test_the_boundary_shows_rho_zero_beside_the_chosen_rho(sweeps):
    sweep, _ = sweeps
    figure = correlation_view(sweep, 0.9, 0.25).boundary
    titles = [a.text for a in figure.layout.annotations]
    assert "trained at ρ = 0" in titles and "trained at ρ = 0.9" in titles
    heatmaps = [t for t in figure.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 and all(h.zsmooth == "best" for h in heatmaps)
    # the disagreeing quadrants are outlined above the surface, in both panels
    outlines = [s for s in figure.layout.shapes if s.name in ("Q2", "Q4")]
    assert len(outlines) == 4 and all(s.layer == "above" for s in outlines)
    implied = [t.name for t in figure.data if t.name and t.name.startswith("implied")]
    assert implied == [n for n in implied if "ρ = 0" in n or "ρ = 0.9" in n] and len(implied) == 2
    # the surface fills the plotted range exactly
    lim = float(np.abs(heatmaps[0].x).max())
    assert list(figure.layout.xaxis.range) == [-lim, lim]
    # at the lowest ρ there is nothing to compare with: one panel
    alone = correlation_view(sweep, 0.0, 0.25).boundary
    assert len([t for t in alone.data if t.type == "heatmap"]) == 1


def test_paper_values_only_beside_the_synthetic_world(sweeps):
    sweep, _ = sweeps
    view = correlation_view(sweep, 0.9, 0.25)
    assert view.ood.paper is not None and "paper" in view.paper_source
    real = type(sweep)(results=sweep.results.assign(world="real"), details=sweep.details)
    view = correlation_view(real, 0.9, 0.25)
    assert view.ood.paper is None and view.id.paper is None
    assert not any(t.name.startswith("paper") for t in view.curves.data)


def test_the_remedy_reads_the_weighted_variant_against_base(sweeps):
    sweep, remedy = sweeps
    view = correlation_view(sweep, 0.9, 0.25, remedy)
    ood = remedy.results[
        (remedy.results.model == REMEDY) & (remedy.results.split == "ood") & np.isclose(remedy.results.rho, 0.9)
    ]["accuracy"].mean()
    assert view.remedy.ood.value == pytest.approx(100 * ood)
    assert view.remedy.ood_gain == pytest.approx(100 * ood - view.ood.value)
    assert 0 < view.remedy.ess_share < 1
