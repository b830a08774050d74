"""Synthetic latent-factor worlds: the embedded default, no download needed.

Correlated-factors world (the Experiment-1 analogue). Every response carries latent
factors: two causal ones (default truthfulness and instruction-following) that set the
true reward r = a*z1 + (1 - a)*z2, response-level nuisance factors (length, style, ...)
that do not, and prompt-level factors (topic) shared by both responses of a pair. The
"embedding" a reward model sees is a fixed, seeded, non-linear mixing of all of them plus
Gaussian noise. The model never sees a factor directly: it has to find the reward
direction inside the mixed embedding, which is where correlated factors hurt.

A world makes a *pool* of candidate pairs whose factors are drawn independently, so the
pool covers every quadrant of the (d1, d2) plane; the samplers then pick pairs with the
correlation an experiment asks for. Only drawn pairs are embedded (see noise.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from causalpref import validate
from causalpref.data.pairs import PairSet
from causalpref.data.worlds.noise import counter_normal
from causalpref.errors import CausalPrefError

SCALES = ("likert", "continuous", "binary")
LABEL_MODES = ("argmax", "btl")
# UltraFeedback-like skew towards good ratings for the 1..5 scale.
LIKERT_PROBS = np.array([0.08, 0.12, 0.25, 0.30, 0.25])
# Pools whose embeddings take at most this much memory are embedded once, whole.
EAGER_EMBEDDING_BYTES = 256 * 2**20


# Style-like response factors the true reward ignores (both synthetic worlds draw them).
NUISANCE_NAMES = ("length", "verbosity", "formality", "politeness", "tone", "formatting", "hedging", "sentiment")


@dataclass(frozen=True)
class CorrelatedFactorsWorld:
    factor_names: tuple[str, str] = ("truthfulness", "instruction_following")
    # Response-level factors that do not affect the reward. Real embeddings are dominated
    # by such content; with few or weak ones the reward direction is trivially easy to find.
    nuisance_names: tuple[str, ...] = NUISANCE_NAMES
    n_prompt_factors: int = 2  # topic-like factors shared within a pair
    scale: str = "likert"  # likert (1..5, like UltraFeedback) | continuous | binary (0/1)
    a: float = 0.25  # true reward: a*z1 + (1 - a)*z2
    dim: int = 32  # embedding dimension d
    mixing_hidden: int = 64  # width of the random non-linear mixing
    nuisance_strength: float = 2.5  # nuisance factors dominate the embedding, as topic does
    noise: float = 1.0  # std of the observation noise per embedding dimension
    label_mode: str = "argmax"  # argmax: higher reward wins; btl: sampled with temperature
    temperature: float = 0.5  # BTL temperature (label_mode='btl' only)
    pool_size: int = 40_000  # candidate pairs in the pool
    seed: int = 0  # fixes the mixing and the pool
    name: str = field(default="synthetic", compare=False)
    can_probe = True  # probe_pairs embeds any (d1, d2): the pages draw its decision boundary
    can_isolate = True  # isolated_pairs makes pairs that differ in one causal factor only
    has_counterfactual_label = False  # one label per pair: no objective to relabel under

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if len(self.factor_names) != 2 or len(set(self.factor_names)) != 2:
            raise CausalPrefError(f"factor_names must be two distinct names, got {self.factor_names!r}")
        names = list(self.factor_names) + list(self.nuisance_names)
        if len(set(names)) != len(names):
            raise CausalPrefError(f"factor and nuisance names must be distinct, got {names}")
        if self.scale not in SCALES:
            raise CausalPrefError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.label_mode not in LABEL_MODES:
            raise CausalPrefError(f"label_mode must be one of {LABEL_MODES}, got {self.label_mode!r}")
        validate.finite_number(self.a, "a", 0.0, 1.0)
        require(self.dim >= 2, f"dim must be at least 2, got {self.dim}")
        require(self.mixing_hidden >= 1, f"mixing_hidden must be positive, got {self.mixing_hidden}")
        require(self.n_prompt_factors >= 0, f"n_prompt_factors must be >= 0, got {self.n_prompt_factors}")
        require(self.noise >= 0 and np.isfinite(self.noise), f"noise must be >= 0, got {self.noise}")
        require(self.nuisance_strength >= 0, f"nuisance_strength must be >= 0, got {self.nuisance_strength}")
        # an infinite temperature makes every BTL label a coin flip
        validate.finite_number(self.temperature, "temperature", 0.0, open_low=True)
        validate.seed(self.seed)
        require(self.pool_size >= 1, f"pool_size must be at least 1, got {self.pool_size}")

    @property
    def all_factor_names(self) -> tuple[str, ...]:
        """Every response-level factor: the two causal ones first, then the nuisance ones."""
        return tuple(self.factor_names) + tuple(self.nuisance_names)

    @cached_property
    def _mixing(self) -> dict[str, np.ndarray]:
        """Fixed random weights of the mixing map latents -> embedding (seeded by the world)."""
        k = len(self.all_factor_names) + self.n_prompt_factors
        return random_mixing(np.random.default_rng([self.seed, 0]), k, self.dim, self.mixing_hidden)

    def true_reward(self, z: np.ndarray) -> np.ndarray:
        """r*(z) = a*z1 + (1 - a)*z2 on the factors' own scale."""
        return self.a * z[..., 0] + (1 - self.a) * z[..., 1]

    def embed(self, z_response: np.ndarray, z_prompt: np.ndarray, response_ids: np.ndarray) -> np.ndarray:
        """Mix latents non-linearly into d dimensions and add per-response noise."""
        u = np.concatenate([self._standardise(z_response), z_prompt], axis=1)
        signal = apply_mixing(u, self._mixing)
        noise = counter_normal(self.seed, response_ids, self.dim)
        return (signal + self.noise * noise).astype(np.float32)

    def _standardise(self, z: np.ndarray) -> np.ndarray:
        """Put causal factors on unit scale and weight the nuisance ones."""
        z = z.astype(np.float64).copy()
        if self.scale == "likert":
            z[:, :2] = (z[:, :2] - 3.0) / 1.2
        elif self.scale == "binary":
            z[:, :2] = (z[:, :2] - 0.5) * 2.0
        z[:, 2:] *= self.nuisance_strength
        return z

    def _draw_causal(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.scale == "continuous":
            return rng.normal(size=(n, 2))
        if self.scale == "likert":
            return rng.choice(np.arange(1, 6), size=(n, 2), p=LIKERT_PROBS).astype(np.float64)
        return rng.integers(0, 2, size=(n, 2)).astype(np.float64)

    def pool(self) -> "FactorPool":
        """The world's pool, built once per process (sweeps, draws and views of one world share it)."""
        return _shared_pool(self)

    def build_pool(self) -> "FactorPool":
        """The world's candidate pairs, factors drawn independently (fixed by the world seed)."""
        rng = np.random.default_rng([self.seed, 1])
        n, n_nuis = self.pool_size, len(self.nuisance_names)
        z_a = np.concatenate([self._draw_causal(rng, n), rng.normal(size=(n, n_nuis))], axis=1)
        z_b = np.concatenate([self._draw_causal(rng, n), rng.normal(size=(n, n_nuis))], axis=1)
        z_prompt = rng.normal(size=(n, self.n_prompt_factors))
        margin = self.true_reward(z_a) - self.true_reward(z_b)
        label = self._labels(margin, rng)
        return FactorPool(world=self, z_a=z_a, z_b=z_b, z_prompt=z_prompt, true_margin=margin, label=label)

    def probe_pairs(self, d1: np.ndarray, d2: np.ndarray, contexts: int = 32, seed: int = 0) -> PairSet:
        """Pairs whose causal factors differ by exactly (d1[i], d2[i]), each in `contexts` random
        contexts (the other factors, the prompt, the baseline response): rows i*contexts + j.

        Used to draw a model's decision boundary over the (d1, d2) plane. Probe responses get
        noise ids far beyond any pool's, so they never share noise with pool pairs.
        """
        d = np.repeat(np.column_stack([d1, d2]).astype(np.float64), contexts, axis=0)
        rng = np.random.default_rng([self.seed, 2, seed])
        n, n_nuis = d.shape[0], len(self.nuisance_names)
        z_b = np.concatenate([self._draw_causal(rng, n), rng.normal(size=(n, n_nuis))], axis=1)
        z_a = np.concatenate([z_b[:, :2] + d, rng.normal(size=(n, n_nuis))], axis=1)
        z_prompt = rng.normal(size=(n, self.n_prompt_factors))
        ids = np.uint64(2**40) + 2 * np.arange(n, dtype=np.uint64)
        margin = self.true_reward(z_a) - self.true_reward(z_b)
        return PairSet(
            emb_a=self.embed(z_a, z_prompt, ids),
            emb_b=self.embed(z_b, z_prompt, ids + np.uint64(1)),
            label=(margin > 0).astype(np.float32),
            factor_diffs=z_a - z_b,
            factor_names=self.all_factor_names,
            true_margin=margin,
            name="probe",
        )

    def isolated_pairs(self, n: int, seed: int, share: float = 0.5) -> PairSet:
        """n pairs that differ in exactly one causal factor: the same prompt and nuisance factors
        on both sides, one causal factor redrawn to a different value. round(n * share) change
        the first factor, the rest the second. This is the intervention a generator allows and
        data collection does not. Noise ids lie beyond any pool's and the probe's, per seed."""
        n_first = int(round(n * share))
        rng = np.random.default_rng([self.seed, 3, seed])
        n_nuis = len(self.nuisance_names)
        z_b = np.concatenate([self._draw_causal(rng, n), rng.normal(size=(n, n_nuis))], axis=1)
        changed = np.where(np.arange(n) < n_first, 0, 1)
        rng.shuffle(changed)
        z_a = z_b.copy()
        rows = np.arange(n)
        new = self._draw_causal(rng, n)[rows, changed]
        same = new == z_b[rows, changed]
        while same.any():  # a discrete scale may redraw the same value: draw again until it differs
            new[same] = self._draw_causal(rng, int(same.sum()))[:, 0]
            same = new == z_b[rows, changed]
        z_a[rows, changed] = new
        z_prompt = rng.normal(size=(n, self.n_prompt_factors))
        ids = np.uint64(2**44) + np.uint64(seed % 2**32) * np.uint64(2**21) + 2 * np.arange(n, dtype=np.uint64)
        margin = self.true_reward(z_a) - self.true_reward(z_b)
        return PairSet(
            emb_a=self.embed(z_a, z_prompt, ids),
            emb_b=self.embed(z_b, z_prompt, ids + np.uint64(1)),
            label=self._labels(margin, rng),
            factor_diffs=z_a - z_b,
            factor_names=self.all_factor_names,
            true_margin=margin,
            name="isolated",
        )

    def _labels(self, margin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return labels_from_margin(margin, rng.random(margin.shape[0]), self.label_mode, self.temperature)


@dataclass(frozen=True)
class FactorPool:
    """Candidate pairs of a CorrelatedFactorsWorld, embedded only when drawn."""

    world: CorrelatedFactorsWorld
    z_a: np.ndarray  # (N, k) response factors of side a (causal first)
    z_b: np.ndarray  # (N, k)
    z_prompt: np.ndarray  # (N, p) prompt factors, shared by a and b
    true_margin: np.ndarray  # (N,) r*(a) - r*(b)
    label: np.ndarray  # (N,) 1.0 when a is preferred
    group = None  # capabilities it lacks (see data/worlds/__init__.py)
    prompt_type = None
    objective = None

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def factor_names(self) -> tuple[str, ...]:
        return self.world.all_factor_names

    def diffs(self, name: str) -> np.ndarray:
        """z(a) - z(b) for one named factor over the whole pool."""
        if name not in self.factor_names:
            raise CausalPrefError(f"unknown factor {name!r}; this world has {list(self.factor_names)}")
        j = self.factor_names.index(name)
        return self.z_a[:, j] - self.z_b[:, j]

    @cached_property
    def _embedded(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The whole pool embedded once, when it fits in EAGER_EMBEDDING_BYTES: a sweep of many
        cells then indexes rows instead of embedding the same responses again and again."""
        if 2 * len(self) * self.world.dim * 4 > EAGER_EMBEDDING_BYTES:
            return None
        rows = np.arange(len(self))
        return (
            self.world.embed(self.z_a, self.z_prompt, 2 * rows),
            self.world.embed(self.z_b, self.z_prompt, 2 * rows + 1),
        )

    def _embeddings(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._embedded is not None:
            return self._embedded[0][indices], self._embedded[1][indices]
        world = self.world
        return (
            world.embed(self.z_a[indices], self.z_prompt[indices], 2 * indices),
            world.embed(self.z_b[indices], self.z_prompt[indices], 2 * indices + 1),
        )

    def pairs(self, indices: np.ndarray, name: str = "pairs") -> PairSet:
        """Embed the pairs at `indices` (response ids 2i and 2i+1 fix their noise)."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise CausalPrefError(f"pair indices must be in [0, {len(self)}), got {indices.min()}..{indices.max()}")
        emb_a, emb_b = self._embeddings(indices)
        return PairSet(
            emb_a=emb_a,
            emb_b=emb_b,
            label=self.label[indices],
            factor_diffs=(self.z_a[indices] - self.z_b[indices]),
            factor_names=self.factor_names,
            true_margin=self.true_margin[indices],
            name=name,
        )


def random_mixing(rng: np.random.Generator, k: int, dim: int, hidden: int) -> dict[str, np.ndarray]:
    """Weights of a fixed non-linear map from k latents to dim: a linear part plus a tanh layer."""
    return {
        "linear": rng.normal(0, 1 / np.sqrt(k), (k, dim)),
        "w1": rng.normal(0, 1.5 / np.sqrt(k), (k, hidden)),
        "b1": rng.normal(0, 0.5, hidden),
        "w2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, dim)),
    }


def apply_mixing(u: np.ndarray, m: dict[str, np.ndarray]) -> np.ndarray:
    return u @ m["linear"] + np.tanh(u @ m["w1"] + m["b1"]) @ m["w2"]


def labels_from_margin(margin: np.ndarray, coin: np.ndarray, mode: str, temperature: float) -> np.ndarray:
    """1.0 when a is preferred. argmax: the higher true reward wins, exact ties (common on
    discrete scales) by a fair coin; btl: P(a wins) = sigmoid(margin / temperature)."""
    if mode == "btl":
        return (coin < 1.0 / (1.0 + np.exp(-margin / temperature))).astype(np.float32)
    return np.where(margin > 0, 1.0, np.where(margin < 0, 0.0, (coin < 0.5) * 1.0)).astype(np.float32)


def require(ok: bool, message: str) -> None:
    if not ok:
        raise CausalPrefError(message)


@functools.lru_cache(maxsize=4)
def _shared_pool(world):
    """Worlds are frozen and hashable, and a pool is a pure function of its world."""
    return world.build_pool()
