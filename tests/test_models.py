import numpy as np
import pytest
import torch

from causalpref import CausalPrefError
from causalpref.models.architectures import ModelConfig, build_model
from causalpref.train.loop import TrainConfig, discriminator_accuracy, train_reward_model
from causalpref.data.worlds import UserObjectivesWorld

CPU = torch.device("cpu")
SMALL = ModelConfig(hidden=16, latent=8, head_hidden=8)


def test_base_appends_the_objective_to_the_input():
    model = build_model("base", 5, SMALL, 0, uses_objective=True)
    emb = torch.randn(4, 5)
    r0, r1 = model(emb, torch.zeros(4)), model(emb, torch.ones(4))
    assert model.encoder[0].in_features == 6 and not torch.allclose(r0, r1)
    with pytest.raises(CausalPrefError, match="needs the objective"):
        model(emb)


def test_multihead_routes_each_pair_to_its_objectives_head():
    model = build_model("multihead", 5, SMALL, 0)
    emb = torch.randn(3, 5)
    z = model.encoder(emb)
    mixed = model(emb, torch.tensor([0, 1, 0]))
    assert torch.allclose(mixed, torch.stack([model.heads[0](z[0]), model.heads[1](z[1]), model.heads[0](z[2])]).squeeze(-1))


def test_paper_exp2_shapes():
    model = build_model("adversarial", 4096, ModelConfig(hidden=512, latent=512, head_hidden=512), 0)
    assert model.encoder[-2].out_features == 512
    assert [m.out_features for m in model.heads[0] if isinstance(m, torch.nn.Linear)] == [512, 1]
    assert [m.out_features for m in model.discriminator if isinstance(m, torch.nn.Linear)] == [512, 1]


def test_gradient_reversal_flips_and_scales_the_encoders_gradient():
    emb, objective = torch.randn(6, 5), torch.tensor([0, 1, 0, 1, 1, 0])

    def encoder_grad(lam):
        model = build_model("adversarial", 5, ModelConfig(hidden=16, latent=8, head_hidden=8, adversary_lambda=lam), 0)
        _, adversary_loss = model.pair_terms(emb, emb, objective)
        adversary_loss.backward()
        return model.encoder[0].weight.grad.clone(), model.discriminator[0].weight.grad.clone()

    g1, d1 = encoder_grad(1.0)
    g2, d2 = encoder_grad(2.0)
    torch.testing.assert_close(g2, 2 * g1)          # encoder: -lambda times the plain gradient
    torch.testing.assert_close(d1, d2)              # discriminator: its own, unreversed gradient
    g0, _ = encoder_grad(0.0)
    assert torch.count_nonzero(g0) == 0


def test_lambda_zero_adversarial_equals_multihead_bit_for_bit():
    pool = UserObjectivesWorld(dim=12, pool_size=1500).pool()
    train, val = pool.pairs(np.arange(1000), "train"), pool.pairs(np.arange(1000, 1500), "val")
    config = TrainConfig(lr=1e-3, epochs=3, batch_size=64)
    zero = ModelConfig(hidden=16, latent=8, head_hidden=8, adversary_lambda=0.0)
    multi = train_reward_model(build_model("multihead", 12, zero, 3), train, val, config, 3, CPU)
    adv = train_reward_model(build_model("adversarial", 12, zero, 3), train, val, config, 3, CPU)
    assert multi.best_epoch == adv.best_epoch
    adv_state = adv.model.state_dict()
    for key, value in multi.model.state_dict().items():
        assert torch.equal(value, adv_state[key]), key
    # and with lambda > 0 the encoder does move differently
    one = ModelConfig(hidden=16, latent=8, head_hidden=8, adversary_lambda=1.0)
    adv1 = train_reward_model(build_model("adversarial", 12, one, 3), train, val, config, 3, CPU)
    assert not torch.equal(adv1.model.encoder[0].weight, multi.model.encoder[0].weight)
    assert 0.0 <= discriminator_accuracy(adv1.model, val, CPU) <= 1.0
    assert discriminator_accuracy(multi.model, val, CPU) is None


@pytest.mark.parametrize("changes, expected", [
    ({"adversary_lambda": -1.0}, "lambda must be a finite number >= 0"),
    ({"adversary_lambda": float("nan")}, "lambda must be a finite number >= 0"),
    ({"head_hidden": -1}, "head_hidden must be an integer >= 0"),
])
def test_bad_model_config(changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        ModelConfig(**changes)


def test_unknown_model_name():
    with pytest.raises(CausalPrefError, match="unknown model 'transformer'"):
        build_model("transformer", 4, SMALL, 0)
