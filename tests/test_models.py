import numpy as np
import pytest
import torch

from causalpref import CausalPrefError
from causalpref.data.worlds import UserObjectivesWorld
from causalpref.models import AdversarialParams, ModelConfig, MultiheadParams, build_model, discriminator_accuracy
from causalpref.train.loop import PairTensors, TrainConfig, train_reward_model

CPU = torch.device("cpu")
SMALL = ModelConfig(hidden=16, latent=8)


def adversarial(lam, d_in=5, seed=0):
    return build_model("adversarial", d_in, SMALL, seed, AdversarialParams(head_hidden=8, adversary_lambda=lam))


def test_base_appends_the_objective_to_the_input():
    model = build_model("base", 5, SMALL, 0, uses_objective=True)
    emb = torch.randn(4, 5)
    r0, r1 = model(emb, torch.zeros(4)), model(emb, torch.ones(4))
    assert model.encoder[0].in_features == 6 and not torch.allclose(r0, r1)
    with pytest.raises(CausalPrefError, match="needs the objective"):
        model(emb)


def test_multihead_routes_each_pair_to_its_objectives_head():
    model = build_model("multihead", 5, SMALL, 0, MultiheadParams(head_hidden=8))
    emb = torch.randn(3, 5)
    z = model.encoder(emb)
    mixed = model(emb, torch.tensor([0, 1, 0]))
    expected = torch.stack([model.heads[0](z[0]), model.heads[1](z[1]), model.heads[0](z[2])]).squeeze(-1)
    assert torch.allclose(mixed, expected)


def test_paper_exp2_shapes():
    model = build_model("adversarial", 4096, ModelConfig(hidden=512, latent=512), 0, AdversarialParams(head_hidden=512))
    assert model.encoder[-2].out_features == 512
    assert [m.out_features for m in model.heads[0] if isinstance(m, torch.nn.Linear)] == [512, 1]
    assert [m.out_features for m in model.discriminator if isinstance(m, torch.nn.Linear)] == [512, 1]


def test_gradient_reversal_flips_and_scales_the_encoders_gradient():
    emb, objective = torch.randn(6, 5), torch.tensor([0, 1, 0, 1, 1, 0])

    def encoder_grad(lam):
        model = adversarial(lam)
        _, adversary_loss = model.pair_terms(emb, emb, objective)
        adversary_loss.backward()
        return model.encoder[0].weight.grad.clone(), model.discriminator[0].weight.grad.clone()

    def plain_grad():
        """The encoder's gradient of the discriminator's BCE without reversal: what helps h read c."""
        model = adversarial(1.0)
        z = model.encoder(torch.cat([emb, emb]))
        logits = model.discriminator_logits(z)
        torch.nn.functional.binary_cross_entropy_with_logits(
            logits, torch.cat([objective, objective]).float()
        ).backward()
        return model.encoder[0].weight.grad.clone()

    g1, d1 = encoder_grad(1.0)
    g2, d2 = encoder_grad(2.0)
    torch.testing.assert_close(g2, 2 * g1)  # encoder: -lambda times the plain gradient
    torch.testing.assert_close(d1, d2)  # discriminator: its own, unreversed gradient
    torch.testing.assert_close(g1, -plain_grad())  # the sign: the encoder is pushed to hide c
    g0, _ = encoder_grad(0.0)
    assert torch.count_nonzero(g0) == 0


def test_lambda_zero_adversarial_equals_multihead_bit_for_bit():
    pool = UserObjectivesWorld(dim=12, pool_size=1500).pool()
    train, val = pool.pairs(np.arange(1000), "train"), pool.pairs(np.arange(1000, 1500), "val")
    config = TrainConfig(lr=1e-3, epochs=3, batch_size=64)
    multi = train_reward_model(
        build_model("multihead", 12, SMALL, 3, MultiheadParams(head_hidden=8)), train, val, config, 3, CPU
    )
    adv = train_reward_model(adversarial(0.0, d_in=12, seed=3), train, val, config, 3, CPU)
    assert multi.best_epoch == adv.best_epoch
    adv_state = adv.model.state_dict()
    for key, value in multi.model.state_dict().items():
        assert torch.equal(value, adv_state[key]), key
    # and with lambda > 0 the encoder does move differently
    adv1 = train_reward_model(adversarial(1.0, d_in=12, seed=3), train, val, config, 3, CPU)
    assert not torch.equal(adv1.model.encoder[0].weight, multi.model.encoder[0].weight)


def test_discriminator_accuracy_counts_hits_on_both_responses():
    model = adversarial(1.0)
    emb_a, emb_b = torch.randn(10, 5), torch.randn(10, 5)
    objective = torch.tensor([0, 1] * 5)
    predicted = [(model.discriminator_logits(model.latent(e)) > 0).long() for e in (emb_a, emb_b)]
    expected = float(torch.cat([p == objective for p in predicted]).float().mean())
    assert discriminator_accuracy(model, emb_a, emb_b, objective) == expected
    # a perfect reader: objective set to the discriminator's own predictions on both sides
    assert discriminator_accuracy(model, emb_a, emb_a, predicted[0]) == 1.0


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: AdversarialParams(adversary_lambda=-1.0), "lambda must be a finite number"),
        (lambda: AdversarialParams(adversary_lambda=float("nan")), "lambda must be a finite number"),
        (lambda: MultiheadParams(head_hidden=-1), "head_hidden must be an integer >= 0"),
        (lambda: ModelConfig(hidden=0), "hidden must be a positive integer"),
    ],
)
def test_bad_model_parameters(build, expected):
    with pytest.raises(CausalPrefError, match=expected):
        build()


def test_params_of_another_architecture_are_refused():
    with pytest.raises(CausalPrefError, match="must be a MultiheadParams"):
        build_model("multihead", 4, SMALL, 0, AdversarialParams())


def test_unknown_model_name():
    with pytest.raises(CausalPrefError, match="unknown model 'transformer'"):
        build_model("transformer", 4, SMALL, 0)


def test_pair_tensors_feed_the_readout():
    pool = UserObjectivesWorld(dim=5, pool_size=200).pool()
    pairs = PairTensors(pool.pairs(np.arange(50)), CPU)
    value = discriminator_accuracy(adversarial(1.0), pairs.emb_a, pairs.emb_b, pairs.objective)
    assert value == pytest.approx(round(value * 100) / 100)  # a share of 100 hits
