"""Multihead: a shared 3-layer GELU MLP g gives a latent z_hat; one head f_c per objective
turns it into the reward under c."""

from __future__ import annotations

import torch
from torch import nn

from causalpref.errors import CausalPrefError
from causalpref.models.base import RewardModel
from causalpref.models.config import ModelConfig
from causalpref.models.layers import head, mlp
from causalpref.models.params import MultiheadParams


class MultiheadReward(RewardModel):
    """Shared g(embedding) = z_hat, one head f_c per objective."""

    def __init__(self, d_in: int, config: ModelConfig, head_hidden: int, n_objectives: int = 2):
        super().__init__()
        self.encoder = mlp(d_in, config.hidden, config.latent, config.n_layers)
        self.heads = nn.ModuleList([head(config.latent, head_hidden, bias=False) for _ in range(n_objectives)])

    def latent(self, emb, objective=None):
        return self.encoder(emb)

    def rewards_from_latent(self, z, objective):
        if objective is None:
            raise CausalPrefError("a multihead model needs the objective c of every pair")
        every_head = torch.cat([h(z) for h in self.heads], dim=-1)  # (n, n_objectives)
        return every_head.gather(-1, objective.long().unsqueeze(-1)).squeeze(-1)

    def forward(self, emb, objective=None):
        return self.rewards_from_latent(self.encoder(emb), objective)


def build_multihead(d_in: int, config: ModelConfig, params: MultiheadParams, uses_objective: bool):
    return MultiheadReward(d_in, config, params.head_hidden)
