import numpy as np
import pytest

from causalpref import CausalPrefError
from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.data.worlds.noise import counter_normal


def test_pool_is_a_pure_function_of_the_world():
    first, second = CorrelatedFactorsWorld(pool_size=500).pool(), CorrelatedFactorsWorld(pool_size=500).pool()
    np.testing.assert_array_equal(first.z_a, second.z_a)
    np.testing.assert_array_equal(first.label, second.label)
    other = CorrelatedFactorsWorld(pool_size=500, seed=1).pool()
    assert not np.array_equal(first.z_a, other.z_a)


def test_embedding_of_a_pair_does_not_depend_on_which_others_are_drawn():
    pool = CorrelatedFactorsWorld(pool_size=300).pool()
    everything = pool.pairs(np.arange(300))
    some = pool.pairs(np.array([7, 250, 3]))
    np.testing.assert_array_equal(some.emb_a, everything.emb_a[[7, 250, 3]])
    np.testing.assert_array_equal(some.emb_b, everything.emb_b[[7, 250, 3]])


def test_counter_normal_is_standard_normal_and_row_addressed():
    z = counter_normal(3, np.arange(20000), 8)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    np.testing.assert_array_equal(counter_normal(3, np.array([5]), 8), z[5:6])
    assert not np.array_equal(counter_normal(4, np.array([5]), 8), z[5:6])


@pytest.mark.parametrize("scale, values", [("likert", {1, 2, 3, 4, 5}), ("binary", {0, 1})])
def test_discrete_scales_emit_their_values(scale, values):
    pool = CorrelatedFactorsWorld(scale=scale, pool_size=2000).pool()
    assert set(np.unique(pool.z_a[:, :2])) == values


def test_continuous_scale_emits_continuous_factors():
    pool = CorrelatedFactorsWorld(scale="continuous", pool_size=2000).pool()
    assert len(np.unique(pool.z_a[:, 0])) == 2000


def test_argmax_labels_follow_the_true_reward_and_ties_are_fair_coins():
    world = CorrelatedFactorsWorld(scale="likert", pool_size=20000)
    pool = world.pool()
    d1, d2 = pool.diffs("truthfulness"), pool.diffs("instruction_following")
    margin = world.a * d1 + (1 - world.a) * d2
    np.testing.assert_allclose(pool.true_margin, margin)
    decided = margin != 0
    np.testing.assert_array_equal(pool.label[decided], (margin[decided] > 0).astype(np.float32))
    ties = pool.label[~decided]
    assert ties.size > 500 and 0.45 < ties.mean() < 0.55


def test_btl_labels_are_noisy_but_follow_the_margin():
    pool = CorrelatedFactorsWorld(scale="continuous", label_mode="btl", temperature=0.5, pool_size=20000).pool()
    agree = np.mean((pool.true_margin > 0) == (pool.label == 1))
    assert 0.7 < agree < 0.95


def test_embeddings_carry_the_factors_and_the_nuisance():
    """A linear probe on the embedding difference recovers the reward sign far above chance."""
    pool = CorrelatedFactorsWorld(scale="continuous", pool_size=4000).pool()
    pairs = pool.pairs(np.arange(4000))
    x = pairs.emb_a - pairs.emb_b
    w, *_ = np.linalg.lstsq(x[:3000], pairs.true_margin[:3000], rcond=None)
    agree = np.mean(np.sign(x[3000:] @ w) == np.sign(pairs.true_margin[3000:]))
    assert agree > 0.7


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"scale": "stars"}, "scale must be one of"),
        ({"a": 1.5}, "a must be a number in [0, 1], got 1.5"),
        ({"a": float("nan")}, "a must be a number in [0, 1], got nan"),
        ({"label_mode": "btl", "temperature": float("inf")}, "temperature must be a finite number > 0"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"seed": 1.5}, "seed must be a non-negative integer, got 1.5"),
        ({"noise": -1.0}, "noise must be >= 0"),
        ({"noise": float("nan")}, "noise must be >= 0"),
        ({"pool_size": 0}, "pool_size must be at least 1"),
        ({"dim": 1}, "dim must be at least 2"),
        ({"factor_names": ("x", "x")}, "two distinct names"),
        ({"label_mode": "vote"}, "label_mode must be one of"),
    ],
)
def test_bad_world_settings_name_the_field(changes, expected):
    with pytest.raises(CausalPrefError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        CorrelatedFactorsWorld(**changes)


def test_unknown_factor_name_lists_the_known_ones():
    pool = CorrelatedFactorsWorld(pool_size=10).pool()
    with pytest.raises(CausalPrefError, match="truthfulness"):
        pool.diffs("honesty")
