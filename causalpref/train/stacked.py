"""Train many reward models of one architecture at once.

K models (different seeds, training sets, rho) have their weights stacked along a leading
axis and run as one batched-matmul network per step (models.Linear understands stacked
weights; see stack_models), so K small MLPs cost about as many Python steps as one. Each model keeps its own data, its own batch order (its seed), its
own Adam state (Adam is element-wise, so one Adam over stacked tensors is K independent
Adams) and its own best-validation checkpoint. The result is the same as training them
one by one with `train.train_reward_model`, up to float rounding of batched matmuls.
"""

from __future__ import annotations

import contextlib
import copy

import torch
from torch import nn

from causalpref.data.pairs import PairSet
from causalpref.errors import CausalPrefError
from causalpref.stats import pairwise_accuracies
from causalpref.train.game import Game
from causalpref.train.loop import TrainConfig, TrainResult, btl_loss, make_adam, train_reward_model


def stack_models(models: list[nn.Module]) -> nn.Module:
    """One module whose every parameter is the K models' parameters stacked on a new first
    axis. models.Linear runs such weights as batched matmuls, so the stacked module's own
    forward and pair_terms compute all K models at once, with ordinary autograd."""
    stacked = copy.deepcopy(models[0])
    for name, _ in models[0].named_parameters():
        owner, _, attribute = name.rpartition(".")
        values = torch.stack([m.get_parameter(name).detach() for m in models])
        setattr(stacked.get_submodule(owner), attribute, nn.Parameter(values))
    return stacked


class _StackedPairs:
    """K pair sets of equal size stacked on the device: (K, n, d) embeddings, (K, n) labels."""

    def __init__(self, sets: list[PairSet], device: torch.device):
        sizes = {len(s) for s in sets}
        if len(sizes) != 1 or len({s.dim for s in sets}) != 1:
            raise CausalPrefError(
                f"models trained together need equal set sizes and dimensions, got sizes "
                f"{sorted(sizes)} and dimensions {sorted({s.dim for s in sets})}"
            )

        def stack(name, dtype=None):
            return torch.stack([torch.as_tensor(getattr(s, name)) for s in sets]).to(device, dtype)

        self.emb_a, self.emb_b, self.label = stack("emb_a"), stack("emb_b"), stack("label")
        has_objective = [s.objective is not None for s in sets]
        if any(has_objective) and not all(has_objective):
            raise CausalPrefError("either every pair set of a batch of models has objectives or none has")
        self.objective = stack("objective", torch.long) if all(has_objective) else None
        has_weight = [s.weight is not None for s in sets]
        if any(has_weight) and not all(has_weight):
            raise CausalPrefError("either every training set of a batch of models has weights or none has")
        self.weight = stack("weight", torch.float32) if all(has_weight) else None

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
    """The device can run the precision (its name is checked once, by TrainConfig)."""
    if precision != "fp32" and device.type != "cuda":
        raise CausalPrefError(f"precision {precision!r} needs a CUDA device; this run uses {device.type}")


def stacked_margins(stacked: nn.Module, data: _StackedPairs, batch_size: int = 8192) -> torch.Tensor:
    """(K, n) reward margins r(a) - r(b) of K stacked models on their own pairs."""
    parts = []
    with torch.no_grad():
        for i in range(0, len(data), batch_size):
            cut = slice(i, i + batch_size)
            objective = None if data.objective is None else data.objective[:, cut]
            parts.append(stacked(data.emb_a[:, cut], objective) - stacked(data.emb_b[:, cut], objective))
    return torch.cat(parts, dim=1).float()


# On a CPU a step this large (multiply-adds per model) keeps the cores busy by itself, and
# batched matmuls of several such models measured slower than one model at a time.
CPU_BUSY_STEP_MACS = 20_000_000


def models_per_chunk(model: nn.Module, n_pairs: int, dim: int, batch_size: int, device: torch.device) -> int:
    """How many models to train at once: all that fit the memory budget, but on a CPU one at a
    time once a single model's step is large enough to be compute-bound."""
    n_params = sum(p.numel() for p in model.parameters())
    if device.type == "cpu" and 2 * batch_size * n_params > CPU_BUSY_STEP_MACS:
        return 1
    per_model = n_pairs * 2 * dim * 4 + n_params * 4 * 6  # data; weights, grads, Adam, best copy
    budget = torch.cuda.mem_get_info(device)[0] // 2 if device.type == "cuda" else 3 * 2**30
    return max(1, int(budget // max(per_model, 1)))


def train_reward_models(
    models: list[nn.Module],
    trains: list[PairSet],
    vals: list[PairSet],
    config: TrainConfig,
    seeds: list[int],
    device: torch.device,
    on_epoch=None,
    max_models: int | None = None,
) -> list[TrainResult]:
    """Train K same-architecture models together; model k on trains[k], selected on vals[k].

    Models are trained in chunks of at most `max_models` (default: `models_per_chunk`).
    `on_epoch(epoch, records)` gets one record per model of a chunk after each epoch;
    returning True stops that chunk.
    """
    if not (len(models) == len(trains) == len(vals) == len(seeds)) or not models:
        raise CausalPrefError(
            f"need one training set, validation set and seed per model, got "
            f"{len(models)} models, {len(trains)} train, {len(vals)} val, {len(seeds)} seeds"
        )
    check_precision(config.precision, device)
    if max_models is None:
        max_models = models_per_chunk(
            models[0], len(trains[0]) + len(vals[0]), trains[0].dim, config.batch_size, device
        )
    results = []
    for first in range(0, len(models), max_models):
        part = slice(first, first + max_models)
        results += _train_chunk(models[part], trains[part], vals[part], config, seeds[part], device, on_epoch)
    return results


def _train_chunk(models, trains, vals, config, seeds, device, on_epoch) -> list[TrainResult]:
    k = len(models)
    if k == 1:  # nothing to stack: the plain loop
        per_model = None if on_epoch is None else (lambda epoch, record: on_epoch(epoch, [record]))
        return [train_reward_model(models[0], trains[0], vals[0], config, seeds[0], device, on_epoch=per_model)]
    train, val = _StackedPairs(trains, device), _StackedPairs(vals, device)
    stacked = stack_models(models).to(device)
    params = dict(stacked.named_parameters())

    def batched_loss(emb_a, emb_b, label, objective, weight):
        """(K,) losses: each model's mean BTL loss on its batch, plus its adversary's loss."""
        margin, auxiliary = stacked.pair_terms(emb_a, emb_b, objective)
        loss = btl_loss(margin, label, weight)
        return loss if auxiliary is None else loss + auxiliary.float()

    steps_per_epoch = -(-len(train) // config.batch_size)
    game = (
        Game(stacked, config.lr, device, config.epochs * steps_per_epoch, stacked=True) if stacked.plays_game else None
    )
    optimiser = None if game is not None else make_adam(params.values(), config.lr, device)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    rows = torch.arange(k, device=device)[:, None]
    best_accuracy = torch.full((k,), -1.0, device=device)
    best_epoch = torch.zeros(k, dtype=torch.long, device=device)
    best_params = {name: value.detach().clone() for name, value in params.items()}
    histories: list[list[dict]] = [[] for _ in range(k)]

    with _tf32(config.precision == "tf32"):
        for epoch in range(1, config.epochs + 1):
            order = torch.stack([torch.randperm(len(train), generator=g) for g in generators]).to(device)
            loss_sum = torch.zeros(k, device=device)  # stays on the device: no sync per step
            for start in range(0, len(train), config.batch_size):
                idx = order[:, start : start + config.batch_size]
                objective = None if train.objective is None else train.objective[rows, idx]
                weight = None if train.weight is None else train.weight[rows, idx]
                batch = (train.emb_a[rows, idx], train.emb_b[rows, idx], train.label[rows, idx], objective, weight)
                if game is not None:  # the adversarial game: its own optimisers and steps
                    with _precision_context(config.precision, device):
                        losses = game.step(*batch)
                else:
                    with _precision_context(config.precision, device):
                        losses = batched_loss(*batch)
                    optimiser.zero_grad(set_to_none=True)
                    losses.sum().backward()  # each model's parameters only see their own loss
                    optimiser.step()
                loss_sum += losses.detach() * idx.shape[1]
            with _precision_context(config.precision, device):
                stacked.eval()
                val_accuracy = pairwise_accuracies(stacked_margins(stacked, val), val.label)
                stacked.train()
            improved = val_accuracy > best_accuracy
            best_accuracy = torch.where(improved, val_accuracy, best_accuracy)
            best_epoch = torch.where(improved, epoch, best_epoch)
            for name, value in params.items():
                best_params[name][improved] = value.detach()[improved]
            records = [
                {"epoch": epoch, "train_loss": float(loss) / len(train), "val_accuracy": float(a)}
                for loss, a in zip(loss_sum.cpu(), val_accuracy.cpu())
            ]
            for history, record in zip(histories, records):
                history.append(record)
            if on_epoch is not None and on_epoch(epoch, records):
                break

    traces = game.trace(steps_per_epoch) if game is not None else [[] for _ in models]
    results = []
    for i, model in enumerate(models):
        state = {name: value[i].detach().cpu().clone() for name, value in best_params.items()}
        model = model.cpu()
        model.load_state_dict(state)
        results.append(TrainResult(model=model, best_epoch=int(best_epoch[i]), history=histories[i], trace=traces[i]))
    return results
