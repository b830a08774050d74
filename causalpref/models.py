"""Reward models: an embedding (or a pair of them) in, a scalar reward out.

RewardMLP is the paper's Experiment-1 model: a 3-layer GELU MLP from the embedding to a
64-d latent, then a linear map to the reward. The Bradley-Terry-Luce probability that a
beats b is sigmoid(r(a) - r(b)), so only reward *differences* matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .errors import CausalPrefError


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 512      # width of the hidden layers (paper: 512)
    latent: int = 64       # size of the representation before the reward head (paper: 64)
    n_layers: int = 3      # linear layers in the MLP up to the latent (paper: 3)

    def __post_init__(self):
        for name in ("hidden", "latent", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CausalPrefError(f"model {name} must be a positive integer, got {value!r}")


def mlp(d_in: int, hidden: int, d_out: int, n_layers: int) -> nn.Sequential:
    """n_layers linear layers with GELU after each one (the output included)."""
    widths = [d_in] + [hidden] * (n_layers - 1) + [d_out]
    layers: list[nn.Module] = []
    for w_in, w_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(w_in, w_out), nn.GELU()]
    return nn.Sequential(*layers)


class RewardMLP(nn.Module):
    """embedding -> MLP -> latent -> linear -> reward."""

    def __init__(self, d_in: int, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.encoder = mlp(d_in, config.hidden, config.latent, config.n_layers)
        self.head = nn.Linear(config.latent, 1)

    def latent(self, emb: torch.Tensor) -> torch.Tensor:
        return self.encoder(emb)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(emb)).squeeze(-1)


def build_model(d_in: int, config: ModelConfig, seed: int) -> RewardMLP:
    """Build with seeded initial weights, leaving torch's global generator untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RewardMLP(d_in, config)
