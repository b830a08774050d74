"""What the engine's features DO to the trained model, not what they report.

Each test here fails when a feature is silently switched off or turned around while every
number it reports still looks plausible. tools/mutation_check.py applies such faults to
the source one at a time and checks that these tests catch them (docs/mutation.md):

- gradient reversal: the adversary's loss pushes the encoder AGAINST the discriminator
  (-lambda times its plain gradient), and adversarial training leaves a discriminator that
  reads c from z_hat worse than without reversal;
- training weights (balanced quadrants for Experiment 1, inverse propensity for
  Experiment 2): they change what both trainers learn (and all-ones weights change nothing),
  they balance the training set as they claim, and a weighted sweep differs from an
  unweighted one;
- best-validation checkpoint: both trainers return the weights of the best epoch, not the
  last one;
- per-cell data seeds: the same spec seed draws different pairs at different rho;
- the stacked trainer trains each model as the plain loop would (its own batch order), and
  Adam runs at the configured learning rate.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from causalpref.data.pairs import PairSet
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.draw.splits import cell_seed, draw_exp1_splits, draw_exp2_splits
from causalpref.models import AdversarialParams, ModelConfig, build_model, discriminator_accuracy
from causalpref.run.specs import Exp1Spec, Exp2Sizes, Exp2Spec, SplitSizes
from causalpref.run.sweep import run_sweep
from causalpref.stats import pairwise_accuracy
from causalpref.train.loop import TrainConfig, reward_margins, train_reward_model
from causalpref.train.stacked import train_reward_models
from causalpref.train.weighting import apply_weighting

CPU = torch.device("cpu")
SMALL = ModelConfig(hidden=32, latent=8)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: one thread is faster, and much faster when the cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def factor_pool():
    return CorrelatedFactorsWorld(scale="continuous", noise=0.3, dim=16, pool_size=3000).pool()


def build(name="base", d_in=16, seed=0, config=SMALL, params=None, uses_objective=False):
    # keywords only: the registry's positional order is not part of what is tested here
    return build_model(name, d_in, config, params=params, seed=seed, uses_objective=uses_objective)


def fit(trainer, trains, vals, config, seeds, **model_kwargs):
    """Train one model per (train, val, seed): one by one with the plain loop, or stacked
    (K = len(trains) >= 2), or through the stacked entry point one at a time (K = 1)."""
    models = [build(seed=seed, **model_kwargs) for seed in seeds]
    if trainer == "loop":
        return [train_reward_model(m, t, v, config, s, CPU) for m, t, v, s in zip(models, trains, vals, seeds)]
    max_models = 1 if trainer == "stacked_k1" else None
    return train_reward_models(models, trains, vals, config, seeds, CPU, max_models=max_models)


def states_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def val_accuracy(model, val: PairSet) -> float:
    return pairwise_accuracy(reward_margins(model, val, CPU), val.label)


# --------------------------------------------------------------------------- gradient reversal


def adversarial_batch(n=48, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g), torch.randint(0, 2, (n,), generator=g)


@pytest.mark.parametrize("lam", [0.7, 1.0])
def test_gradient_reversal_sends_minus_lambda_times_the_discriminator_gradient_into_the_encoder(lam):
    model = build(
        "adversarial",
        d_in=12,
        config=ModelConfig(hidden=16, latent=8),
        params=AdversarialParams(head_hidden=8, adversary_lambda=lam),
        uses_objective=True,
    )
    emb_a, emb_b, objective = adversarial_batch()
    encoder = list(model.encoder.parameters())
    discriminator = list(model.discriminator.parameters())

    _, adversary_loss = model.pair_terms(emb_a, emb_b, objective)
    reversed_grads = torch.autograd.grad(adversary_loss, encoder + discriminator)

    # The same discriminator BCE on the same z_hat, without the reversal layer.
    z = model.encoder(torch.cat([emb_a, emb_b]))
    plain_loss = F.binary_cross_entropy_with_logits(
        model.discriminator_logits(z), torch.cat([objective, objective]).float()
    )
    plain_grads = torch.autograd.grad(plain_loss, encoder + discriminator)

    torch.testing.assert_close(adversary_loss, plain_loss)  # the adversary predicts c itself
    flat = lambda grads: torch.cat([g.flatten() for g in grads])  # noqa: E731
    enc_reversed, enc_plain = flat(reversed_grads[: len(encoder)]), flat(plain_grads[: len(encoder)])
    assert enc_plain.norm() > 0
    assert torch.dot(enc_reversed, enc_plain) < 0  # the encoder is pushed against the discriminator
    torch.testing.assert_close(enc_reversed, -lam * enc_plain, rtol=1e-5, atol=1e-7)
    # the discriminator itself is trained normally: its gradient is not reversed
    torch.testing.assert_close(flat(reversed_grads[len(encoder) :]), flat(plain_grads[len(encoder) :]))


def objective_in_embedding(n, seed):
    """Pairs whose embeddings show c plainly (column 0) and whose label follows column 1."""
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 2, n)
    a, b = (rng.standard_normal((n, 8)).astype(np.float32) for _ in range(2))
    a[:, 0] += 2 * (2 * c - 1)
    b[:, 0] += 2 * (2 * c - 1)
    return PairSet(emb_a=a, emb_b=b, label=(a[:, 1] > b[:, 1]).astype(np.float32), objective=c)


def test_adversarial_training_leaves_the_discriminator_worse_at_reading_c():
    """With lambda = 0 the discriminator reads c off z_hat (~0.9); with lambda = 1 the encoder
    works against it and it ends far lower (~0.4 on these seeds). A reversal of the wrong sign
    makes the encoder help it instead (~0.97)."""
    config = TrainConfig(lr=3e-3, epochs=5, batch_size=64)
    accuracy = {0.0: [], 1.0: []}
    for seed in (0, 1, 2):
        train, val = objective_in_embedding(1000, seed), objective_in_embedding(300, seed + 100)
        for lam in accuracy:
            model = build(
                "adversarial",
                d_in=8,
                seed=seed,
                config=ModelConfig(hidden=32, latent=8, n_layers=2),
                params=AdversarialParams(head_hidden=16, adversary_lambda=lam, disc_steps=1),  # the paper's game
                uses_objective=True,
            )
            result = train_reward_model(model, train, val, config, seed, CPU)
            assert result.history[result.best_epoch - 1]["val_accuracy"] > 0.85  # the reward is learnt either way
            accuracy[lam].append(
                discriminator_accuracy(
                    result.model, torch.as_tensor(val.emb_a), torch.as_tensor(val.emb_b), torch.as_tensor(val.objective)
                )
            )
    assert np.mean(accuracy[0.0]) > 0.8
    assert np.mean(accuracy[1.0]) < np.mean(accuracy[0.0]) - 0.2, accuracy


# --------------------------------------------------------------------------- training weights


def linear_pairs(n, seed, d=16) -> PairSet:
    """Random embeddings labelled by one fixed linear reward: quick to learn."""
    rng = np.random.default_rng(seed)
    w = np.random.default_rng(0).standard_normal(d)
    a, b = (rng.standard_normal((n, d)).astype(np.float32) for _ in range(2))
    return PairSet(emb_a=a, emb_b=b, label=((a - b) @ w > 0).astype(np.float32))


@pytest.fixture(scope="module")
def corrupted_sets():
    """Two training sets in which a random half of the labels is flipped, with weight 0 on the
    flipped pairs and 2 on the rest (mean 1), and two clean validation sets."""
    trains, vals = [], []
    for k in range(2):
        train = linear_pairs(1000, 10 + k)
        flipped = np.zeros(len(train), bool)
        flipped[np.random.default_rng(k).permutation(len(train))[:500]] = True
        label = np.where(flipped, 1 - train.label, train.label).astype(np.float32)
        trains.append(replace(train, label=label, weight=np.where(flipped, 0.0, 2.0).astype(np.float32)))
        vals.append(linear_pairs(300, 20 + k))
    return trains, vals


@pytest.mark.parametrize("trainer", ["loop", "stacked_k1", "stacked"])
def test_pair_weights_change_what_the_trainers_learn(trainer, corrupted_sets):
    """Half the labels are noise; the weights drop exactly those pairs. Trained with the
    weights a model learns the clean labels; without them it sits near chance."""
    trains, vals = corrupted_sets
    config = TrainConfig(lr=3e-3, epochs=3, batch_size=64)  # weighted ~0.9, unweighted ~0.55
    seeds = [3, 4]
    weighted = fit(trainer, trains, vals, config, seeds)
    unweighted = fit(trainer, [replace(t, weight=None) for t in trains], vals, config, seeds)
    for w, u, val in zip(weighted, unweighted, vals):
        assert not states_equal(w.model, u.model)
        assert val_accuracy(w.model, val) > 0.85
        assert val_accuracy(u.model, val) < 0.7
        assert w.history[0]["val_accuracy"] > u.history[0]["val_accuracy"] + 0.15


@pytest.mark.parametrize("trainer", ["loop", "stacked"])
def test_all_one_weights_train_exactly_as_no_weights(trainer, corrupted_sets):
    trains, vals = corrupted_sets
    config = TrainConfig(lr=3e-3, epochs=2, batch_size=64)
    seeds = [5, 6]
    ones = fit(trainer, [replace(t, weight=np.ones(len(t), np.float32)) for t in trains], vals, config, seeds)
    none = fit(trainer, [replace(t, weight=None) for t in trains], vals, config, seeds)
    for a, b in zip(ones, none):
        assert states_equal(a.model, b.model)
        assert a.history == b.history


@pytest.fixture(scope="module")
def correlated_train():
    """An Experiment-1 training set at rho = 0.9 on continuous factors (no ties on the axes)."""
    pool = CorrelatedFactorsWorld(scale="continuous", dim=16, pool_size=4000).pool()
    splits = draw_exp1_splits(pool, 0, 0.9, SplitSizes(train=400, val=100, id=100, ood=100))
    return pool.pairs(splits.indices["train"], "train")


def test_balanced_weights_give_the_training_pairs_the_disagreement_mass_of_rho_zero(correlated_train):
    d1, d2 = correlated_train.factor_diffs[:, 0], correlated_train.factor_diffs[:, 1]
    disagree = d1 * d2 < 0
    assert disagree.mean() < 0.25  # rho = 0.9: few pairs where the factors disagree
    weighted, weights = apply_weighting("balanced", correlated_train, 0)
    assert weighted.weight is not None  # what the trainer gets, not only what is reported
    np.testing.assert_allclose(weighted.weight, weights.weights, rtol=1e-6)
    w = weighted.weight.astype(np.float64)
    assert w.mean() == pytest.approx(1.0, abs=1e-5)
    assert w[disagree].sum() / w.sum() == pytest.approx(0.5, abs=1e-5)  # Q2 + Q4 as at rho = 0
    for quadrant in ((d1 > 0) & (d2 > 0), (d1 < 0) & (d2 > 0), (d1 < 0) & (d2 < 0), (d1 > 0) & (d2 < 0)):
        assert w[quadrant].sum() / w.sum() == pytest.approx(0.25, abs=1e-5)
    assert weights.ess_share < 0.9


@pytest.fixture(scope="module")
def confounded_train():
    """An Experiment-2 training set at consistency rate 0.9 (t = c for 90 % of the pairs)."""
    pool = UserObjectivesWorld(dim=16, pool_size=3000).pool()
    splits = draw_exp2_splits(pool, 0, 0.9, Exp2Sizes(train=600, val=100, test=100))
    return pool.pairs(splits.indices["train"], "train")


def test_ipw_weights_up_weight_the_inconsistent_pairs(confounded_train):
    train = confounded_train
    inconsistent = train.prompt_type != train.objective
    assert inconsistent.mean() == pytest.approx(0.1, abs=0.01)
    weighted, weights = apply_weighting("ipw", train, 0)
    assert weighted.weight is not None
    np.testing.assert_allclose(weighted.weight, weights.weights, rtol=1e-6)
    w = weighted.weight.astype(np.float64)
    assert w[inconsistent].mean() > 3 * w[~inconsistent].mean()
    # under the weights the objective looks (nearly) randomised against the prompt type
    assert 0.3 < w[inconsistent].sum() / w.sum() < 0.7
    for c in (0, 1):
        share = w[(train.objective == c) & inconsistent].sum() / w[train.objective == c].sum()
        assert 0.3 < share < 0.7


def tiny_exp1(**changes) -> Exp1Spec:
    spec = Exp1Spec(
        world=CorrelatedFactorsWorld(dim=16, pool_size=6000),
        rhos=(0.9,),
        seeds=(0, 1),
        sizes=SplitSizes(train=400, val=100, id=300, ood=300),
        model=SMALL,
        train=TrainConfig(lr=1e-3, epochs=3, batch_size=64),
        device="cpu",
    )
    return replace(spec, **changes)


def tiny_exp2(**changes) -> Exp2Spec:
    spec = Exp2Spec(
        world=UserObjectivesWorld(dim=16, pool_size=3000),
        rhos=(0.9,),
        seeds=(0, 1),
        sizes=Exp2Sizes(train=400, val=100, test=200),
        model=SMALL,
        train=TrainConfig(lr=1e-3, epochs=3, batch_size=64),
        models=("base",),
        device="cpu",
    )
    return replace(spec, **changes)


def accuracies(sweep) -> np.ndarray:
    return sweep.results.sort_values(["model", "rho", "seed", "split"])["accuracy"].to_numpy()


@pytest.mark.parametrize("make, weighting", [(tiny_exp1, "balanced"), (tiny_exp2, "ipw")])
def test_a_weighted_sweep_trains_different_models(make, weighting):
    """Two cells train stacked; the remedy's models must not be the unweighted ones."""
    plain = run_sweep(make())
    weighted = run_sweep(make(weighting=weighting))
    assert set(weighted.results["weighting"]) == {weighting}
    assert (weighted.details["weights"]["ess_share"] < 0.95).all()
    a, b = accuracies(plain), accuracies(weighted)
    assert a.shape == b.shape
    assert not np.allclose(a, b), "the weighted sweep's accuracies equal the unweighted ones"
    # the training history shows it too: the losses are weighted means of other numbers
    ha = plain.details["history"]["train_loss"].to_numpy()
    hb = weighted.details["history"]["train_loss"].to_numpy()
    assert not np.allclose(ha, hb)


# --------------------------------------------------------------------------- best checkpoint


@pytest.fixture(scope="module")
def misleading_validation():
    """Training sets and validation sets whose labels are the opposite: the better a model
    learns the training labels the worse it does on validation, so the best validation epoch
    is an early one and the last epoch is worse (about 0.3 at epoch 1, 0.15 at epoch 4)."""
    trains = [linear_pairs(1000, 30 + k) for k in range(2)]
    vals = [linear_pairs(300, 40 + k) for k in range(2)]
    return trains, [replace(val, label=(1 - val.label).astype(np.float32)) for val in vals]


CHECKPOINT_CONFIG = TrainConfig(lr=1e-3, epochs=4, batch_size=64)


def check_best_epoch_kept(result, val):
    history = [h["val_accuracy"] for h in result.history]
    assert len(history) == CHECKPOINT_CONFIG.epochs
    assert result.best_epoch == 1 + int(np.argmax(history))
    assert result.best_epoch < len(history) and history[-1] < max(history) - 0.05  # the case is what we built
    assert val_accuracy(result.model, val) == pytest.approx(max(history), abs=1.5 / len(val))


def test_loop_returns_the_best_validation_epoch_not_the_last(misleading_validation):
    trains, vals = misleading_validation
    model = build(seed=7)
    states = {}

    def keep_state(epoch, record):  # returns None: never stops training
        states[epoch] = copy.deepcopy(model.state_dict())

    result = train_reward_model(model, trains[0], vals[0], CHECKPOINT_CONFIG, 7, CPU, on_epoch=keep_state)
    check_best_epoch_kept(result, vals[0])
    best, last = states[result.best_epoch], states[len(result.history)]
    returned = result.model.state_dict()
    assert all(torch.equal(returned[k], best[k]) for k in best)
    assert not all(torch.equal(returned[k], last[k]) for k in last)


def test_stacked_trainer_returns_each_models_best_validation_epoch(misleading_validation):
    trains, vals = misleading_validation
    seeds = [7, 8]
    results = fit("stacked", trains, vals, CHECKPOINT_CONFIG, seeds)
    for i, (result, val) in enumerate(zip(results, vals)):
        check_best_epoch_kept(result, val)
        # the same models stopped after their best epoch: the very same weights
        short = fit("stacked", trains, vals, replace(CHECKPOINT_CONFIG, epochs=result.best_epoch), seeds)[i]
        assert short.history == result.history[: result.best_epoch]
        assert states_equal(result.model, short.model)


# --------------------------------------------------------------------------- the stacked trainer itself


def test_stacked_models_train_as_the_loop_trains_each_of_them(factor_pool):
    """Each stacked model keeps its own seed's batch order (and data): model k equals the
    plain loop's model k, not model 0's batch order applied to it."""
    trains = [factor_pool.pairs(np.arange(0, 600), "train"), factor_pool.pairs(np.arange(1300, 1900), "train")]
    vals = [factor_pool.pairs(np.arange(600, 800), "val"), factor_pool.pairs(np.arange(1900, 2100), "val")]
    config = TrainConfig(lr=1e-3, epochs=2, batch_size=64)
    seeds = [11, 12]
    alone, together = fit("loop", trains, vals, config, seeds), fit("stacked", trains, vals, config, seeds)
    for a, b in zip(alone, together):
        assert a.best_epoch == b.best_epoch
        for key, value in a.model.state_dict().items():
            torch.testing.assert_close(value, b.model.state_dict()[key], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("trainer", ["loop", "stacked"])
@pytest.mark.parametrize("lr", [1e-3, 2.5e-3])
def test_one_adam_step_moves_weights_by_the_configured_learning_rate(trainer, lr, factor_pool):
    """Adam's first step moves every parameter with a non-zero gradient by lr (times
    |g| / (|g| + eps), which is 1 to float precision here)."""
    trains = [factor_pool.pairs(np.arange(0, 64)), factor_pool.pairs(np.arange(64, 128))]
    vals = [factor_pool.pairs(np.arange(128, 160)), factor_pool.pairs(np.arange(160, 192))]
    seeds = [1, 2]
    before = [build(seed=s).state_dict() for s in seeds]
    results = fit(trainer, trains, vals, TrainConfig(lr=lr, epochs=1, batch_size=64), seeds)
    for start, result in zip(before, results):
        after = result.model.state_dict()
        steps = torch.cat([(after[k] - start[k]).abs().flatten() for k in start])
        assert float(steps.max()) == pytest.approx(lr, rel=1e-3)


# --------------------------------------------------------------------------- per-cell data seeds


def overlap(a, b) -> float:
    return len(np.intersect1d(a, b)) / len(a)


def test_cell_seed_depends_on_rho_and_on_the_spec_seed():
    assert cell_seed(0, 0.3) == cell_seed(0, 0.3)
    assert len({cell_seed(0, 0.3), cell_seed(0, 0.6), cell_seed(0, 0.0), cell_seed(1, 0.3)}) == 4


def test_the_same_seed_draws_other_exp1_pairs_at_a_nearby_rho():
    """rho 0.5 and 0.52 with one spec seed: as unrelated as two seeds at one rho. With a
    seed that ignored rho, the sampler's Gumbel noise would be shared and the two training
    sets nearly the same (99 % overlap)."""
    pool = CorrelatedFactorsWorld(scale="continuous", dim=16, pool_size=4000).pool()
    sizes = SplitSizes(train=300, val=100, id=100, ood=100)
    a, b, other_seed = (draw_exp1_splits(pool, s, rho, sizes) for s, rho in ((0, 0.5), (0, 0.52), (1, 0.5)))
    for split in ("train", "val", "id"):
        assert a.achieved_rho[split] == pytest.approx(0.5, abs=0.02)
        assert b.achieved_rho[split] == pytest.approx(0.52, abs=0.02)
    assert overlap(a.indices["train"], other_seed.indices["train"]) < 0.3
    assert overlap(a.indices["train"], b.indices["train"]) < 0.3
    assert overlap(a.indices["val"], b.indices["val"]) < 0.2


def test_the_same_seed_draws_other_exp2_pairs_at_a_nearby_rho():
    """0.8 and 0.802 ask for the same number of pairs per (t, c) cell; their own seeds
    must still draw other pairs."""
    pool = UserObjectivesWorld(dim=16, pool_size=3000).pool()
    sizes = Exp2Sizes(train=400, val=100, test=200)
    a, b = draw_exp2_splits(pool, 0, 0.8, sizes), draw_exp2_splits(pool, 0, 0.802, sizes)
    assert a.achieved_rho["train"] == b.achieved_rho["train"]  # same cell counts
    for split in a.indices:
        assert overlap(a.indices[split], b.indices[split]) < 0.5, split
