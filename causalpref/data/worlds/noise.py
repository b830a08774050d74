"""Counter-based Gaussian noise: row i's noise depends on (seed, i) only.

A world's pool can hold hundreds of thousands of pairs while only the drawn ones are ever
embedded. Noise drawn from one sequential generator would make a pair's embedding depend
on which other pairs were drawn; hashing (seed, row, column) with splitmix64 gives every
response a fixed embedding however the pool is sliced, at numpy speed.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def _uniform_open(bits: np.ndarray) -> np.ndarray:
    """53 random bits -> float64 in (0, 1]: never 0, so log() is safe."""
    return ((bits >> np.uint64(11)).astype(np.float64) + 1.0) * (1.0 / 9007199254740992.0)


def counter_normal(seed: int, rows: np.ndarray, dim: int) -> np.ndarray:
    """Standard normals of shape (len(rows), dim), a pure function of (seed, row, column).

    Box-Muller turns each hashed pair of uniforms into two normals (cos and sin), so a row
    of `dim` normals costs dim/2 pairs of hashes."""
    rows = np.asarray(rows, dtype=np.uint64).reshape(-1, 1)
    half = (dim + 1) // 2
    cols = np.arange(half, dtype=np.uint64).reshape(1, -1)
    key = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        counter = (rows * np.uint64(2 * half) + np.uint64(2) * cols) ^ key
    radius = np.sqrt(-2.0 * np.log(_uniform_open(_splitmix64(counter))))
    angle = 2.0 * np.pi * _uniform_open(_splitmix64(counter + np.uint64(1)))
    pairs = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
    return pairs.reshape(rows.shape[0], 2 * half)[:, :dim].astype(np.float32)
