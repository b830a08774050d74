"""Building blocks shared by the architectures: a stack-aware linear layer, GELU MLPs, scalar
heads and the gradient-reversal function."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Linear(nn.Linear):
    """nn.Linear that also runs K stacked models at once.

    With the usual (out, in) weight it is nn.Linear. Given stacked weights (K, out, in) and
    biases (K, out), and inputs (K, n, in), it computes all K layers in one batched matmul:
    that is how train/stacked.py trains many models per step. Every other operation of the
    architectures works on a leading K axis as it is.
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


class ReverseGradient(torch.autograd.Function):
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


def both_sides(objective):
    """The objectives of a batch of a-sides followed by the same batch of b-sides."""
    return None if objective is None else torch.cat([objective, objective], dim=-1)
