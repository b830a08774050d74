"""The User objectives page's propensities: computed with the sweep, kept on disk, read on a ρ move."""

from dataclasses import replace

import pytest
import torch

from causalpref.data.worlds import UserObjectivesWorld
from causalpref.run import propensity
from causalpref.run.specs import Exp2Sizes, Exp2Spec
from causalpref.ui.views import objective_overlap


@pytest.fixture
def spec():
    world = UserObjectivesWorld(pool_size=4000, seed=3)
    return replace(Exp2Spec(), world=world, sizes=Exp2Sizes(train=400, val=100, test=200), rhos=(0.5, 0.9))


@pytest.fixture
def computed(monkeypatch):
    calls = []
    real = propensity.compute

    def counting(draw):
        calls.append(draw.rho)
        return real(draw)

    monkeypatch.setattr(propensity, "compute", counting)
    propensity.training_propensities.cache_clear()
    objective_overlap._draw.cache_clear()
    yield calls
    propensity.training_propensities.cache_clear()
    objective_overlap._draw.cache_clear()


def test_prepare_computes_every_rho_once_and_a_rho_move_only_reads(spec, computed):
    propensity.prepare(spec)
    assert computed == [0.5, 0.9]
    view = objective_overlap.objective_overlap_view(spec, 0.9)
    assert computed == [0.5, 0.9]  # the page's ρ move fitted nothing
    assert view.overlap.auc > objective_overlap.objective_overlap_view(spec, 0.5).overlap.auc


def test_a_new_process_loads_the_propensities_from_the_result_cache(spec, computed, private_cache):
    first = propensity.training_propensities(spec.world, spec.sizes, 0.9)
    propensity.training_propensities.cache_clear()  # as after a server restart
    again = propensity.training_propensities(spec.world, spec.sizes, 0.9)
    assert computed == [0.9] and again.equals(first)
    assert any(private_cache.rglob("*.npz"))


def test_the_propensities_are_those_of_the_sweeps_training_set(spec):
    """Seed 0's training split at ρ: the pairs the sweep's first seed trains on."""
    from causalpref.run.exp2 import UserObjectives

    frame = propensity.compute(propensity.PropensityDraw(spec.world, spec.sizes, 0.9))
    experiment = UserObjectives(spec, torch.device("cpu"))
    train = experiment.draw(0.9, 0).train
    assert len(frame) == len(train) and (frame["objective"].to_numpy() == train.objective).all()


def test_the_servers_warm_up_builds_the_default_pools_and_imports_the_optimiser(monkeypatch):
    import sys

    from causalpref.data.worlds import objectives, synthetic
    from causalpref.run.warmup import start_warm_up

    objectives._shared_pool.cache_clear()
    synthetic._shared_pool.cache_clear()
    start_warm_up().join()
    assert objectives._shared_pool.cache_info().currsize == 1
    assert synthetic._shared_pool.cache_info().currsize == 1
    assert "_embedded" in objectives.UserObjectivesWorld().pool().__dict__  # embedded, not only drawn
    assert "torch._dynamo" in sys.modules
