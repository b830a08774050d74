"""Train a reward model on preference pairs with the Bradley-Terry-Luce loss.

The loss is -log sigmoid(r(y_w) - r(y_l)), written as binary cross-entropy on the
margin r(a) - r(b) against the label (the same thing, and it also accepts BTL-sampled
labels). After every epoch the validation accuracy is measured and the weights of the
best epoch are kept, as in the paper.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from causalpref.data.pairs import PairSet
from causalpref.errors import CausalPrefError
from causalpref.stats import pairwise_accuracies
from causalpref.train.config import TrainConfig


@dataclass
class TrainResult:
    model: nn.Module  # weights of the best-validation epoch, on the CPU
    best_epoch: int  # 1-based
    history: list[dict] = field(default_factory=list)  # per epoch: train_loss, val_accuracy
    trace: list[dict] = field(default_factory=list)  # an adversarial game's steps (train/game.py)


class PairTensors:
    """A PairSet's arrays moved to the device once (the objective too, when there is one)."""

    def __init__(self, pairs: PairSet, device: torch.device):
        self.emb_a = torch.as_tensor(pairs.emb_a, device=device)
        self.emb_b = torch.as_tensor(pairs.emb_b, device=device)
        self.label = torch.as_tensor(pairs.label, device=device)
        self.objective = None if pairs.objective is None else torch.as_tensor(pairs.objective, device=device).long()
        self.weight = None if pairs.weight is None else torch.as_tensor(pairs.weight, device=device).float()

    def objective_at(self, idx):
        return None if self.objective is None else self.objective[idx]

    def __len__(self) -> int:
        return int(self.label.shape[0])


def btl_loss(margin: torch.Tensor, label: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean BTL loss over the last axis (one per model when models are stacked); with
    importance weights (mean 1 over the training set) the weighted mean over the batch."""
    loss = F.binary_cross_entropy_with_logits(margin.float(), label, reduction="none")
    return (loss if weight is None else loss * weight).mean(-1)


def make_adam(parameters, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam, fused into one kernel where torch has it (CPU, CUDA): the same update, 3x faster
    on large models. Both trainers use this, so they stay numerically equivalent."""
    return torch.optim.Adam(parameters, lr=lr, fused=device.type in ("cpu", "cuda"))


@torch.no_grad()
def reward_margins(
    model: nn.Module, pairs: PairSet | PairTensors, device: torch.device, batch_size: int = 8192
) -> np.ndarray:
    """r(a) - r(b) for every pair, as a numpy array."""
    data = pairs if isinstance(pairs, PairTensors) else PairTensors(pairs, device)
    model.eval()
    out = []
    for i in range(0, len(data), batch_size):
        part = slice(i, i + batch_size)
        objective = data.objective_at(part)
        out.append(model(data.emb_a[part], objective) - model(data.emb_b[part], objective))
    return torch.cat(out).cpu().numpy()


def train_reward_model(
    model: nn.Module, train: PairSet, val: PairSet, config: TrainConfig, seed: int, device: torch.device, on_epoch=None
) -> TrainResult:
    """Fit `model` with Adam on the BTL loss; keep the best-validation-accuracy epoch.

    `on_epoch(epoch, record)` is called after each epoch (progress bars, stop buttons);
    it may return True to stop early.
    """
    if train.dim != val.dim:
        raise CausalPrefError(f"train and val embeddings differ in dimension: {train.dim} vs {val.dim}")
    from causalpref.train.game import Game  # game.py uses this module's loss and optimiser

    model = model.to(device)
    tr, va = PairTensors(train, device), PairTensors(val, device)
    steps_per_epoch = -(-len(tr) // config.batch_size)
    game = Game(model, config.lr, device, config.epochs * steps_per_epoch, stacked=False) if model.plays_game else None
    optimiser = None if game is not None else make_adam(model.parameters(), config.lr, device)
    order_rng = torch.Generator().manual_seed(seed)  # batch order: CPU generator, any device
    best = TrainResult(model=model, best_epoch=0)
    best_accuracy, best_state = -1.0, None
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(tr), generator=order_rng).to(device)
        loss_sum = torch.zeros((), device=device)  # summed on device: no sync per step
        for start in range(0, len(tr), config.batch_size):
            idx = order[start : start + config.batch_size]
            weight = None if tr.weight is None else tr.weight[idx]
            if game is not None:
                loss = game.step(tr.emb_a[idx], tr.emb_b[idx], tr.label[idx], tr.objective_at(idx), weight)
                loss_sum += loss * idx.numel()  # the BTL loss: the game's other terms are in its trace
                continue
            margin, auxiliary = model.pair_terms(tr.emb_a[idx], tr.emb_b[idx], tr.objective_at(idx))
            loss = btl_loss(margin, tr.label[idx], weight)
            if auxiliary is not None:  # e.g. the decorrelation penalty
                loss = loss + auxiliary
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            loss_sum += loss.detach() * idx.numel()
        val_accuracy = float(pairwise_accuracies(torch.as_tensor(reward_margins(model, va, device)), va.label.cpu()))
        record = {"epoch": epoch, "train_loss": float(loss_sum) / len(tr), "val_accuracy": val_accuracy}
        best.history.append(record)
        if val_accuracy > best_accuracy:
            best_accuracy, best.best_epoch = val_accuracy, epoch
            best_state = copy.deepcopy(model.state_dict())
        if on_epoch is not None and on_epoch(epoch, record):
            break
    model.load_state_dict(best_state)
    best.model = model.cpu()
    if game is not None:
        best.trace = game.trace(steps_per_epoch)[0]
    return best
