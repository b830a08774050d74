"""Adversarial: Multihead plus a discriminator h(z_hat) that predicts c: h learns to predict
c, g learns to make that impossible (min over g, f, max over h of L_BTL - lambda * L_BCE).
With lambda = 0 it is exactly Multihead.

The trainer plays the game in train/game.py (alternating updates, a stabiliser per
AdversarialParams option, a per-step trace). `pair_terms` is the paper's one-pass form
through a gradient-reversal layer, kept as the reference the game's reversal loss matches."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from causalpref.models.config import ModelConfig
from causalpref.models.layers import ReverseGradient, both_sides, head
from causalpref.models.multihead import MultiheadReward
from causalpref.models.params import AdversarialParams


class AdversarialReward(MultiheadReward):
    """Multihead + a discriminator that tries to read c from z_hat, through gradient reversal."""

    plays_game = True  # the trainer runs train/game.py instead of one loss and one optimiser

    def __init__(self, d_in: int, config: ModelConfig, params: AdversarialParams, n_objectives: int = 2):
        # Same draws as Multihead first, so that lambda = 0 reproduces it exactly.
        super().__init__(d_in, config, params.head_hidden, n_objectives)
        self.params = params
        self.adversary_lambda = float(params.adversary_lambda)
        self.discriminator = head(config.latent, params.discriminator_width)

    def discriminator_logits(self, z):
        return self.discriminator(z).squeeze(-1)

    def encoder_adversary_loss(self, z, objective, logits=None):
        """What the encoder minimises against the discriminator (per model, mean over rows).

        reversal: -BCE(h(z), c), the gradient the reversal layer sends (pushes h to be wrong,
        and past chance when it can); confusion: BCE(h(z), 1/2), minimal where h says 1/2.
        `logits`: h(z) when the caller has it (the gradient then flows into z only through them)."""
        logits = self.discriminator_logits(z) if logits is None else logits
        if self.params.encoder_loss == "confusion":
            return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 0.5), reduction="none").mean(-1)
        return -F.binary_cross_entropy_with_logits(logits, objective.to(z.dtype), reduction="none").mean(-1)

    def pair_terms(self, emb_a, emb_b, objective):
        n = emb_a.shape[-2]
        both = both_sides(objective)
        z = self.encoder(torch.cat([emb_a, emb_b], dim=-2))
        reward = self.rewards_from_latent(z, both)  # as Multihead computes it: lambda = 0 matches
        # BCE on both responses of each pair, as in the paper (one mean per model).
        logits = self.discriminator_logits(ReverseGradient.apply(z, self.adversary_lambda))
        adversary_loss = F.binary_cross_entropy_with_logits(logits, both.to(z.dtype), reduction="none").mean(-1)
        return reward[..., :n] - reward[..., n:], adversary_loss


@torch.no_grad()
def discriminator_accuracy(model: AdversarialReward, emb_a, emb_b, objective) -> float:
    """How well the adversary reads the objective c from z_hat, over both responses."""
    model.eval()
    hits = [(model.discriminator_logits(model.latent(emb)) > 0).long() == objective for emb in (emb_a, emb_b)]
    return float(torch.cat(hits).float().mean())


def build_adversarial(d_in: int, config: ModelConfig, params: AdversarialParams, uses_objective: bool):
    return AdversarialReward(d_in, config, params)
