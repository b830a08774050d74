"""How the pages, lessons and readings write numbers: one place for each format."""

from __future__ import annotations

import math


def percent(value: float | None, scale: float = 100.0, missing: str = "—") -> str:
    """'12.3%': a share (scale 100) or a value already in percent (scale 1); `missing` for
    None or a non-finite value."""
    if value is None or not math.isfinite(value):
        return missing
    return f"{scale * value:.1f}%" if scale != 1 else f"{value:.1f}%"
