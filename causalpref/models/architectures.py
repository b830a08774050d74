"""Reward models: an embedding (and, in Experiment 2, the objective c) in, a reward out.

- RewardMLP, "base": the paper's Experiment-1 model, embedding -> 3-layer GELU MLP ->
  latent -> linear -> reward. In Experiment 2 the objective is appended to the input,
  [embedding, c], as the paper's Base model does.
- MultiheadReward: a shared 3-layer GELU MLP g gives a latent z_hat; one head f_c per
  objective turns it into the reward under c.
- AdversarialReward: Multihead plus a discriminator h(z_hat) that predicts c, trained
  through a gradient-reversal layer: h learns to predict c, g learns to make that
  impossible (min over g, f, max over h of L_BTL - lambda * L_BCE). With lambda = 0 it is
  exactly Multihead.

The Bradley-Terry-Luce probability that a beats b is sigmoid(r(a) - r(b)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from causalpref.errors import CausalPrefError

MODEL_NAMES = ("base", "multihead", "adversarial")


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 512        # width of the hidden layers (paper: 512)
    latent: int = 64         # size of z_hat before the head(s) (paper: 64 in Exp. 1, 512 in Exp. 2)
    n_layers: int = 3        # linear layers in the MLP up to the latent (paper: 3)
    head_hidden: int = 512   # hidden width of each objective head and of the discriminator; 0 = linear
    adversary_lambda: float = 1.0   # gradient-reversal strength (paper: 1.0)

    def __post_init__(self):
        for name in ("hidden", "latent", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CausalPrefError(f"model {name} must be a positive integer, got {value!r}")
        if not isinstance(self.head_hidden, int) or self.head_hidden < 0:
            raise CausalPrefError(f"model head_hidden must be an integer >= 0, got {self.head_hidden!r}")
        lam = self.adversary_lambda
        if not isinstance(lam, (int, float)) or not (lam >= 0) or lam == float("inf"):
            raise CausalPrefError(f"adversary lambda must be a finite number >= 0, got {lam!r}")


class Linear(nn.Linear):
    """nn.Linear that also runs K stacked models at once.

    With the usual (out, in) weight it is nn.Linear. Given stacked weights (K, out, in) and
    biases (K, out) through torch.func.functional_call, and inputs (K, n, in), it computes all
    K layers in one batched matmul: that is how train_many.py trains many models per step.
    Every other operation of the models below works on a leading K axis as it is.
    """

    def forward(self, x):
        if self.weight.dim() == 2:
            return F.linear(x, self.weight, self.bias)
        if self.bias is None:
            return torch.bmm(x, self.weight.transpose(1, 2))
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))


def mlp(d_in: int, hidden: int, d_out: int, n_layers: int) -> nn.Sequential:
    """n_layers linear layers with GELU after each one (the output included)."""
    widths = [d_in] + [hidden] * (n_layers - 1) + [d_out]
    layers: list[nn.Module] = []
    for w_in, w_out in zip(widths[:-1], widths[1:]):
        layers += [Linear(w_in, w_out), nn.GELU()]
    return nn.Sequential(*layers)


def head(d_in: int, hidden: int, bias: bool = True) -> nn.Module:
    """A scalar head: one hidden GELU layer of width `hidden`, or linear when hidden = 0.

    Reward heads take bias=False: a constant added to every reward cancels in r(a) - r(b)
    (absolute rewards are not identifiable), so its gradient is pure rounding noise that
    Adam would turn into a random walk."""
    if hidden == 0:
        return Linear(d_in, 1, bias=bias)
    return nn.Sequential(Linear(d_in, hidden), nn.GELU(), Linear(hidden, 1, bias=bias))


def _both(objective):
    """The objectives of a batch of a-sides followed by the same batch of b-sides."""
    return None if objective is None else torch.cat([objective, objective], dim=-1)


class RewardModel(nn.Module):
    """Common interface: reward(emb, objective) and the per-pair training terms."""

    def pair_terms(self, emb_a, emb_b, objective):
        """(margin r(a) - r(b), auxiliary loss or None) for one batch.

        Both sides go through the network as one batch: half the calls, larger matmuls.
        Works on one model's (n, d) batch or on K stacked models' (K, n, d) batches."""
        n = emb_a.shape[-2]
        reward = self(torch.cat([emb_a, emb_b], dim=-2), _both(objective))
        return reward[..., :n] - reward[..., n:], None


class RewardMLP(RewardModel):
    """embedding [+ objective] -> MLP -> latent -> linear -> reward."""

    def __init__(self, d_in: int, config: ModelConfig = ModelConfig(), uses_objective: bool = False):
        super().__init__()
        self.uses_objective = uses_objective
        self.encoder = mlp(d_in + int(uses_objective), config.hidden, config.latent, config.n_layers)
        self.head = Linear(config.latent, 1, bias=False)   # a reward offset cancels in BTL

    def latent(self, emb, objective=None):
        if self.uses_objective:
            if objective is None:
                raise CausalPrefError("this model needs the objective c of every pair")
            emb = torch.cat([emb, objective.to(emb.dtype).unsqueeze(-1)], dim=-1)
        return self.encoder(emb)

    def forward(self, emb, objective=None):
        return self.head(self.latent(emb, objective)).squeeze(-1)


class MultiheadReward(RewardModel):
    """Shared g(embedding) = z_hat, one head f_c per objective."""

    def __init__(self, d_in: int, config: ModelConfig = ModelConfig(), n_objectives: int = 2):
        super().__init__()
        self.encoder = mlp(d_in, config.hidden, config.latent, config.n_layers)
        self.heads = nn.ModuleList([head(config.latent, config.head_hidden, bias=False)
                                    for _ in range(n_objectives)])

    def latent(self, emb, objective=None):
        return self.encoder(emb)

    def rewards_from_latent(self, z, objective):
        if objective is None:
            raise CausalPrefError("a multihead model needs the objective c of every pair")
        every_head = torch.cat([h(z) for h in self.heads], dim=-1)       # (n, n_objectives)
        return every_head.gather(-1, objective.long().unsqueeze(-1)).squeeze(-1)

    def forward(self, emb, objective=None):
        return self.rewards_from_latent(self.encoder(emb), objective)


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; multiplies the gradient by -lambda on the way back."""

    @staticmethod
    def forward(x, lam):
        return x.view_as(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.lam = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


class AdversarialReward(MultiheadReward):
    """Multihead + a discriminator that tries to read c from z_hat, through gradient reversal."""

    def __init__(self, d_in: int, config: ModelConfig = ModelConfig(), n_objectives: int = 2):
        super().__init__(d_in, config, n_objectives)   # same draws as Multihead first: lambda=0 matches it
        self.adversary_lambda = float(config.adversary_lambda)
        self.discriminator = head(config.latent, config.head_hidden)

    def discriminator_logits(self, z):
        return self.discriminator(z).squeeze(-1)

    def pair_terms(self, emb_a, emb_b, objective):
        n = emb_a.shape[-2]
        both = _both(objective)
        z = self.encoder(torch.cat([emb_a, emb_b], dim=-2))
        reward = self.rewards_from_latent(z, both)       # as Multihead computes it: lambda=0 matches
        # BCE on both responses of each pair, as in the paper (one mean per model).
        logits = self.discriminator_logits(_ReverseGradient.apply(z, self.adversary_lambda))
        adversary_loss = F.binary_cross_entropy_with_logits(logits, both.to(z.dtype), reduction="none").mean(-1)
        return reward[..., :n] - reward[..., n:], adversary_loss


def build_model(name: str, d_in: int, config: ModelConfig, seed: int, uses_objective: bool = False) -> RewardModel:
    """Build with seeded initial weights, leaving torch's global generator untouched.

    `uses_objective` (Experiment 2) feeds c to the base model; the multihead and adversarial
    models always route by c.
    """
    if name not in MODEL_NAMES:
        raise CausalPrefError(f"unknown model {name!r}; choose from {list(MODEL_NAMES)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "base":
            return RewardMLP(d_in, config, uses_objective=uses_objective)
        if name == "multihead":
            return MultiheadReward(d_in, config)
        return AdversarialReward(d_in, config)
