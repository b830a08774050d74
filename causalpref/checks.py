"""Input checks shared by the numeric modules: one message style for one kind of mistake."""

from __future__ import annotations

import numpy as np

from .errors import CausalPrefError


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
