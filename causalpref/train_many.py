"""Train many reward models of one architecture at once.

K models (different seeds, training sets, rho) have their weights stacked along a leading
axis and run through one `torch.func.vmap` per step, so K small MLPs cost about as many
Python steps as one. Each model keeps its own data, its own batch order (its seed), its
own Adam state (Adam is element-wise, so one Adam over stacked tensors is K independent
Adams) and its own best-validation checkpoint. The result is the same as training them
one by one with `train.train_reward_model`, up to float rounding of batched matmuls.
"""

from __future__ import annotations

import contextlib
import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F

from .errors import CausalPrefError
from .pairs import PairSet
from .train import TrainConfig, TrainResult


class _PairTerms(nn.Module):
    """forward = model.pair_terms, so that functional_call can reach it."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, emb_a, emb_b, objective):
        return self.model.pair_terms(emb_a, emb_b, objective)


class _StackedPairs:
    """K pair sets of equal size stacked on the device: (K, n, d) embeddings, (K, n) labels."""

    def __init__(self, sets: list[PairSet], device: torch.device):
        sizes = {len(s) for s in sets}
        if len(sizes) != 1 or len({s.dim for s in sets}) != 1:
            raise CausalPrefError(f"models trained together need equal set sizes and dimensions, got sizes "
                                  f"{sorted(sizes)} and dimensions {sorted({s.dim for s in sets})}")
        def stack(name, dtype=None):
            return torch.stack([torch.as_tensor(getattr(s, name)) for s in sets]).to(device, dtype)
        self.emb_a, self.emb_b, self.label = stack("emb_a"), stack("emb_b"), stack("label")
        has_objective = [s.objective is not None for s in sets]
        if any(has_objective) and not all(has_objective):
            raise CausalPrefError("either every pair set of a batch of models has objectives or none has")
        self.objective = stack("objective", torch.long) if all(has_objective) else None

    def __len__(self) -> int:
        return int(self.label.shape[1])


def _precision_context(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def _tf32(enabled: bool):
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in ("fp32", "tf32", "bf16"):
        raise CausalPrefError(f"precision must be fp32, tf32 or bf16, got {precision!r}")
    if precision != "fp32" and device.type != "cuda":
        raise CausalPrefError(f"precision {precision!r} needs a CUDA device; this run uses {device.type}")


def stacked_margins(template: nn.Module, params: dict, data: _StackedPairs, batch_size: int = 8192) -> torch.Tensor:
    """(K, n) reward margins r(a) - r(b) of K stacked models on their own pairs."""
    def margin(p, emb_a, emb_b, objective):
        return functional_call(template, p, (emb_a, objective)) - functional_call(template, p, (emb_b, objective))

    in_dims = (0, 0, 0, None if data.objective is None else 0)
    parts = []
    with torch.no_grad():
        for i in range(0, len(data), batch_size):
            cut = slice(i, i + batch_size)
            objective = None if data.objective is None else data.objective[:, cut]
            parts.append(vmap(margin, in_dims=in_dims)(params, data.emb_a[:, cut], data.emb_b[:, cut], objective))
    return torch.cat(parts, dim=1).float()


def _accuracies(margin: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    correct = torch.where(margin == 0, 0.5, ((margin > 0).float() == label).float())
    return correct.mean(dim=1)


def train_reward_models(models: list[nn.Module], trains: list[PairSet], vals: list[PairSet],
                        config: TrainConfig, seeds: list[int], device: torch.device,
                        on_epoch=None) -> list[TrainResult]:
    """Train K same-architecture models together; model k on trains[k], selected on vals[k].

    `on_epoch(epoch, records)` gets one record per model after each epoch; returning True stops.
    """
    if not (len(models) == len(trains) == len(vals) == len(seeds)) or not models:
        raise CausalPrefError(f"need one training set, validation set and seed per model, got "
                              f"{len(models)} models, {len(trains)} train, {len(vals)} val, {len(seeds)} seeds")
    check_precision(config.precision, device)
    k = len(models)
    train, val = _StackedPairs(trains, device), _StackedPairs(vals, device)
    template = copy.deepcopy(models[0]).to("meta")
    params, buffers = stack_module_state([m.to(device) for m in models])
    pair_terms = _PairTerms(template)

    def loss_of_one(p, emb_a, emb_b, label, objective):
        margin, auxiliary = functional_call(pair_terms, {f"model.{n}": v for n, v in p.items()},
                                            (emb_a, emb_b, objective))
        loss = F.binary_cross_entropy_with_logits(margin.float(), label)
        return loss if auxiliary is None else loss + auxiliary.float()

    batched_loss = vmap(loss_of_one, in_dims=(0, 0, 0, 0, None if train.objective is None else 0))
    optimiser = torch.optim.Adam(params.values(), lr=config.lr)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    rows = torch.arange(k, device=device)[:, None]
    best_accuracy = torch.full((k,), -1.0, device=device)
    best_epoch = torch.zeros(k, dtype=torch.long, device=device)
    best_params = {name: value.detach().clone() for name, value in params.items()}
    histories: list[list[dict]] = [[] for _ in range(k)]

    with _tf32(config.precision == "tf32"):
        for epoch in range(1, config.epochs + 1):
            order = torch.stack([torch.randperm(len(train), generator=g) for g in generators]).to(device)
            loss_sum = torch.zeros(k, device=device)      # stays on the device: no sync per step
            for start in range(0, len(train), config.batch_size):
                idx = order[:, start:start + config.batch_size]
                objective = None if train.objective is None else train.objective[rows, idx]
                with _precision_context(config.precision, device):
                    losses = batched_loss(params, train.emb_a[rows, idx], train.emb_b[rows, idx],
                                          train.label[rows, idx], objective)
                optimiser.zero_grad(set_to_none=True)
                losses.sum().backward()    # each model's parameters only see their own loss
                optimiser.step()
                loss_sum += losses.detach() * idx.shape[1]
            with _precision_context(config.precision, device):
                val_accuracy = _accuracies(stacked_margins(template, params, val), val.label)
            improved = val_accuracy > best_accuracy
            best_accuracy = torch.where(improved, val_accuracy, best_accuracy)
            best_epoch = torch.where(improved, epoch, best_epoch)
            for name, value in params.items():
                best_params[name][improved] = value.detach()[improved]
            records = [{"epoch": epoch, "train_loss": float(l) / len(train), "val_accuracy": float(a)}
                       for l, a in zip(loss_sum.cpu(), val_accuracy.cpu())]
            for history, record in zip(histories, records):
                history.append(record)
            if on_epoch is not None and on_epoch(epoch, records):
                break

    results = []
    for i, model in enumerate(models):
        state = {name: value[i].detach().cpu().clone() for name, value in best_params.items()}
        state.update({name: value[i].cpu() for name, value in buffers.items()})
        model = model.cpu()
        model.load_state_dict(state)
        results.append(TrainResult(model=model, best_epoch=int(best_epoch[i]), history=histories[i]))
    return results
