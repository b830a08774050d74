"""Train K models of one architecture whose training sets differ in size, as one stack.

train/stacked.py stacks models whose sets have equal size: they take the same steps. Here
each model keeps its own parameters (K separate leaves, stacked into batched weights at
every step), its own Adam state and step count, its own batch order (a permutation of its
own set drawn from its seed's generator, as train/loop.py draws it) and so its own number
of steps per epoch. At each step the K models' batches are stacked: a model's last, shorter
batch is padded with rows that count zero times and its loss is divided by its real rows;
a model whose epoch has no more batches gets no gradient, and Adam skips a parameter
without a gradient entirely (state and step count unchanged). A model therefore sees the
batches, the steps and the Adam updates it gets when trained alone with
`train_reward_model`; the numbers agree up to float rounding of batched matmuls
(tests/test_interventions.py checks it). Models that play an adversarial game are not
supported here (train them with train/stacked.py).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from causalpref.data.pairs import PairSet
from causalpref.errors import CausalPrefError
from causalpref.stats import pairwise_accuracies
from causalpref.train.config import TrainConfig
from causalpref.train.loop import TrainResult, make_adam


class _Padded:
    """K pair sets padded to the longest on the device: (K, n_max, d) embeddings, sizes (K,)."""

    def __init__(self, sets: list[PairSet], device: torch.device):
        self.sizes = [len(s) for s in sets]
        n = max(self.sizes)

        def stack(name, dtype=torch.float32, fill=0.0):
            out = torch.full((len(sets), n, *getattr(sets[0], name).shape[1:]), fill, dtype=dtype)
            for k, s in enumerate(sets):
                out[k, : len(s)] = torch.as_tensor(getattr(s, name)).to(dtype)
            return out.to(device)

        self.emb_a, self.emb_b, self.label = stack("emb_a"), stack("emb_b"), stack("label")
        self.objective = stack("objective", torch.long, 0) if sets[0].objective is not None else None
        self.weight = stack("weight") if sets[0].weight is not None else None


class _PairTerms(nn.Module):
    """A module whose forward is the wrapped model's pair_terms (for functional_call)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, emb_a, emb_b, objective):
        return self.model.pair_terms(emb_a, emb_b, objective)


def train_ragged(
    models: list[nn.Module],
    trains: list[PairSet],
    vals: list[PairSet],
    config: TrainConfig,
    seeds: list[int],
    device: torch.device,
) -> list[TrainResult]:
    """Train model k on trains[k] (any sizes), selected on vals[k]; see the module docstring."""
    if not (len(models) == len(trains) == len(vals) == len(seeds)) or not models:
        raise CausalPrefError("need one training set, validation set and seed per model")
    if any(getattr(m, "plays_game", False) for m in models):
        raise CausalPrefError("models that play an adversarial game train with train/stacked.py")
    for name in ("objective", "weight"):
        if len({getattr(s, name) is None for s in trains}) != 1:
            raise CausalPrefError(f"either every training set of a batch of models has a {name} or none has")
    k, batch = len(models), config.batch_size
    train, val = _Padded(trains, device), _Padded(vals, device)
    template = _PairTerms(copy.deepcopy(models[0])).to(device)
    names = [f"model.{n}" for n, _ in models[0].named_parameters()]
    leaves = [[p.detach().clone().to(device).requires_grad_() for p in m.parameters()] for m in models]
    optimiser = make_adam([p for model in leaves for p in model], config.lr, device)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    rows = torch.arange(k, device=device)[:, None]
    best_accuracy = [-1.0] * k
    best_epoch = [0] * k
    best = [[p.detach().clone() for p in model] for model in leaves]
    histories: list[list[dict]] = [[] for _ in range(k)]

    def stacked():
        return {name: torch.stack([model[i] for model in leaves]) for i, name in enumerate(names)}

    for epoch in range(1, config.epochs + 1):
        own_steps = [-(-n // batch) for n in train.sizes]
        steps = max(own_steps)
        order = torch.zeros(k, steps * batch, dtype=torch.long)
        mask = torch.zeros(k, steps * batch)
        for i, (n, g) in enumerate(zip(train.sizes, generators)):
            order[i, :n], mask[i, :n] = torch.randperm(n, generator=g), 1.0
        order, mask = order.to(device), mask.to(device)
        loss_sum = torch.zeros(k, device=device)
        for step in range(steps):
            cut = slice(step * batch, (step + 1) * batch)
            idx, real = order[:, cut], mask[:, cut]
            count = real.sum(-1)
            objective = None if train.objective is None else train.objective[rows, idx]
            margin, auxiliary = functional_call(
                template, stacked(), (train.emb_a[rows, idx], train.emb_b[rows, idx], objective)
            )
            loss = F.binary_cross_entropy_with_logits(margin.float(), train.label[rows, idx], reduction="none")
            if train.weight is not None:
                loss = loss * train.weight[rows, idx]
            losses = (loss * real).sum(-1) / count.clamp(min=1)
            active = count > 0
            if auxiliary is not None:
                losses = losses + auxiliary.float() * active
            losses.sum().backward()  # each model's leaves only see their own loss
            for i in range(k):
                if step >= own_steps[i]:  # no batch left this epoch: Adam leaves it as it is
                    for p in leaves[i]:
                        p.grad = None
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            loss_sum += losses.detach() * count
        with torch.no_grad():
            params = stacked()
            margins = functional_call(template, params, (val.emb_a, val.emb_b, val.objective))[0].float()
        for i, n in enumerate(val.sizes):
            accuracy = float(pairwise_accuracies(margins[i, :n], val.label[i, :n]))
            histories[i].append(
                {"epoch": epoch, "train_loss": float(loss_sum[i]) / train.sizes[i], "val_accuracy": accuracy}
            )
            if accuracy > best_accuracy[i]:
                best_accuracy[i], best_epoch[i] = accuracy, epoch
                best[i] = [p.detach().clone() for p in leaves[i]]
    results = []
    for i, model in enumerate(models):
        model = model.cpu()
        with torch.no_grad():
            for p, value in zip(model.parameters(), best[i]):
                p.copy_(value.cpu())
        results.append(TrainResult(model=model, best_epoch=best_epoch[i], history=histories[i]))
    return results
