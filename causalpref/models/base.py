"""The paper's Base model: embedding [+ objective c] -> 3-layer GELU MLP -> latent -> linear -> reward.

In Experiment 2 the objective is appended to the input, [embedding, c], as the paper's Base
model does. The Bradley-Terry-Luce probability that a beats b is sigmoid(r(a) - r(b)).
"""

from __future__ import annotations

import torch
from torch import nn

from causalpref.errors import CausalPrefError
from causalpref.models.config import ModelConfig
from causalpref.models.layers import Linear, both_sides, mlp
from causalpref.models.params import BaseParams


class RewardModel(nn.Module):
    """What every architecture offers the trainer and the read-outs.

    - forward(emb, objective) -> reward, one per row (rows may carry a leading K axis of
      stacked models);
    - latent(emb, objective) -> z_hat, the representation before the head(s);
    - pair_terms(emb_a, emb_b, objective) -> (margin r(a) - r(b), auxiliary loss or None).

    `plays_game` True: the trainer plays train/game.py's adversarial game with it (it then
    has an `encoder`, a `discriminator`, `discriminator_logits`, `encoder_adversary_loss`,
    `rewards_from_latent` and `params`) instead of minimising one loss.
    """

    plays_game = False

    def pair_terms(self, emb_a, emb_b, objective):
        # Both sides go through the network as one batch: half the calls, larger matmuls.
        n = emb_a.shape[-2]
        reward = self(torch.cat([emb_a, emb_b], dim=-2), both_sides(objective))
        return reward[..., :n] - reward[..., n:], None


class BaseReward(RewardModel):
    """embedding [+ objective] -> MLP -> latent -> linear -> reward."""

    def __init__(self, d_in: int, config: ModelConfig, uses_objective: bool = False):
        super().__init__()
        self.uses_objective = uses_objective
        self.encoder = mlp(d_in + int(uses_objective), config.hidden, config.latent, config.n_layers)
        self.head = Linear(config.latent, 1, bias=False)  # a reward offset cancels in BTL

    def latent(self, emb, objective=None):
        if self.uses_objective:
            if objective is None:
                raise CausalPrefError("this model needs the objective c of every pair")
            emb = torch.cat([emb, objective.to(emb.dtype).unsqueeze(-1)], dim=-1)
        return self.encoder(emb)

    def forward(self, emb, objective=None):
        return self.head(self.latent(emb, objective)).squeeze(-1)


def build_base(d_in: int, config: ModelConfig, params: BaseParams, uses_objective: bool) -> BaseReward:
    return BaseReward(d_in, config, uses_objective=uses_objective)
