import numpy as np
import pytest
import torch

from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.eval.inspect import boundary_probe, boundary_rows, implied_weight, latent_rows
from causalpref.models import ModelConfig, build_model

CPU = torch.device("cpu")


def test_implied_weight_recovers_known_weights():
    rng = np.random.default_rng(0)
    d1, d2 = rng.normal(size=(2, 500))
    assert implied_weight(0.25 * d1 + 0.75 * d2, d1, d2) == pytest.approx(0.25)
    assert implied_weight(3 * d1 + 1 * d2, d1, d2) == pytest.approx(0.75)
    assert np.isnan(implied_weight(-d1 - d2, d1, d2))


def test_probe_pairs_have_exactly_the_asked_factor_differences():
    world = CorrelatedFactorsWorld()
    probe = world.probe_pairs(np.array([1.0, -2.0]), np.array([0.5, 0.0]), contexts=3, seed=1)
    np.testing.assert_allclose(probe.factor_diffs[:, :2], [[1, 0.5]] * 3 + [[-2, 0]] * 3)
    pool_pairs = world.pool().pairs(np.arange(3))
    assert not np.allclose(probe.emb_a[:3], pool_pairs.emb_a)  # its own noise ids


class TrueReward(torch.nn.Module):
    """A 'model' that reads the factors off a known linear map: to test the boundary plumbing."""

    def __init__(self, weights):
        super().__init__()
        self.weights = torch.as_tensor(weights, dtype=torch.float32)

    def forward(self, emb, objective=None):
        return emb @ self.weights


def test_boundary_probability_follows_the_reward_sign():
    world = CorrelatedFactorsWorld(dim=8, noise=0.0)
    probe = boundary_probe(world, contexts=4)
    # least-squares map from embedding differences to the true margin: a near-perfect model
    x = probe.pairs.emb_a - probe.pairs.emb_b
    w, *_ = np.linalg.lstsq(x, probe.pairs.true_margin, rcond=None)
    rows = boundary_rows(TrueReward(w), probe, CPU)
    truth = np.array([0.25 * r["d1"] + 0.75 * r["d2"] for r in rows])
    p = np.array([r["p_prefer_a"] for r in rows])
    clear = np.abs(truth) > 1.0
    assert np.mean((p[clear] > 0.5) == (truth[clear] > 0)) > 0.95


def test_latent_projection_rows():
    pool = UserObjectivesWorld(dim=12, pool_size=500).pool()
    pairs = pool.pairs(np.arange(300))
    model = build_model("multihead", 12, ModelConfig(hidden=16, latent=8), 0)
    rows = latent_rows(model, pairs, CPU, max_points=250)
    assert len(rows) == 250 and {"pc1", "pc2", "objective", "prompt_type"} <= set(rows[0])
    assert 0 <= rows[0]["explained_pc2"] <= rows[0]["explained_pc1"] <= 1
