"""Decorrelated: Multihead whose latent z_hat is made independent of the objective c by a
penalty, without an adversary.

The failure the Adversarial model targets is a shared latent that carries c (through the
prompt type t, which matches c at rate rho), so that each head learns "c's kind of prompt"
instead of the quality. The adversary removes c from z_hat by a min-max game, which can
oscillate or overshoot. Here the same goal is a plain term of the loss: the Hilbert-Schmidt
independence criterion (Gretton et al. 2005) between z_hat and c, as in the causal and fair
representation literature (e.g. HSIC-regularised invariant features). With a Gaussian kernel
k on z_hat and the linear kernel on the centred c~ = c - mean(c),

    HSIC(z_hat, c) = c~' K c~ / n^2,

which is zero exactly when the kernel mean embeddings of z_hat under c = 0 and c = 1
coincide (the squared MMD between the two groups, weighted): every moment, not only the
mean, so a nonlinear head cannot read c back. It is minimised, never maximised, so there is
no game to balance; `decorrelation` weighs it against BTL, and 0 is exactly Multihead.
"""

from __future__ import annotations

import torch

from causalpref.models.config import ModelConfig
from causalpref.models.layers import both_sides
from causalpref.models.multihead import MultiheadReward
from causalpref.models.params import DecorrelatedParams


def hsic_with_binary(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """HSIC between rows of z (..., n, d) and a 0/1 label c (..., n): one value per model."""
    distances = torch.cdist(z, z).pow(2)
    # median heuristic for the bandwidth, without gradient: the penalty cannot shrink by inflating z
    bandwidth = distances.detach().flatten(-2).median(-1).values.clamp_min(1e-6)
    kernel = torch.exp(-distances / bandwidth[..., None, None])
    centred = c.to(z.dtype) - c.to(z.dtype).mean(-1, keepdim=True)
    n = z.shape[-2]
    return (centred.unsqueeze(-2) @ kernel @ centred.unsqueeze(-1)).squeeze(-1).squeeze(-1) / n**2


class DecorrelatedReward(MultiheadReward):
    """Multihead + mu * HSIC(z_hat, c) in the loss."""

    def __init__(self, d_in: int, config: ModelConfig, params: DecorrelatedParams, n_objectives: int = 2):
        super().__init__(d_in, config, params.head_hidden, n_objectives)  # Multihead's draws
        self.decorrelation = float(params.decorrelation)

    def pair_terms(self, emb_a, emb_b, objective):
        n = emb_a.shape[-2]
        both = both_sides(objective)
        z = self.encoder(torch.cat([emb_a, emb_b], dim=-2))
        reward = self.rewards_from_latent(z, both)
        penalty = None if self.decorrelation == 0 else self.decorrelation * hsic_with_binary(z, both)
        return reward[..., :n] - reward[..., n:], penalty


@torch.no_grad()
def latent_hsic(model: DecorrelatedReward, emb_a, emb_b, objective) -> float:
    """HSIC(z_hat, c) on up to 1,000 responses of a pair set (a read-out; 0 = independent)."""
    model.eval()
    z = model.latent(torch.cat([emb_a, emb_b])[:1000])
    return float(hsic_with_binary(z, torch.cat([objective, objective])[:1000]))


def build_decorrelated(d_in: int, config: ModelConfig, params: DecorrelatedParams, uses_objective: bool):
    return DecorrelatedReward(d_in, config, params)
