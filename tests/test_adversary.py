"""The adversarial game (train/game.py), the Decorrelated architecture, the entangled world
and the lambda curve: what each does to training, not only what it reports."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from test_engine_effects import objective_in_embedding  # c plain in column 0, label from column 1: c is removable

from causalpref import CausalPrefError
from causalpref.cli import main
from causalpref.data.worlds import UserObjectivesWorld
from causalpref.eval.inspect import probe_accuracy
from causalpref.models import AdversarialParams, DecorrelatedParams, ModelConfig, build_model, discriminator_accuracy
from causalpref.models.decorrelated import hsic_with_binary
from causalpref.run.specs import Exp2Sizes, Exp2Spec
from causalpref.run.sweep import run_sweep
from causalpref.train.game import Game, lambda_at
from causalpref.train.loop import TrainConfig, btl_loss, make_adam, train_reward_model
from causalpref.train.stacked import stack_models

CPU = torch.device("cpu")
SMALL = ModelConfig(hidden=16, latent=8)


def test_dann_schedule_values():
    assert lambda_at(2.0, "constant", 0.3) == 2.0
    assert lambda_at(2.0, "dann", 0.0) == 0.0
    assert lambda_at(2.0, "dann", 0.1) == pytest.approx(2.0 * (2 / (1 + math.exp(-1)) - 1))  # 0.924
    assert lambda_at(1.0, "dann", 0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert lambda_at(1.0, "dann", 1.0) == pytest.approx(0.99991, abs=1e-5)


def batch(k=None, n=64, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (n,) if k is None else (k, n)
    a, b = torch.randn(*shape, d, generator=g), torch.randn(*shape, d, generator=g)
    return a, b, (torch.rand(*shape, generator=g) > 0.5).float(), torch.randint(0, 2, shape, generator=g)


@pytest.mark.parametrize("k", [1, 3])
def test_k_discriminator_steps_per_encoder_step(k):
    model = build_model("adversarial", 12, SMALL, 0, AdversarialParams(head_hidden=8, disc_steps=k), True)
    game = Game(model, 1e-3, CPU, steps_total=10, stacked=False)
    a, b, y, c = batch()
    for _ in range(4):
        game.step(a, b, y, c, None)
    assert game.disc_updates == 4 * k
    disc_state = game.disc_optimiser.state[next(model.discriminator.parameters())]
    encoder_state = game.optimiser.state[next(model.encoder.parameters())]
    assert int(disc_state["step"]) == 4 * k and int(encoder_state["step"]) == 4


def test_the_papers_game_is_the_reversal_layers_update_also_when_stacked():
    """Options at the paper's: the same parameters as one Adam on BTL + BCE through the
    reversal layer (pair_terms). Stacked, autograd.grad's layouts once made fused Adam misread
    the gradients; this caught it."""
    paper = AdversarialParams(head_hidden=8, disc_steps=1)
    models = [build_model("adversarial", 12, SMALL, seed, paper, True) for seed in (0, 1)]
    game_model, reference = stack_models(models), stack_models(models)
    game = Game(game_model, 1e-3, CPU, steps_total=10, stacked=True)
    optimiser = make_adam(reference.parameters(), 1e-3, CPU)
    a, b, y, c = batch(k=2)
    for _ in range(3):
        game.step(a, b, y, c, None)
        margin, adversary = reference.pair_terms(a, b, c)
        optimiser.zero_grad()
        (btl_loss(margin, y) + adversary).sum().backward()
        optimiser.step()
    for (name, p), q in zip(game_model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5, msg=name)


def test_where_c_is_removable_the_default_game_ends_with_the_discriminator_near_chance():
    """Band: every seed's discriminator within 50 +- 10 % on validation responses, and a fresh
    probe reads c far worse than from the embedding (where it reads it ~98 %)."""
    discriminators, probes, traces = [], [], []
    for seed in (0, 1, 2):
        train, val = objective_in_embedding(1000, seed), objective_in_embedding(300, seed + 100)
        model = build_model("adversarial", 8, ModelConfig(32, 8, 2), seed, AdversarialParams(head_hidden=16), True)
        result = train_reward_model(model, train, val, TrainConfig(lr=3e-3, epochs=20, batch_size=64), seed, CPU)
        assert result.history[result.best_epoch - 1]["val_accuracy"] > 0.9  # the reward is learnt
        tensors = [torch.as_tensor(x) for x in (val.emb_a, val.emb_b, val.objective)]
        discriminators.append(discriminator_accuracy(result.model, *tensors))
        probes.append(probe_accuracy(result.model, *tensors))
        traces.append(result.trace)
    assert all(abs(d - 0.5) <= 0.1 for d in discriminators), discriminators  # the stated band
    assert np.mean(probes) < 0.75, probes
    assert all(len(t) == 20 * 16 and t[-1]["grad_adversary"] > 0 for t in traces)


def test_lambda_zero_game_sends_nothing_from_the_adversary():
    model = build_model("adversarial", 12, SMALL, 0, AdversarialParams(head_hidden=8, adversary_lambda=0.0), True)
    game = Game(model, 1e-3, CPU, steps_total=4, stacked=False)
    a, b, y, c = batch()
    game.step(a, b, y, c, None)
    (row,) = game.trace(steps_per_epoch=1)[0]
    assert row["grad_adversary"] == 0 and row["grad_btl"] > 0 and 0 <= row["disc_accuracy"] <= 1


def test_hsic_is_near_zero_for_independent_latents_and_large_for_dependent_ones():
    g = torch.Generator().manual_seed(0)
    c = torch.randint(0, 2, (400,), generator=g)
    free = torch.randn(400, 4, generator=g)
    tied = free + 3 * c[:, None].float()
    assert hsic_with_binary(free, c) < 0.005 < 0.05 < hsic_with_binary(tied, c)


def test_decorrelated_penalty_leaves_less_of_c_in_the_latent():
    train, val = objective_in_embedding(1000, 0), objective_in_embedding(300, 100)
    probes = {}
    for mu in (0.0, 10.0):
        model = build_model("decorrelated", 8, ModelConfig(32, 8, 2), 0, DecorrelatedParams(16, mu), True)
        result = train_reward_model(model, train, val, TrainConfig(lr=3e-3, epochs=8, batch_size=64), 0, CPU)
        probes[mu] = probe_accuracy(result.model, *[torch.as_tensor(x) for x in (val.emb_a, val.emb_b, val.objective)])
    assert probes[10.0] < probes[0.0] - 0.1, probes


TINY = ["--seeds", "1", "--n-train", "300", "--n-val", "100", "--n-test", "200", "--pool-size", "4000"]
TINY += ["--dim", "16", "--hidden", "16", "--latent", "8", "--epochs", "2"]


def test_decorrelated_goes_in_through_the_registry(tmp_path, capsys):
    """CLI choice, CSV rows with its probe read-out, the cache, stacking, the page's options."""
    from causalpref.ui.views import objectives as ov

    out = tmp_path / "decor.csv"
    assert main(["exp2", "--rho", "0.5", "0.9", "--models", "base", "decorrelated", "--out", str(out)] + TINY) == 0
    assert "Decor inc" in capsys.readouterr().out
    results = pd.read_csv(out)
    assert {"probe_train", "probe_val", "inconsistent"} <= set(results[results["model"] == "decorrelated"]["split"])
    assert main(["exp2", "--rho", "0.5", "0.9", "--models", "base", "decorrelated"] + TINY) == 0
    assert "loaded from the result cache" in capsys.readouterr().out
    assert "decorrelated" in ov.architectures()
    models = [build_model("decorrelated", 4, SMALL, seed, DecorrelatedParams(), True) for seed in (0, 1)]
    emb, c = torch.randn(2, 3, 4), torch.tensor([[0, 1, 1], [1, 0, 0]])
    expected = torch.stack([m(emb[i], c[i]) for i, m in enumerate(models)])
    torch.testing.assert_close(stack_models(models)(emb, c), expected)


def test_the_lambda_curve_from_the_cli(capsys):
    assert main(["exp2", "--rho", "0.9", "--models", "adversarial", "--lambda", "0", "2"] + TINY) == 0
    printed = capsys.readouterr().out
    assert "lambda curve" in printed and "best lambda" in printed
    assert main(["exp2", "--rho", "0.9", "--models", "base", "--lambda", "0", "2"] + TINY) == 2


def test_a_sweep_with_the_adversary_has_its_game_trace():
    spec = Exp2Spec(
        world=UserObjectivesWorld(dim=16, pool_size=4000),
        rhos=(0.9,),
        seeds=(0, 1),
        sizes=Exp2Sizes(train=256, val=100, test=100),
        model=ModelConfig(16, 8),
        train=TrainConfig(lr=1e-3, epochs=2, batch_size=64),
        models=("multihead", "adversarial"),
        device="cpu",
    )
    game = run_sweep(spec).details["game"]
    assert set(game["model"]) == {"adversarial"} and set(game["seed"]) == {0, 1}
    assert len(game) == 2 * 2 * 4  # seeds x epochs x steps
    assert {"step", "epoch", "disc_accuracy", "disc_loss", "btl_loss", "grad_btl", "grad_adversary"} <= set(game)


def quality_direction(world, t):
    """Least-squares direction of (helpfulness + harmlessness) in the embedding difference, on prompts of type t."""
    pool = world.pool()
    keep = np.flatnonzero(pool.prompt_type == t)[:3000]
    pairs = pool.pairs(keep)
    quality = pairs.factor_diffs[:, 0] + pairs.factor_diffs[:, 1]
    w, *_ = np.linalg.lstsq(quality[:, None], pairs.emb_a - pairs.emb_b, rcond=None)
    return w[0] / np.linalg.norm(w[0])


def test_entanglement_makes_the_quality_direction_depend_on_the_prompt_type_and_is_seeded():
    def cosine(**kw):
        world = UserObjectivesWorld(type_specificity=0.0, pool_size=8000, **kw)
        return float(quality_direction(world, 0) @ quality_direction(world, 1))

    assert cosine() > 0.9  # one mixing: a quality looks alike under both prompt types
    assert cosine(entanglement=4.0) < 0.5  # its direction now flips along the type's
    one, again = (UserObjectivesWorld(entanglement=4.0, pool_size=500, seed=3).pool() for _ in range(2))
    other = UserObjectivesWorld(entanglement=4.0, pool_size=500, seed=4).pool()
    idx = np.arange(100)
    assert np.array_equal(one.pairs(idx).emb_a, again.pairs(idx).emb_a)
    assert not np.allclose(one.pairs(idx).emb_a, other.pairs(idx).emb_a)
    default = UserObjectivesWorld(pool_size=500).pool().pairs(idx).emb_a
    assert np.array_equal(default, UserObjectivesWorld(pool_size=500, entanglement=0.0).pool().pairs(idx).emb_a)
    with pytest.raises(CausalPrefError, match="entanglement"):
        UserObjectivesWorld(entanglement=-1.0)


def test_game_options_are_checked():
    for bad in ({"encoder_loss": "x"}, {"schedule": "x"}, {"disc_steps": 0}, {"disc_lr": -1.0}, {"disc_hidden": -2}):
        with pytest.raises(CausalPrefError):
            AdversarialParams(**bad)
    assert copy.copy(AdversarialParams(head_hidden=7)).discriminator_width == 7
