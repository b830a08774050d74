"""Splitting by prompt group: whole groups (the pairs of one prompt or question) go to one part."""

from __future__ import annotations

import numpy as np


def group_split(group: np.ndarray, fractions: dict[str, float], seed) -> dict[str, np.ndarray]:
    """Boolean masks over pairs: whole groups assigned to parts in proportion to `fractions`."""
    groups = np.unique(group)
    order = np.random.default_rng(seed).permutation(groups)
    total = sum(fractions.values())
    masks, start = {}, 0
    names = list(fractions)
    for i, name in enumerate(names):
        stop = len(order) if i == len(names) - 1 else start + int(round(len(order) * fractions[name] / total))
        masks[name] = np.isin(group, order[start:stop])
        start = stop
    return masks
