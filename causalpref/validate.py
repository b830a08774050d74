"""Input checks shared by the numeric modules: one message style for one kind of mistake."""

from __future__ import annotations

import numpy as np

from causalpref.errors import CausalPrefError


def vector(value, name: str) -> np.ndarray:
    """`value` as a 1-D float array, or a CausalPrefError naming `name`."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CausalPrefError(f"{name} must be a 1-D array of numbers: {err}") from None
    if array.ndim != 1:
        raise CausalPrefError(f"{name} must be a 1-D array, got shape {array.shape}")
    return array


def finite_vector(value, name: str) -> np.ndarray:
    """A non-empty, finite 1-D float array, or a CausalPrefError naming `name`."""
    array = vector(value, name)
    if array.size == 0:
        raise CausalPrefError(f"{name} is empty: expected at least one value")
    bad = ~np.isfinite(array)
    if bad.any():
        raise CausalPrefError(f"{name} contains NaN or infinity (first at index {int(np.flatnonzero(bad)[0])})")
    return array


def finite_matrix(value, name: str, what: str = "(n, k)") -> np.ndarray:
    """A finite 2-D float array with at least one row and one column, or a CausalPrefError
    naming `name`, the expected shape `what` and the first bad row."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CausalPrefError(f"{name} must be a 2-D {what} array of numbers: {err}") from None
    if array.ndim != 2:
        raise CausalPrefError(f"{name} must be a 2-D {what} array, got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise CausalPrefError(f"{name} is empty (shape {array.shape}): expected at least one row and one column")
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise CausalPrefError(f"{name} contains NaN or infinity (first in row {row})")
    return array


# ---------------------------------------------------------------- scalars: one check per kind of value


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def finite_number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """A finite number within [low, high] (bounds optional, each open or closed), as a float."""
    ok = _is_number(value) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f"a number in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        elif low is not None:
            where = f"a finite number {'>' if open_low else '>='} {low:g}"
        elif high is not None:
            where = f"a finite number {'<' if open_high else '<='} {high:g}"
        else:
            where = "a finite number"
        raise CausalPrefError(f"{name} must be {where}, got {value!r}")
    return float(value)


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise CausalPrefError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise CausalPrefError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def seed(value, name: str = "seed") -> int:
    """A random seed: a whole number >= 0 (numpy's SeedSequence takes no negative entropy)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise CausalPrefError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def correlation(value, name: str = "rho") -> float:
    """A target correlation between the two factor differences: a number in [-1, 1]."""
    return finite_number(value, name, -1.0, 1.0)


def consistency_rate(value, name: str = "consistency rate rho = P(t = c)", low: float = 0.0) -> float:
    """P(prompt type = objective): a number in [low, 1] (Experiment 2's specs take [0.5, 1])."""
    return finite_number(value, name, low, 1.0)
