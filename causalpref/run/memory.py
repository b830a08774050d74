"""Will a sweep fit in memory? Checked before anything is allocated, so that `--dim 200000`
(which once used 16.9 GB before the kernel killed it) ends in one line naming the estimate.

The estimate counts what dominates: the pairs of the cells trained at once (drawn in float64,
held again as float32 tensors) and the stacked models with their gradients and Adam moments.
It is rough on purpose (within a factor of about two); the check refuses only sweeps whose
estimate exceeds what the machine has available.
"""

from __future__ import annotations

from pathlib import Path

from causalpref.errors import CausalPrefError

GB = 2**30
BYTES_PER_VALUE = 8 + 4  # a drawn float64 embedding and its float32 tensor
BYTES_PER_PARAMETER = 4 * 4  # weight, gradient and two Adam moments in float32


def _model_parameters(spec, dim: int) -> int:
    m = spec.model
    return dim * m.hidden + max(0, m.n_layers - 2) * m.hidden**2 + m.hidden * m.latent + 4 * m.latent


def estimate_bytes(spec, dim: int, cells_at_once: int) -> int:
    """Peak bytes of training `cells_at_once` (rho, seed) cells of `spec` at embedding width `dim`."""
    pairs = spec.sizes.total_pairs() * 2 * dim * BYTES_PER_VALUE
    models = _model_parameters(spec, dim) * BYTES_PER_PARAMETER
    return cells_at_once * (pairs + models)


def available_bytes() -> int | None:
    """Memory this process may still use: the smaller of the system's available memory and the
    cgroup's limit minus its usage (a container); None where neither can be read."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(found) if found else None


CHUNK_BYTES = 3 * GB  # run/sweep.py's memory budget for the pairs of the cells trained at once


def cells_at_once(spec, dim: int) -> int:
    cells = len(spec.rhos) * len(spec.seeds)
    return max(1, min(cells, CHUNK_BYTES // max(1, spec.sizes.total_pairs() * 2 * dim * 4)))


def check_sweep_memory(spec, available: int | None = None) -> None:
    """check_memory for a sweep spec, at the width its world embeds to (without embedding)."""
    from causalpref.run.progress import _dim

    dim = _dim(spec.world)
    check_memory(spec, dim, cells_at_once(spec, dim), available)


def check_memory(spec, dim: int, cells_at_once: int, available: int | None = None) -> None:
    """CausalPrefError (one line) when the sweep's estimate exceeds the available memory."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    need = estimate_bytes(spec, dim, cells_at_once)
    if need > available:
        raise CausalPrefError(
            f"this sweep needs about {need / GB:.1f} GB of memory (embedding dimension {dim}, "
            f"{spec.sizes.total_pairs():,} pairs per cell, {cells_at_once} cell(s) at once) and "
            f"{available / GB:.1f} GB is available; use a smaller --dim or fewer pairs (--n-train and the other sizes)"
        )
