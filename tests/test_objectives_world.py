import numpy as np
import pytest

from causalpref import CausalPrefError
from causalpref.data.worlds import UserObjectivesWorld


@pytest.fixture(scope="module")
def pool():
    return UserObjectivesWorld(pool_size=20000).pool()


def test_factors_align_on_helpful_prompts_and_conflict_on_red_team(pool):
    d = pool.z_a[:, :2] - pool.z_b[:, :2]
    helpful, red_team = pool.prompt_type == 0, pool.prompt_type == 1
    assert np.corrcoef(d[helpful].T)[0, 1] > 0.7
    assert np.corrcoef(d[red_team].T)[0, 1] < -0.7


def test_labels_follow_the_objective_and_the_counterfactual_the_other(pool):
    d = pool.z_a[:, :2] - pool.z_b[:, :2]
    rows = np.arange(len(pool))
    under_c = d[rows, pool.objective]
    under_other = d[rows, 1 - pool.objective]
    np.testing.assert_array_equal(pool.label, (under_c > 0).astype(np.float32))
    np.testing.assert_array_equal(pool.counterfactual_label, (under_other > 0).astype(np.float32))
    # the two objectives disagree mostly on red-team prompts
    disagree = pool.label != pool.counterfactual_label
    assert disagree[pool.prompt_type == 1].mean() > 0.7 > 0.3 > disagree[pool.prompt_type == 0].mean()


def test_objective_is_independent_of_prompt_type_in_the_pool(pool):
    assert abs(np.mean(pool.objective == pool.prompt_type) - 0.5) < 0.02


def test_embedding_reveals_the_prompt_type_and_hides_nothing_else_by_name(pool):
    pairs = pool.pairs(np.arange(4000))
    x, t = pairs.emb_a, pairs.prompt_type
    w, *_ = np.linalg.lstsq(np.c_[x[:3000], np.ones(3000)], 2.0 * t[:3000] - 1, rcond=None)
    predicted = np.c_[x[3000:], np.ones(1000)] @ w > 0
    assert np.mean(predicted == (t[3000:] == 1)) > 0.95
    assert pairs.objective is not None and pairs.counterfactual_label is not None


def test_pairs_are_reproducible_and_row_addressed(pool):
    again = UserObjectivesWorld(pool_size=20000).pool()
    np.testing.assert_array_equal(pool.pairs(np.array([5, 9])).emb_b, again.pairs(np.arange(10)).emb_b[[5, 9]])


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"conflict": 1.0}, r"conflict must be in \[0, 1\)"),
        ({"type_specificity": 2.0}, r"type_specificity must be in \[0, 1\]"),
        ({"noise": float("nan")}, "noise must be >= 0"),
        ({"pool_size": 0}, "pool_size must be at least 1"),
        ({"temperature": float("inf")}, "temperature must be a finite number > 0"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be a non-negative integer"),
        ({"nuisance_names": ("helpfulness",)}, "distinct"),
    ],
)
def test_bad_world_settings(changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        UserObjectivesWorld(**changes)
