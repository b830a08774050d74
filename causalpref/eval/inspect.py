"""Looking inside trained reward models: what the dashboard draws besides accuracies.

- decision boundary (Experiment 1): the model's preference probability over the (d1, d2)
  plane of causal factor differences, averaged over random contexts, beside the true
  boundary a*d1 + (1 - a)*d2 = 0;
- implied weight a_hat: regress the model's reward margin on (d1, d2) over test pairs;
  a_hat = w1 / (w1 + w2) is the weight the model effectively gives the first factor;
- latent projection (Experiment 2): the first two principal components of each model's
  z_hat on test responses, with their objective and prompt type, to see whether the
  latent encodes the prompt type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from causalpref.data.pairs import PairSet
from causalpref.eval.diagnostics import reward_factor_correlations
from causalpref.stats import pearson
from causalpref.train.loop import reward_margins

BOUNDARY_LIMIT = 3.0  # the plane spans [-3, 3]^2 in factor-difference units
BOUNDARY_STEPS = 21


@dataclass(frozen=True)
class BoundaryProbe:
    """Probe pairs on a (d1, d2) grid, built once per sweep and shown to every model."""

    d1: np.ndarray  # (cells,)
    d2: np.ndarray
    contexts: int
    pairs: PairSet  # cells * contexts pairs, cell-major


def boundary_probe(world, contexts: int = 16, seed: int = 0) -> BoundaryProbe:
    grid = np.linspace(-BOUNDARY_LIMIT, BOUNDARY_LIMIT, BOUNDARY_STEPS)
    d1, d2 = (g.ravel() for g in np.meshgrid(grid, grid, indexing="ij"))
    return BoundaryProbe(d1=d1, d2=d2, contexts=contexts, pairs=world.probe_pairs(d1, d2, contexts=contexts, seed=seed))


def boundary_rows(model, probe: BoundaryProbe, device) -> list[dict]:
    """P(a preferred) on the probe's (d1, d2) grid, averaged over its random contexts."""
    margin = reward_margins(model, probe.pairs, device).reshape(probe.d1.size, probe.contexts)
    probability = (1.0 / (1.0 + np.exp(-margin))).mean(axis=1)
    return [
        {"d1": float(x), "d2": float(y), "p_prefer_a": float(p)} for x, y, p in zip(probe.d1, probe.d2, probability)
    ]


def implied_weight(margin: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> float:
    """a_hat = w1 / (w1 + w2) from least squares margin ~ w1*d1 + w2*d2 (NaN if w1 + w2 <= 0)."""
    w, *_ = np.linalg.lstsq(np.column_stack([d1, d2]), margin, rcond=None)
    total = w[0] + w[1]
    return float(w[0] / total) if total > 0 else float("nan")


def implied_weight_rows(model, pairs, device, margin: np.ndarray | None = None) -> list[dict]:
    """`margin`: the model's margins on `pairs` when the caller has them already."""
    margin = reward_margins(model, pairs, device) if margin is None else margin
    return [{"a_hat": implied_weight(margin, pairs.factor_diffs[:, 0], pairs.factor_diffs[:, 1])}]


@torch.no_grad()
def latent_rows(model, pairs, device, max_points: int = 400) -> list[dict]:
    """2-D PCA of z_hat for up to `max_points` responses (side a of each pair)."""
    n = min(max_points, len(pairs))
    emb = torch.as_tensor(pairs.emb_a[:n], device=device)
    objective = torch.as_tensor(pairs.objective[:n], device=device)
    model = model.to(device).eval()
    z = model.latent(emb, objective).cpu().numpy().astype(np.float64)
    z -= z.mean(axis=0)
    _, singular, vt = np.linalg.svd(z, full_matrices=False)
    xy = z @ vt[:2].T
    explained = singular[:2] ** 2 / max(float(np.sum(singular**2)), 1e-12)
    return [
        {
            "pc1": float(x),
            "pc2": float(y),
            "objective": int(c),
            "prompt_type": int(t),
            "explained_pc1": float(explained[0]),
            "explained_pc2": float(explained[1]),
        }
        for (x, y), c, t in zip(xy, pairs.objective[:n], pairs.prompt_type[:n])
    ]


def history_rows(history: list[dict]) -> list[dict]:
    return [dict(record) for record in history]


def factor_rows(model, pairs: PairSet, device, margin: np.ndarray | None = None) -> list[dict]:
    """ODIN's spurious-reliance read-out: corr(reward margin, factor difference) per factor,
    beside the same correlation of the world's true reward margin (NaN when unknown).

    The reference matters: on pairs whose causal factors disagree (the OOD split) even the
    true reward correlates negatively with the lighter causal factor. A nuisance factor's
    reference is about 0, so any clear correlation there is reliance on it. No rows when the
    pairs carry no named factor differences (real objective data)."""
    if pairs.factor_diffs is None or not pairs.factor_names:
        return []
    margin = reward_margins(model, pairs, device) if margin is None else margin
    frame = reward_factor_correlations(margin, pairs.factor_diffs, pairs.factor_names)
    truth = pairs.true_margin
    return [
        {
            "factor": name,
            "correlation": float(c),
            "true_correlation": float("nan") if truth is None else pearson(truth, pairs.factor_diffs[:, j]),
        }
        for j, (name, c) in enumerate(zip(frame["factor"], frame["correlation"]))
    ]


def probe_accuracy(model, emb_a, emb_b, objective, max_rows: int = 2000, steps: int = 200) -> float:
    """How well a fresh probe reads c from z_hat: a small MLP (hidden 32) fitted on one half of
    the responses and scored on the other, both ways (cross-fitted), on up to `max_rows`.

    The co-trained discriminator only says what *it* reads; a fresh probe says what is left in
    z_hat for anyone to read (an adversary can win against its discriminator and leave c in)."""
    with torch.no_grad():
        model.eval()
        z = model.latent(torch.cat([emb_a, emb_b])[:max_rows]).float().cpu()
        c = torch.cat([objective, objective])[:max_rows].float().cpu()
        z = (z - z.mean(0)) / z.std(0).clamp_min(1e-6)
    folds = torch.randperm(len(c), generator=torch.Generator().manual_seed(0)) % 2
    hits = 0
    for fold in (0, 1):
        fit, score = folds != fold, folds == fold
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(fold)
            probe = torch.nn.Sequential(torch.nn.Linear(z.shape[1], 32), torch.nn.GELU(), torch.nn.Linear(32, 1))
        optimiser = torch.optim.Adam(probe.parameters(), lr=1e-2)
        for _ in range(steps):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(probe(z[fit]).squeeze(-1), c[fit])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            hits += int(((probe(z[score]).squeeze(-1) > 0).float() == c[score]).sum())
    return hits / len(c)
