import numpy as np
import pytest
import torch

from causalpref import CausalPrefError
from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.device import resolve_device
from causalpref.models import BaseReward, ModelConfig, build_model
from causalpref.stats import pairwise_accuracy
from causalpref.train.loop import TrainConfig, reward_margins, train_reward_model

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def easy_data():
    pool = CorrelatedFactorsWorld(scale="continuous", noise=0.3, dim=16, pool_size=3000).pool()
    return pool.pairs(np.arange(0, 2000), "train"), pool.pairs(np.arange(2000, 3000), "val")


def test_model_shape_matches_the_paper_layout():
    model = BaseReward(4096, ModelConfig())
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4096, 512), (512, 512), (512, 64), (64, 1)]
    assert model.head.bias is None  # a reward offset cancels in r(a) - r(b)
    assert model(torch.zeros(5, 4096)).shape == (5,)


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = build_model("base", 8, ModelConfig(hidden=4, latent=2), seed=5)
    assert torch.equal(torch.rand(1), before)
    second = build_model("base", 8, ModelConfig(hidden=4, latent=2), seed=5)
    third = build_model("base", 8, ModelConfig(hidden=4, latent=2), seed=6)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.head.weight, third.head.weight)


def test_training_learns_far_above_chance_and_keeps_the_best_epoch(easy_data):
    train, val = easy_data
    config = TrainConfig(lr=1e-3, epochs=4, batch_size=64)
    result = train_reward_model(
        build_model("base", train.dim, ModelConfig(hidden=32, latent=8), 0), train, val, config, 0, CPU
    )
    val_accuracies = [h["val_accuracy"] for h in result.history]
    assert result.best_epoch == 1 + int(np.argmax(val_accuracies))
    achieved = pairwise_accuracy(reward_margins(result.model, val, CPU), val.label)
    assert achieved == pytest.approx(max(val_accuracies))
    assert achieved > 0.7  # chance is 0.5
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_same_seed_gives_bit_identical_weights(easy_data):
    train, val = easy_data
    config = TrainConfig(lr=1e-3, epochs=2, batch_size=128)

    def fit(seed):
        return train_reward_model(
            build_model("base", train.dim, ModelConfig(hidden=16, latent=4), seed), train, val, config, seed, CPU
        ).model.state_dict()

    first, second, other = fit(1), fit(1), fit(2)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_on_epoch_can_stop_training(easy_data):
    train, val = easy_data
    seen = []
    result = train_reward_model(
        build_model("base", train.dim, ModelConfig(hidden=8, latent=4), 0),
        train,
        val,
        TrainConfig(epochs=5),
        0,
        CPU,
        on_epoch=lambda epoch, record: seen.append(epoch) or epoch == 2,
    )
    assert seen == [1, 2] and len(result.history) == 2


def test_dimension_mismatch_is_named(easy_data):
    train, _ = easy_data
    other = CorrelatedFactorsWorld(dim=8, pool_size=50).pool().pairs(np.arange(50), "val")
    with pytest.raises(CausalPrefError, match="differ in dimension: 16 vs 8"):
        train_reward_model(
            build_model("base", 16, ModelConfig(hidden=4, latent=2), 0), train, other, TrainConfig(), 0, CPU
        )


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": -4}, "batch_size must be"),
    ],
)
def test_bad_train_config(changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        TrainConfig(**changes)


def test_bad_model_config():
    with pytest.raises(CausalPrefError, match="model hidden must be a positive integer"):
        ModelConfig(hidden=0)


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    expected = "cuda" if torch.cuda.is_available() else "mps" if mps else "cpu"
    assert resolve_device("auto").type == expected  # cuda > mps > cpu
    with pytest.raises(CausalPrefError, match="device must be one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(CausalPrefError, match="CUDA is not available"):
            resolve_device("cuda")
