"""The vectorised trainer must match the plain per-model loop."""

import numpy as np
import pandas as pd
import pytest
import torch

from causalpref import CausalPrefError
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.models import ModelConfig, build_model
from causalpref.run import sweep as experiments
from causalpref.train.loop import TrainConfig, train_reward_model
from causalpref.train.stacked import train_reward_models

CPU = torch.device("cpu")
CONFIG = TrainConfig(lr=1e-3, epochs=3, batch_size=64)
MODEL = ModelConfig(hidden=32, latent=16)


def sets(world, k, n_train=600, n_val=200):
    pool = world.pool()
    step = n_train + n_val
    return (
        [pool.pairs(np.arange(i * step, i * step + n_train), "train") for i in range(k)],
        [pool.pairs(np.arange(i * step + n_train, (i + 1) * step), "val") for i in range(k)],
    )


@pytest.mark.parametrize(
    "name, world, uses_objective",
    [
        ("base", CorrelatedFactorsWorld(dim=16, pool_size=4000), False),
        ("base", UserObjectivesWorld(dim=16, pool_size=4000), True),
        ("multihead", UserObjectivesWorld(dim=16, pool_size=4000), True),
        ("adversarial", UserObjectivesWorld(dim=16, pool_size=4000), True),
    ],
)
def test_vectorised_equals_one_by_one(name, world, uses_objective):
    trains, vals = sets(world, 4)
    seeds = [11, 12, 13, 14]

    def fresh():
        return [build_model(name, 16, MODEL, s, uses_objective=uses_objective) for s in seeds]

    one_by_one = [train_reward_model(m, t, v, CONFIG, s, CPU) for m, t, v, s in zip(fresh(), trains, vals, seeds)]
    together = train_reward_models(fresh(), trains, vals, CONFIG, seeds, CPU)
    for alone, batched in zip(one_by_one, together):
        assert alone.best_epoch == batched.best_epoch
        for a, b in zip(alone.history, batched.history):
            assert a["val_accuracy"] == pytest.approx(b["val_accuracy"], abs=2e-3)
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        batched_state = batched.model.state_dict()
        for key, value in alone.model.state_dict().items():
            torch.testing.assert_close(value, batched_state[key], atol=1e-4, rtol=1e-4)


def test_models_do_not_leak_into_each_other():
    """Training a model beside others gives what it gives beside different others."""
    trains, vals = sets(CorrelatedFactorsWorld(dim=16, pool_size=4000), 3)
    pair = train_reward_models(
        [build_model("base", 16, MODEL, s) for s in (1, 2)], trains[:2], vals[:2], CONFIG, [1, 2], CPU
    )
    other = train_reward_models(
        [build_model("base", 16, MODEL, s) for s in (1, 3)],
        [trains[0], trains[2]],
        [vals[0], vals[2]],
        CONFIG,
        [1, 3],
        CPU,
    )
    for key, value in pair[0].model.state_dict().items():
        torch.testing.assert_close(value, other[0].model.state_dict()[key], atol=1e-5, rtol=1e-5)


def test_chunking_does_not_change_the_results(tiny_spec, monkeypatch):
    all_at_once = experiments.run_sweep(tiny_spec).results
    monkeypatch.setattr(experiments, "cells_per_chunk", lambda spec, device: 1)
    one_at_a_time = experiments.run_sweep(tiny_spec).results
    pd.testing.assert_frame_equal(
        all_at_once.drop(columns=["accuracy", "margin"]), one_at_a_time.drop(columns=["accuracy", "margin"])
    )
    np.testing.assert_allclose(all_at_once["accuracy"], one_at_a_time["accuracy"], atol=2e-3)


def test_unequal_sets_and_bad_precision_are_refused():
    trains, vals = sets(CorrelatedFactorsWorld(dim=16, pool_size=4000), 2)
    short = trains[1].subset(np.arange(100))
    with pytest.raises(CausalPrefError, match="equal set sizes"):
        train_reward_models(
            [build_model("base", 16, MODEL, s) for s in (0, 1)], [trains[0], short], vals, CONFIG, [0, 1], CPU
        )
    with pytest.raises(CausalPrefError, match="one training set, validation set and seed per model"):
        train_reward_models([build_model("base", 16, MODEL, 0)], trains, vals, CONFIG, [0], CPU)
    with pytest.raises(CausalPrefError, match="needs a CUDA device"):
        train_reward_models(
            [build_model("base", 16, MODEL, 0)], trains[:1], vals[:1], TrainConfig(precision="bf16"), [0], CPU
        )
    with pytest.raises(CausalPrefError, match="precision must be fp32, tf32 or bf16"):
        TrainConfig(precision="fp8")


def test_chunk_policy_bounds_models_at_once():
    from causalpref.train.stacked import models_per_chunk

    small = build_model("base", 32, ModelConfig(hidden=64, latent=16), 0)
    paper = build_model("base", 4096, ModelConfig(hidden=512, latent=64), 0)
    assert models_per_chunk(small, 2500, 32, 64, CPU) > 33  # the whole interactive sweep at once
    assert models_per_chunk(paper, 17_000, 4096, 64, CPU) == 1  # compute-bound: one at a time


def test_forced_chunks_give_the_same_models():
    trains, vals = sets(CorrelatedFactorsWorld(dim=16, pool_size=4000), 3)
    seeds = [4, 5, 6]

    def fit(max_models):
        models = [build_model("base", 16, MODEL, s) for s in seeds]
        return train_reward_models(models, trains, vals, CONFIG, seeds, CPU, max_models=max_models)

    for whole, chunked in zip(fit(None), fit(2)):
        assert whole.best_epoch == chunked.best_epoch
        for key, value in whole.model.state_dict().items():
            torch.testing.assert_close(value, chunked.model.state_dict()[key], atol=1e-5, rtol=1e-5)
