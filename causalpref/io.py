"""Writing results without ever leaving a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from .errors import CausalPrefError


def check_output_path(path: str | os.PathLike) -> Path:
    """Refuse an unusable output path up front, before any long computation."""
    path = Path(path)
    if path.is_dir():
        raise CausalPrefError(f"--out {path}: is a directory, expected a file name such as results.csv")
    if not path.parent.exists():
        raise CausalPrefError(f"--out {path}: folder {path.parent} does not exist")
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write to a temporary file beside `path`, then rename over it in one step."""
    path = check_output_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            frame.to_csv(handle, index=False, float_format="%.10g")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
