import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalpref import CausalPrefError
from causalpref.draw.consistency import (
    consistency_counts,
    draw_objective_splits,
    feasible_consistency_range,
    sample_with_consistency,
)


def pool(n=4000, seed=0, p_type=0.5):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < p_type).astype(int), rng.integers(0, 2, n)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n_half=st.integers(1, 600), rho=st.floats(0, 1), seed=st.integers(0, 2**31), p_type=st.floats(0.2, 0.8))
def test_draw_has_equal_objectives_and_nearest_consistency(n_half, rho, seed, p_type):
    t, c = pool(seed=seed % 1000, p_type=p_type)
    n = 2 * n_half
    lo, hi = feasible_consistency_range(t, c, n)
    if not lo <= rho <= hi:
        with pytest.raises(CausalPrefError, match="feasible range"):
            sample_with_consistency(t, c, n, rho, seed)
        return
    draw = sample_with_consistency(t, c, n, rho, seed)
    idx = draw.indices
    assert idx.size == n and np.unique(idx).size == n
    assert np.sum(c[idx] == 0) == np.sum(c[idx] == 1) == n_half
    consistent = np.sum(t[idx] == c[idx])
    assert consistent == 2 * round(rho * n_half)  # nearest pair, per objective
    assert abs(draw.achieved_rho - rho) <= 1 / n_half / 2 + 1e-12
    assert draw.achieved_rho == pytest.approx(np.mean(t[idx] == c[idx]))


def test_counts_for_odd_n_give_the_extra_pair_to_objective_0():
    counts = consistency_counts(5, 0.6)
    assert sum(counts.values()) == 5
    assert counts[(0, 0)] + counts[(1, 0)] == 3 and counts[(1, 1)] + counts[(0, 1)] == 2


def test_rho_one_draws_only_consistent_pairs_and_rho_half_balances_types():
    t, c = pool()
    full = sample_with_consistency(t, c, 1000, 1.0, 0).indices
    assert np.all(t[full] == c[full])
    half = sample_with_consistency(t, c, 1000, 0.5, 0).indices
    assert np.mean(t[half] == c[half]) == 0.5


def test_same_seed_same_draw_other_seed_other_draw():
    t, c = pool()
    a, b, other = (sample_with_consistency(t, c, 500, 0.8, s).indices for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, other)


def test_splits_are_disjoint_and_test_sets_pure():
    t, c = pool(8000)
    splits = draw_objective_splits(t, c, {"train": 1000, "val": 200, "test": 500}, 0.9, seed=1)
    sets = [set(v.tolist()) for v in splits.indices.values()]
    assert sum(map(len, sets)) == len(set().union(*sets)) == 1000 + 200 + 500 + 500
    con, inc = splits.indices["consistent"], splits.indices["inconsistent"]
    assert np.all(t[con] == c[con]) and np.all(t[inc] != c[inc])
    assert splits.achieved_rho["train"] == 0.9 and splits.achieved_rho["val"] == 0.9


@pytest.mark.parametrize(
    "t, c, n, rho, expected",
    [
        (np.array([0, 1, 0]), np.array([0, 0, 0]), 2, 0.5, "one objective only"),
        (np.array([]), np.array([]), 2, 0.5, "empty pool"),
        (np.array([0, 1]), np.array([0, 1, 1]), 2, 0.5, "equal length"),
        (np.array([0, 2]), np.array([0, 1]), 2, 0.5, "prompt_type at index 1 is 2, expected 0 or 1"),
        (np.array([0, 1]), np.array([0, 1]), 2, 1.5, r"must be a number in \[0, 1\], got 1.5"),
        (np.array([0, 1]), np.array([0, 1]), 2, float("nan"), "must be a number"),
        (np.array([0, 1]), np.array([0, 1]), 4, 0.5, "only 2 are available"),
        (
            np.array([0, 1, 0, 1]),
            np.array([0, 1, 1, 0]),
            4,
            1.0,
            r"needs 2 consistent pairs .* feasible range is \[0.500, 0.500\]",
        ),
    ],
)
def test_bad_inputs_are_named(t, c, n, rho, expected):
    with pytest.raises(CausalPrefError, match=expected):
        sample_with_consistency(t, c, n, rho, 0)


def test_split_errors_name_the_split():
    t, c = pool(1000)
    with pytest.raises(CausalPrefError, match="split 'inconsistent'"):
        draw_objective_splits(t, c, {"train": 400, "val": 50, "test": 260}, 0.5, seed=0)
    with pytest.raises(CausalPrefError, match="missing"):
        draw_objective_splits(t, c, {"train": 400}, 1.0, seed=0)


def _several_pairs_per_prompt(n_prompts=400, per_prompt=4, seed=0):
    """A pool like a public preference set: several pairs per prompt, each prompt of one type,
    its pairs judged under either objective."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_prompts), per_prompt)
    prompt_type = np.repeat(rng.integers(0, 2, n_prompts), per_prompt)
    objective = rng.integers(0, 2, group.size)
    return prompt_type, objective, group


def test_a_pool_with_several_pairs_per_prompt_is_split_by_prompt():
    t, c, group = _several_pairs_per_prompt()
    splits = draw_objective_splits(t, c, {"train": 300, "val": 60, "test": 150}, 0.8, seed=5, group=group)
    prompts = {name: set(group[idx].tolist()) for name, idx in splits.indices.items()}
    assert not prompts["train"] & (prompts["val"] | prompts["consistent"] | prompts["inconsistent"])
    assert not prompts["val"] & (prompts["consistent"] | prompts["inconsistent"])
    assert abs(splits.achieved_rho["train"] - 0.8) < 0.01


def test_without_the_prompt_ids_the_same_pool_leaks_prompts_into_the_tests():
    """The leak the group split closes: drawn pair by pair, most test prompts were trained on."""
    t, c, group = _several_pairs_per_prompt()
    splits = draw_objective_splits(t, c, {"train": 300, "val": 60, "test": 150}, 0.8, seed=5)
    trained = set(group[splits.indices["train"]].tolist())
    tested = group[np.concatenate([splits.indices["consistent"], splits.indices["inconsistent"]])]
    assert np.isin(tested, list(trained)).mean() > 0.3


def test_one_pair_per_prompt_draws_exactly_as_without_prompt_ids():
    """Disjoint pairs are disjoint prompts: the bundled relabelled HH-RLHF keeps its splits."""
    rng = np.random.default_rng(1)
    t, c = rng.integers(0, 2, 3000), rng.integers(0, 2, 3000)
    sizes = {"train": 400, "val": 100, "test": 200}
    with_ids = draw_objective_splits(t, c, sizes, 0.9, seed=2, group=np.arange(3000) + 7)
    without = draw_objective_splits(t, c, sizes, 0.9, seed=2)
    assert all(np.array_equal(with_ids.indices[k], without.indices[k]) for k in without.indices)


def test_experiment_2_cells_split_a_real_pool_by_its_prompt_ids():
    """What the sweep draws (draw_exp2_splits) uses the pool's groups: no prompt in two splits."""
    from types import SimpleNamespace

    from causalpref.draw.splits import draw_exp2_splits
    from causalpref.run.specs import Exp2Sizes

    t, c, group = _several_pairs_per_prompt()
    pool = SimpleNamespace(prompt_type=t, objective=c, group=group)
    splits = draw_exp2_splits(pool, 0, 0.8, Exp2Sizes(train=300, val=60, test=150))
    seen = [set(group[idx].tolist()) for idx in splits.indices.values()]
    assert sum(len(s) for s in seen[:2]) + len(seen[2] | seen[3]) == len(set().union(*seen))
