"""The adversarial game, one step at a time, with a per-step trace.

Each step, with separate Adam optimisers for the two players:
  1. both players see the same discriminator h, as through the paper's reversal layer: h
     steps on its BCE for c, and encoder and heads on BTL + lambda_p * the encoder's
     adversary loss (reversal: -BCE, what the reversal layer sends; confusion: BCE against
     1/2, minimal where h is at chance);
  2. h takes `disc_steps` - 1 more steps on the batch's z_hat (detached: g does not move).
With the paper's options (reversal, constant lambda, 1 step, one learning rate) this is the
paper's update: one Adam over all parameters is the same as two, Adam being element-wise
(tests/test_adversary.py checks that it gives the reversal layer's numbers).
lambda_p is lambda, or DANN's ramp lambda * (2 / (1 + exp(-10 p)) - 1) over training progress p.

Works on one model (tensors (n, ...)) or K stacked models (tensors (K, n, ...)): every
quantity is per model, shape (K,), K = 1 for a plain model. Each step records the
discriminator's accuracy and loss (before its update), the BTL loss and the L2 norms of
the encoder's gradient from each term, kept on the device until the end of training.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from causalpref.models.layers import both_sides
from causalpref.train.loop import btl_loss, make_adam

TRACE_COLUMNS = ("lambda", "disc_accuracy", "disc_loss", "btl_loss", "grad_btl", "grad_adversary")
MAX_TRACE_ROWS = 400  # per model in a detail table: long runs keep every n-th step


def lambda_at(lam: float, schedule: str, progress: float) -> float:
    """The adversary's weight at training progress p in [0, 1]."""
    if schedule == "dann":  # Ganin et al. 2016: from 0 at p = 0 towards lambda, 0.76 lambda at p = 0.1
        return lam * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)
    return lam


def _per_model_sq_norm(grads, stacked: bool) -> torch.Tensor:
    """(K,) squared L2 norms of gradients, summed over tensors; K = 1 for a plain model."""
    return sum(g.reshape(g.shape[0] if stacked else 1, -1).pow(2).sum(1) for g in grads)


class Game:
    """Optimisers and one step of the adversarial game for a model with `plays_game`."""

    def __init__(self, model, lr: float, device, steps_total: int, stacked: bool):
        self.model, self.stacked, self.steps_total = model, stacked, max(steps_total, 1)
        self.params = model.params
        self.disc = list(model.discriminator.parameters())
        disc_ids = {id(p) for p in self.disc}
        self.rest = [p for p in model.parameters() if id(p) not in disc_ids]
        self.encoder = list(model.encoder.parameters())
        self.optimiser = make_adam(self.rest, lr, device)  # encoder and heads
        self.disc_optimiser = make_adam(self.disc, self.params.disc_lr or lr, device)
        self.step_count, self.disc_updates = 0, 0
        self.records: list[torch.Tensor] = []

    def step(self, emb_a, emb_b, label, objective, weight) -> torch.Tensor:
        """One game step; returns the (K,) BTL losses (detached), or () for a plain model."""
        model, params = self.model, self.params
        n = emb_a.shape[-2]
        both = both_sides(objective)
        target = both.to(emb_a.dtype)
        z = model.encoder(torch.cat([emb_a, emb_b], dim=-2))
        lam = lambda_at(params.adversary_lambda, params.schedule, self.step_count / self.steps_total)

        # Both players see the same discriminator (as through the paper's reversal layer):
        # h's gradient from its BCE, g's from BTL + lambda_p * its adversary loss.
        logits = model.discriminator_logits(z)
        disc_loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(-1)
        accuracy = ((logits.detach() > 0).long() == both).float().mean(-1)
        reward = model.rewards_from_latent(z, both)
        btl = btl_loss(reward[..., :n] - reward[..., n:], label, weight)
        disc_grads = torch.autograd.grad(disc_loss.sum(), self.disc, retain_graph=True)
        btl_grads = torch.autograd.grad(btl.sum(), self.rest, retain_graph=lam > 0)
        grads = dict(zip(map(id, self.rest), btl_grads))
        encoder_btl_sq = _per_model_sq_norm([grads[id(p)] for p in self.encoder], self.stacked)
        adversary_sq = torch.zeros_like(disc_loss.detach())
        if lam > 0:  # lambda = 0: exactly Multihead's step
            adversary = model.encoder_adversary_loss(z, both, logits) * lam
            adversary_grads = torch.autograd.grad(adversary.sum(), self.encoder)
            adversary_sq = _per_model_sq_norm(adversary_grads, self.stacked)
            for p, g in zip(self.encoder, adversary_grads):
                grads[id(p)] = grads[id(p)] + g
        # contiguous: autograd.grad may return transposed layouts, which fused Adam misreads
        for p in self.rest:
            p.grad = grads[id(p)].contiguous()
        for p, g in zip(self.disc, disc_grads):
            p.grad = g.contiguous()
        self.optimiser.step()
        self.disc_optimiser.step()
        self.disc_updates += 1

        # k - 1 more discriminator steps on this batch's z_hat (detached: g does not move)
        for _ in range(params.disc_steps - 1):
            extra = model.discriminator_logits(z.detach())
            extra_loss = F.binary_cross_entropy_with_logits(extra, target, reduction="none").mean(-1)
            self.disc_optimiser.zero_grad(set_to_none=True)
            extra_loss.sum().backward()
            self.disc_optimiser.step()
            self.disc_updates += 1

        columns = [torch.full_like(accuracy, lam), accuracy, disc_loss.detach(), btl.detach()]
        columns += [encoder_btl_sq.sqrt(), adversary_sq.sqrt()]
        self.records.append(torch.stack([c.reshape(-1) for c in columns], dim=-1))
        self.step_count += 1
        return btl.detach()

    def trace(self, steps_per_epoch: int) -> list[list[dict]]:
        """Per model: one row per recorded step (every n-th when there are many)."""
        if not self.records:
            return []
        values = torch.stack(self.records).cpu().numpy()  # (steps, K, columns)
        stride = max(1, math.ceil(len(values) / MAX_TRACE_ROWS))
        out = []
        for k in range(values.shape[1]):
            rows = []
            for s in range(0, len(values), stride):
                row = {"step": s + 1, "epoch": s // steps_per_epoch + 1, "progress": s / self.steps_total}
                row.update({name: float(v) for name, v in zip(TRACE_COLUMNS, values[s, k])})
                rows.append(row)
            out.append(rows)
        return out
