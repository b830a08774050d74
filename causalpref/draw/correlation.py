"""Draw sets of preference pairs whose two factor differences have a chosen correlation.

Experiment 1 of Kobalczyk & van der Schaar (ICML 2025) trains reward models on sets of
pairs in which the factor differences d1 = z1 - z1' and d2 = z2 - z2' have Pearson
correlation rho, then tests them out of distribution on pairs where the factors disagree
(d1 * d2 < 0, quadrants 2 and 4). This module draws such sets from a fixed pool of
candidate pairs, without replacement, for continuous factors and for discrete ones
(Likert differences in -4..4, binary differences in {-1, 0, 1} with many exact ties).

Algorithm (`sample_with_target_rho`), numpy only, every random draw from `seed`:

1. Gaussian-copula tilt. d1 and d2 are turned into normal scores s1, s2 by mid-ranks over
   the available pool (ties get equal scores). Pair i gets the density ratio of a bivariate
   normal with correlation theta to the independent one,
       log w_i(theta) = -(theta^2 (s1^2 + s2^2) - 2 theta s1 s2) / (2 (1 - theta^2)),
   and n pairs are drawn without replacement with probabilities proportional to w by
   Gumbel-top-k: keys = log w + Gumbel noise, the n largest keys win. The noise is drawn
   once, so the drawn set (and its achieved rho) moves almost monotonically with theta;
   theta = 0 is a uniform random draw. For discrete factors the noise is what lets the
   number of pairs drawn from each (d1, d2) cell vary smoothly with theta.
2. Search on t = atanh(theta): scan outward from t = 0 (0.25, 0.5, ..., 5) until the
   Pearson correlation of the raw (d1, d2) over the drawn set crosses the target, then
   bisect between the last two t values until it is within tol/4. (The ends of the t range
   are no safe bracket: far out, a discrete pool can collapse onto one (d1, d2) cell, where
   one factor is constant and r = 0 by convention.)
3. If that does not get within tol (discreteness, small n), a swap refinement exchanges
   selected and unselected pairs, using running sums (n, S1, S2, S11, S22, S12) so that
   the correlation after any swap costs O(1). A batch step pairs the selected pairs that
   pull rho away from the target (ranked by their influence on Pearson's r) with the
   unselected ones that pull it towards the target and applies the best prefix of that
   ordered list of swaps, evaluated exactly with cumulative sums; a fine step evaluates
   ~30,000 single swaps exactly (random candidates, the most influential ones and, for
   discrete pools, one pair of every (d1, d2) cell) and applies the best one. Sets in
   which a factor is constant are never aimed for: a single swap sends their r to +-1.
4. Last resort: walk from the current set to the extreme set beyond the target (see
   below), swapping its pairs in one at a time in a random order; rho goes from one side
   of the target to the other in steps of O(1/n), so some prefix lands near it, and the
   refinement finishes. Up to six walks (alternately from the current set and from the
   low extreme set), each in a fresh random order.

Feasible range (`feasible_rho_range`). The low and high ends are the correlations of two
deterministic extreme sets: the top n pairs of the noise-free tilt at theta = -/+0.9999,
then pushed further down / up by swap steps while they gain at least 1e-4. Both sets are
valid draws and step 4 can walk to them, so the sampler delivers every target in
[lo - tol, hi + tol] (a target outside it raises a CausalPrefError that states the range),
provided neighbouring sets differ by at most ~2 tol in r. That holds for pools and draws
of realistic size; with a small n (tens) or a discrete pool in which some (d1, d2) cells
hold only a handful of pairs, the attainable correlations can have gaps wider than 2 tol
(e.g. r = -1 from two distinct points, and nothing between -1 and -0.8), and then
`sample_with_target_rho` raises a CausalPrefError naming the closest correlation found.
Correlations beyond the range may be reachable with some seeds but are refused, so that
feasibility does not depend on the seed.

`draw_correlation_splits` draws train, val and id in turn (each from what is left) at the
same target, with seeds derived by `np.random.SeedSequence(seed).spawn(4)`, and then ood
uniformly from the remaining pairs with d1 * d2 < 0.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from causalpref import validate
from causalpref.errors import CausalPrefError
from causalpref.stats import pearson

__all__ = [
    "CorrelationSplits",
    "RhoDraw",
    "draw_correlation_splits",
    "feasible_rho_range",
    "pearson",
    "sample_with_target_rho",
]

SPLIT_NAMES = ("train", "val", "id", "ood")

_T_MAX = 5.0  # theta = tanh(t), t in [-5, 5]: |theta| <= 0.99991
_T_SCAN = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, _T_MAX)  # outward scan of |t|
_BISECT_ITERS = 40
_REFINE_ITERS = 60
_WALK_TRIES = 6
_GRID_K = 160  # random candidates per side in a fine swap step
_EXTREME_ITERS = 50
_EXTREME_GAIN = 1e-4  # keep pushing an extreme set while a step gains this much rho
_ACCEPT_SLACK = 1e-9  # float slack when comparing |achieved - target| with tol


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True, eq=False)
class RhoDraw:
    indices: np.ndarray  # int64 indices into the pool, sorted ascending
    achieved_rho: float  # Pearson corr of (d1, d2) over the drawn pairs
    target_rho: float


@dataclass(frozen=True, eq=False)
class CorrelationSplits:
    indices: dict[str, np.ndarray]  # keys 'train', 'val', 'id', 'ood'; pairwise disjoint
    achieved_rho: dict[str, float]  # per split
    target_rho: float


def feasible_rho_range(d1, d2, n, available=None) -> tuple[float, float]:
    """The (lo, hi) correlations `sample_with_target_rho` can deliver for draws of size n.

    Both ends are achieved by actual deterministic sets of n available pairs, and
    `sample_with_target_rho` delivers every target in [lo - tol, hi + tol] within tol,
    except where a tiny n or near-empty (d1, d2) cells leave gaps in the attainable
    correlations (see the module docstring). Depends only on the inputs (no seed).
    """
    d1, d2 = _check_pool(d1, d2)
    mask = _check_available(available, d1.size)
    n = _check_n(n, int(mask.sum()))
    pool = _Pool.build(d1, d2, mask)
    lo, hi = pool.extremes(n)
    return lo.rho, hi.rho


def sample_with_target_rho(d1, d2, n, target_rho, seed, available=None, tol=0.02) -> RhoDraw:
    """Draw n distinct available pairs whose corr(d1, d2) is within tol of target_rho.

    `available` is a boolean mask over the pool (None: every pair). `seed` is a
    non-negative int or a `np.random.SeedSequence`; the same inputs and seed give the same
    draw. Raises CausalPrefError for bad inputs and when the target lies outside the
    feasible range (see `feasible_rho_range`) widened by tol.
    """
    d1, d2 = _check_pool(d1, d2)
    mask = _check_available(available, d1.size)
    n = _check_n(n, int(mask.sum()))
    target = _check_rho(target_rho)
    tol = _check_tol(tol)
    seed = _check_seed(seed)
    pool = _Pool.build(d1, d2, mask)
    indices = _sample(pool, n, target, tol, np.random.default_rng(seed))
    achieved = pearson(d1[indices], d2[indices])
    return RhoDraw(indices=_frozen(indices), achieved_rho=achieved, target_rho=target)


def draw_correlation_splits(d1, d2, sizes: Mapping[str, int], target_rho, seed, tol=0.02) -> CorrelationSplits:
    """Disjoint train/val/id/ood splits; train, val and id have corr(d1, d2) ~ target_rho.

    train, val and id are drawn in that order, each from the pairs not yet used, with
    `sample_with_target_rho` at the same target and tol; ood is drawn uniformly at random
    from the remaining pairs with d1 * d2 < 0 (strictly). Each split has its own seed,
    derived from `seed` by `np.random.SeedSequence(seed).spawn(4)`.
    """
    d1, d2 = _check_pool(d1, d2)
    sizes = _check_sizes(sizes, d1.size)
    target = _check_rho(target_rho)
    tol = _check_tol(tol)
    seed = _check_seed(seed)
    discordant = d1 * d2 < 0
    if int(discordant.sum()) < sizes["ood"]:
        raise CausalPrefError(
            f"split 'ood': cannot draw n={sizes['ood']} pairs with d1*d2 < 0: the pool has only {int(discordant.sum())}"
        )
    seeds = dict(zip(SPLIT_NAMES, np.random.SeedSequence(seed).spawn(len(SPLIT_NAMES))))
    left = np.ones(d1.size, dtype=bool)
    indices: dict[str, np.ndarray] = {}
    achieved: dict[str, float] = {}
    for name in ("train", "val", "id"):
        try:
            draw = sample_with_target_rho(d1, d2, sizes[name], target, seeds[name], available=left, tol=tol)
        except CausalPrefError as err:
            raise CausalPrefError(f"split {name!r}: {err}") from err
        indices[name] = draw.indices
        achieved[name] = draw.achieved_rho
        left[draw.indices] = False
    candidates = np.flatnonzero(left & discordant)
    if candidates.size < sizes["ood"]:
        raise CausalPrefError(
            f"split 'ood': cannot draw n={sizes['ood']} pairs with d1*d2 < 0: only "
            f"{candidates.size} remain after drawing train, val and id"
        )
    rng = np.random.default_rng(seeds["ood"])
    ood = np.sort(rng.choice(candidates, size=sizes["ood"], replace=False)).astype(np.int64)
    indices["ood"] = _frozen(ood)
    achieved["ood"] = pearson(d1[ood], d2[ood])
    return CorrelationSplits(indices=indices, achieved_rho=achieved, target_rho=target)


# --------------------------------------------------------------------------- validation


def _check_pool(d1, d2):
    arrays = []
    for name, value in (("d1", d1), ("d2", d2)):
        try:
            array = np.asarray(value)
        except Exception as err:  # ragged nested sequences and the like
            raise CausalPrefError(f"{name} must be a 1-D numeric array: {err}") from None
        if array.dtype == bool or not (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        ):
            raise CausalPrefError(f"{name} must be a 1-D array of real numbers, got dtype {array.dtype}")
        arrays.append(array)
    a1, a2 = arrays
    if a1.ndim != 1 or a2.ndim != 1 or a1.shape != a2.shape:
        raise CausalPrefError(f"d1 and d2 must be 1-D arrays of equal length, got shapes {a1.shape} and {a2.shape}")
    if a1.size == 0:
        raise CausalPrefError("empty pool: d1 and d2 have no pairs")
    out = []
    for name, array in (("d1", a1), ("d2", a2)):
        array = array.astype(np.float64)
        bad = ~np.isfinite(array)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "NaN" if np.isnan(array[i]) else "inf"
            raise CausalPrefError(f"{name} contains {what} at index {i}")
        out.append(array)
    return out[0], out[1]


def _check_available(available, size):
    if available is None:
        return np.ones(size, dtype=bool)
    mask = np.asarray(available)
    if mask.dtype != bool:
        raise CausalPrefError(f"available must be a boolean mask (or None), got dtype {mask.dtype}")
    if mask.shape != (size,):
        raise CausalPrefError(f"available must be a boolean mask of shape ({size},), got shape {mask.shape}")
    if not mask.any():
        raise CausalPrefError("no pairs are available: the available mask is all False")
    return mask.copy()


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_n(n, n_available):
    if not _is_int(n) or n <= 0:
        raise CausalPrefError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    if n > n_available:
        raise CausalPrefError(f"cannot draw n={n} pairs: only {n_available} are available")
    return n


def _check_rho(rho):
    return validate.correlation(rho, "target_rho")


def _check_tol(tol):
    if (
        not isinstance(tol, numbers.Real)
        or isinstance(tol, (bool, np.bool_))
        or not math.isfinite(float(tol))
        or not 0.0 < float(tol) <= 2.0
    ):
        raise CausalPrefError(f"tol must be a number in (0, 2], got {tol!r}")
    return float(tol)


def _check_seed(seed):
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if not _is_int(seed) or seed < 0:
        raise CausalPrefError(f"seed must be a non-negative integer or a numpy SeedSequence, got {seed!r}")
    return int(seed)


def _check_sizes(sizes, pool_size):
    if not isinstance(sizes, Mapping):
        raise CausalPrefError(f"sizes must be a dict with keys {list(SPLIT_NAMES)}, got {type(sizes).__name__}")
    missing = [k for k in SPLIT_NAMES if k not in sizes]
    unknown = [k for k in sizes if k not in SPLIT_NAMES]
    if missing or unknown:
        raise CausalPrefError(
            f"sizes must have exactly the keys {list(SPLIT_NAMES)}; missing {missing}, unknown {unknown}"
        )
    out = {}
    for name in SPLIT_NAMES:
        value = sizes[name]
        if not _is_int(value) or value <= 0:
            raise CausalPrefError(f"sizes[{name!r}] must be a positive integer, got {value!r}")
        out[name] = int(value)
    total = sum(out.values())
    if total > pool_size:
        raise CausalPrefError(f"sizes add up to {total} pairs but the pool has only {pool_size}")
    return out


def _frozen(indices):
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    indices.setflags(write=False)
    return indices


# --------------------------------------------------------------------------- internals


def _ndtri(p):
    """Inverse standard normal CDF (Acklam's rational approximation, rel. error < 1.2e-9)."""
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )
    for region, sign, tail in ((low, 1.0, p[low]), (high, -1.0, 1 - p[high])):
        q = np.sqrt(-2 * np.log(tail))
        out[region] = sign * (
            (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        )
    return out


def _normal_scores(x):
    """Normal scores of mid-ranks, ppf((rank - 0.5) / N), tied values sharing one score.

    Also returns each value's group number (0 .. groups-1) and the number of groups.
    """
    size = x.size
    if size and np.all(x == np.round(x)) and x.max() - x.min() <= 4096:
        return _integer_normal_scores(x)
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], size]
    mid_rank = (starts + 1 + ends) / 2.0  # mean of 1-based ranks start+1..end
    scores = np.empty(size)
    scores[order] = np.repeat(_ndtri((mid_rank - 0.5) / size), ends - starts)
    group = np.empty(size, dtype=np.int64)
    group[order] = np.repeat(np.arange(starts.size), ends - starts)
    return scores, group, starts.size


def _integer_normal_scores(x):
    """_normal_scores for integer values in a small range: counting instead of sorting
    (Likert and binary differences), with the same scores and group numbers."""
    codes = (x - x.min()).astype(np.int64)
    counts = np.bincount(codes)
    present = np.flatnonzero(counts)
    ends = np.cumsum(counts[present])
    starts = ends - counts[present]
    score_of = np.zeros(counts.size)
    score_of[present] = _ndtri(((starts + 1 + ends) / 2.0 - 0.5) / x.size)
    group_of = np.zeros(counts.size, dtype=np.int64)
    group_of[present] = np.arange(present.size)
    return score_of[codes], group_of[codes], present.size


def _rho_from_sums(k, s1, s2, s11, s22, s12):
    """Pearson r from running sums (vectorised); NaN where a factor is (numerically) constant.

    Such "flat" sets have r = 0 by `pearson`'s convention, but the searches below must not
    aim for them: a single swap moves their r to +-1, so they are traps.
    """
    vx = k * s11 - s1 * s1
    vy = k * s22 - s2 * s2
    ok = (vx > 1e-10 * k * s11) & (vy > 1e-10 * k * s22)
    den = np.sqrt(np.where(ok, vx * vy, 1.0))
    r = np.where(ok, (k * s12 - s1 * s2) / den, np.nan)
    return np.clip(r, -1.0, 1.0)


def _prefix_rho(sums, x_in, y_in, x_out, y_out):
    """r after each prefix of the swaps (out[j] -> in[j]), j = 0 .. len-1 (vectorised)."""
    k, s1, s2, s11, s22, s12 = sums
    return _rho_from_sums(
        k,
        s1 + np.cumsum(x_in - x_out),
        s2 + np.cumsum(y_in - y_out),
        s11 + np.cumsum(x_in * x_in - x_out * x_out),
        s22 + np.cumsum(y_in * y_in - y_out * y_out),
        s12 + np.cumsum(x_in * y_in - x_out * y_out),
    )


class _Set:
    """A candidate draw: boolean mask over the available pool plus its running sums."""

    __slots__ = ("mask", "sums", "rho", "flat")

    def __init__(self, pool, selected):
        self.mask = np.zeros(pool.size, dtype=bool)
        self.mask[selected] = True
        x, y = pool.x[selected], pool.y[selected]
        self.sums = np.array([x.size, x.sum(), y.sum(), x @ x, y @ y, x @ y], dtype=np.float64)
        self._update()

    def copy(self):
        other = object.__new__(_Set)
        other.mask, other.sums, other.rho, other.flat = (self.mask.copy(), self.sums.copy(), self.rho, self.flat)
        return other

    def _update(self):
        rho = float(_rho_from_sums(*self.sums))
        self.flat = math.isnan(rho)  # one factor constant over the set: r = 0
        self.rho = 0.0 if self.flat else rho

    def swap(self, pool, out, inn):
        """Swap the selected local indices `out` for the unselected `inn` (equal lengths)."""
        self.mask[out] = False
        self.mask[inn] = True
        x, y = pool.x, pool.y
        xi, yi, xo, yo = x[inn], y[inn], x[out], y[out]
        self.sums += np.array(
            [0.0, xi.sum() - xo.sum(), yi.sum() - yo.sum(), xi @ xi - xo @ xo, yi @ yi - yo @ yo, xi @ yi - xo @ yo]
        )
        self._update()


class _Pool:
    """The available pairs (local indices 0..size-1), centred, with their normal scores."""

    def __init__(self, idx, raw_x, raw_y, x, y, a, b, cell):
        self.idx, self.raw_x, self.raw_y = idx, raw_x, raw_y
        self.x, self.y, self.a, self.b, self.cell = x, y, a, b, cell
        self.size = idx.size
        self.sdx = float(x.std()) or 1.0
        self.sdy = float(y.std()) or 1.0

    @classmethod
    def build(cls, d1, d2, mask):
        idx = np.flatnonzero(mask)
        raw_x, raw_y = d1[idx], d2[idx]
        # Centre for numerically stable running sums; integer data stays integer (exact sums).
        x = raw_x - cls._shift(raw_x)
        y = raw_y - cls._shift(raw_y)
        s1, g1, n1 = _normal_scores(x)
        s2, g2, n2 = _normal_scores(y)
        # Discrete pools: pairs in the same (d1, d2) cell are interchangeable, so swap
        # searches can try one representative of every cell.
        cell = g1 * n2 + g2 if n1 * n2 <= 1024 else None
        return cls(idx, raw_x, raw_y, x, y, s1 * s1 + s2 * s2, s1 * s2, cell)

    @staticmethod
    def _shift(v):
        mean = float(v.mean())
        return float(round(mean)) if np.all(v == np.round(v)) else mean

    def exact_rho(self, s):
        """Two-pass Pearson r on the raw values, in pool order (what callers will see)."""
        return pearson(self.raw_x[s.mask], self.raw_y[s.mask])

    def log_weight(self, theta, noise=None):
        """log w(theta) = -(theta^2 a - 2 theta b) / (2 (1 - theta^2)), plus `noise`."""
        denom = 2.0 * (1.0 - theta * theta)
        keys = self.a * (-theta * theta / denom)
        keys += self.b * (2.0 * theta / denom)
        if noise is not None:
            keys += noise
        return keys

    def top(self, keys, n):
        if n == self.size:
            return _Set(self, np.arange(self.size))
        return _Set(self, np.argpartition(keys, self.size - n)[self.size - n :])

    def influence(self, s):
        """Approximate change in r (times k) from adding each pair to the set."""
        k, s1, s2, s11, s22 = s.sums[:5]
        mx, my = s1 / k, s2 / k
        vx, vy = s11 / k - mx * mx, s22 / k - my * my
        sx = math.sqrt(vx) if vx > 1e-10 * s11 / k else self.sdx
        sy = math.sqrt(vy) if vy > 1e-10 * s22 / k else self.sdy
        u, v = (self.x - mx) / sx, (self.y - my) / sy
        return u * v - s.rho * 0.5 * (u * u + v * v)

    # ---- swap moves

    @staticmethod
    def _score(r, target, direction):
        """Objective to minimise: |r - target|, or -direction * r when pushing an extreme;
        +inf for flat sets (r is NaN)."""
        score = -direction * r if target is None else np.abs(r - target)
        return np.where(np.isnan(score), np.inf, score)

    def batch_step(self, s, target=None, direction=0.0):
        """Apply the best prefix of influence-ordered swaps.

        With `target`, minimise |rho - target|; with `direction` = +1/-1 (and no target),
        maximise / minimise rho. Returns True when the set changed.
        """
        sgn = direction if target is None else (1.0 if target > s.rho else -1.0)
        sel, uns = np.flatnonzero(s.mask), np.flatnonzero(~s.mask)
        length = min(sel.size, uns.size)
        if length == 0:
            return False
        gain = sgn * self.influence(s)
        out = _smallest_first(sel, gain[sel], length)  # pairs pulling the wrong way
        inn = _smallest_first(uns, -gain[uns], length)  # pairs pulling the right way
        x, y = self.x, self.y
        r = _prefix_rho(s.sums, x[inn], y[inn], x[out], y[out])
        score = self._score(r, target, direction)
        j = int(np.argmin(score))
        if score[j] >= self._current_score(s, target, direction) - 1e-12:
            return False
        s.swap(self, out[: j + 1], inn[: j + 1])
        return True

    def _current_score(self, s, target, direction):
        return np.inf if s.flat else float(self._score(s.rho, target, direction))

    def _candidates(self, side, gain, rng):
        """Some members of `side` to try in single swaps: random ones, the 16 with the
        smallest `gain`, and (discrete pools) one of every (d1, d2) cell present."""
        parts = [side[rng.integers(0, side.size, _GRID_K)], _smallest_first(side, gain[side], min(16, side.size))]
        if self.cell is not None:
            parts.append(side[np.unique(self.cell[side], return_index=True)[1]])
        return np.unique(np.concatenate(parts))

    def grid_step(self, s, rng, target=None, direction=0.0):
        """Evaluate many single swaps exactly and apply the best one (see batch_step)."""
        sel, uns = np.flatnonzero(s.mask), np.flatnonzero(~s.mask)
        if sel.size == 0 or uns.size == 0:
            return False
        sgn = direction if target is None else (1.0 if target > s.rho else -1.0)
        gain = sgn * self.influence(s)
        cand_out = self._candidates(sel, gain, rng)
        cand_in = self._candidates(uns, -gain, rng)
        x, y = self.x, self.y
        xo, yo = x[cand_out][:, None], y[cand_out][:, None]
        xi, yi = x[cand_in][None, :], y[cand_in][None, :]
        k, s1, s2, s11, s22, s12 = s.sums
        r = _rho_from_sums(
            k, s1 - xo + xi, s2 - yo + yi, s11 - xo * xo + xi * xi, s22 - yo * yo + yi * yi, s12 - xo * yo + xi * yi
        )
        score = self._score(r, target, direction)
        best = int(np.argmin(score))
        if score.flat[best] >= self._current_score(s, target, direction) - 1e-12:
            return False
        o, i = np.unravel_index(best, r.shape)
        s.swap(self, cand_out[[o]], cand_in[[i]])
        return True

    def refine(self, s, target, goal, rng):
        """Swap pairs until |rho - target| <= goal or no swap helps (bounded)."""
        misses = 0
        for _ in range(_REFINE_ITERS):
            if abs(s.rho - target) <= goal:
                return
            moved = self.batch_step(s, target=target)
            if abs(s.rho - target) > goal:
                moved = self.grid_step(s, rng, target=target) or moved
            misses = 0 if moved else misses + 1
            if misses >= 3:
                return

    def walk(self, s, extreme, target, rng):
        """Swap the pairs of `extreme` into `s` in random order; stop nearest the target."""
        out = rng.permutation(np.flatnonzero(s.mask & ~extreme.mask))
        inn = rng.permutation(np.flatnonzero(extreme.mask & ~s.mask))
        if out.size == 0:
            return
        r = _prefix_rho(s.sums, self.x[inn], self.y[inn], self.x[out], self.y[out])
        score = self._score(r, target, 0.0)
        j = int(np.argmin(score))
        if score[j] < self._current_score(s, target, 0.0):
            s.swap(self, out[: j + 1], inn[: j + 1])

    # ---- extremes

    def extremes(self, n):
        """Deterministic low and high sets: the noise-free tilt at theta = -/+tanh(5), then
        swap steps pushing rho further while they gain at least _EXTREME_GAIN."""
        ends = []
        for direction in (-1.0, 1.0):
            rng = np.random.default_rng(0)  # fixed: the range must not depend on a seed
            s = self.top(self.log_weight(direction * math.tanh(_T_MAX)), n)
            for _ in range(_EXTREME_ITERS):
                before = s.rho
                self.batch_step(s, direction=direction)
                if direction * (s.rho - before) >= _EXTREME_GAIN:
                    continue
                self.grid_step(s, rng, direction=direction)
                if direction * (s.rho - before) < _EXTREME_GAIN:
                    break
            s.rho = self.exact_rho(s)  # report the exact r of the actual set
            ends.append(s)
        lo, hi = ends
        if lo.rho > hi.rho:  # should not happen; keep the (low, high) order regardless
            lo, hi = hi, lo
        return lo, hi


def _smallest_first(indices, values, length):
    """The `length` entries of `indices` with the smallest `values`, in increasing order."""
    if length < indices.size:
        part = np.argpartition(values, length - 1)[:length]
    else:
        part = np.arange(indices.size)
    return indices[part[np.argsort(values[part], kind="stable")]]


def _sample(pool, n, target, tol, rng):
    """Global, sorted indices of a draw within tol of target (see the module docstring)."""
    # The extreme sets are costly; the noise-free tilts at theta = -/+tanh(5) are where they
    # start, so a target between those two is feasible without computing them (they are
    # computed later only if the walk of step 4 needs them).
    quick_lo, quick_hi = (pool.exact_rho(pool.top(pool.log_weight(d * math.tanh(_T_MAX)), n)) for d in (-1.0, 1.0))
    ends = None
    if not quick_lo <= target <= quick_hi:
        ends = pool.extremes(n)
        lo, hi = ends
        if not lo.rho - tol <= target <= hi.rho + tol:
            raise CausalPrefError(
                f"target rho {target:g} is infeasible for this pool with n={n}: feasible range "
                f"is [{lo.rho:.3f}, {hi.rho:.3f}] (tol {tol:g})"
            )
    gumbel = rng.gumbel(size=pool.size)

    def draw(t):
        return pool.top(pool.log_weight(math.tanh(t), gumbel), n)

    def key(s):
        # Prefer sets in which both factors vary: a set with a constant factor has r = 0 by
        # convention, but jumps to |r| = 1 after a single swap, so it is a poor start.
        return (s.flat, abs(s.rho - target))

    def close(s, within):
        return not s.flat and abs(s.rho - target) <= within

    # 1-2. Gumbel-top-k tilt. Walk outward from t = 0 (a uniform draw) towards the target
    # until r crosses it, then bisect on t. (Far out, discrete pools can collapse onto a
    # single cell and r drops back to 0, so the ends of the t range are not a safe bracket.)
    best = s = draw(0.0)
    if not close(s, tol / 4):
        direction = 1.0 if target > s.rho else -1.0
        t_near, t_far = 0.0, None
        for t_abs in _T_SCAN:
            s = draw(direction * t_abs)
            best = min(best, s, key=key)
            if direction * (s.rho - target) >= 0 and not s.flat:
                t_far = direction * t_abs
                break
            t_near = direction * t_abs
        if t_far is not None:
            for _ in range(_BISECT_ITERS):
                if close(best, tol / 4) or abs(t_far - t_near) < 1e-9:
                    break
                t_mid = 0.5 * (t_near + t_far)
                s = draw(t_mid)
                best = min(best, s, key=key)
                if direction * (s.rho - target) < 0:
                    t_near = t_mid
                else:
                    t_far = t_mid
    s = best
    # 3. Swap refinement.
    if not close(s, tol - _ACCEPT_SLACK):
        pool.refine(s, target, tol / 2, rng)
    # 4. Walk towards the extreme set beyond the target, then refine again. Each walk takes
    # a fresh random order, so the tries end in different sets; every other try walks
    # between the two extreme sets instead (rho goes from lo to hi, crossing the target).
    start = s
    for attempt in range(_WALK_TRIES):
        if close(s, tol - _ACCEPT_SLACK):
            break
        if ends is None:
            ends = pool.extremes(n)
        lo, hi = ends
        s = (start if attempt % 2 == 0 else lo).copy()
        pool.walk(s, hi if s.rho < target else lo, target, rng)
        pool.refine(s, target, tol / 2, rng)
        best = min(best, s, key=key)
    s = best if not close(s, tol - _ACCEPT_SLACK) else s
    indices = np.sort(pool.idx[s.mask])
    achieved = pool.exact_rho(s)
    if abs(achieved - target) > tol + _ACCEPT_SLACK:
        raise CausalPrefError(
            f"could not draw n={n} pairs with rho within tol={tol:g} of target rho {target:g}: "
            f"the closest found is {achieved:.4f}; the correlations this pool can give are too "
            f"coarse near the target (small n, or few pairs in some (d1, d2) cells); "
            f"try another target or a larger tolerance (--tol)"
        )
    return indices
