"""Where a sweep's chunks train: in this process (`local`, the default) or on Ray (`ray`).

Both backends execute the same chunks of cells (run/sweep.py `run_chunk`, one stack per
architecture) and return the same rows, so a spec gives a byte-identical CSV on either; the
result cache written by one is read by the other. A backend is one entry here: its name, a
line for --help and the page's sidebar, the device type its chunks run on (part of every
cache key) and its `run`.

The choice comes from the command line (`--backend`, `--address`; see cli.py `choose`) or the
environment: CAUSALPREF_BACKEND (local or ray) and CAUSALPREF_RAY_ADDRESS (auto, HOST:PORT or
ray://HOST:PORT; set alone it means ray). No address: ray starts a Ray on this machine (Ray
2.60 binds the machine's network address, with its token authentication on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from causalpref.errors import CausalPrefError

BACKEND_ENV = "CAUSALPREF_BACKEND"
ADDRESS_ENV = "CAUSALPREF_RAY_ADDRESS"


@dataclass(frozen=True)
class Choice:
    """The backend a sweep runs on: its name, the Ray address (None: a local Ray), and whether
    to say where each chunk ran (verbose)."""

    name: str = "local"
    address: str | None = None
    verbose: bool = False


@dataclass(frozen=True)
class Backend:
    name: str
    description: str
    device_type: Callable  # (spec, choice) -> 'cpu' / 'cuda' / 'mps': the device its chunks run on
    run: Callable  # (spec, progress, chunks, choice) -> Sweep


def _local_device_type(spec, choice: Choice) -> str:
    from causalpref.device import resolve_device

    return resolve_device(spec.device).type


def _local_run(spec, progress, chunks, choice: Choice):
    from causalpref.run.sweep import run_sweep

    return run_sweep(spec, progress=progress, chunks=chunks)


def _ray_device_type(spec, choice: Choice) -> str:
    from causalpref.run import ray_backend

    return ray_backend.device_type(spec, choice)


def _ray_run(spec, progress, chunks, choice: Choice):
    from causalpref.run import ray_backend

    return ray_backend.run_sweep_on_ray(spec, progress, chunks, choice)


BACKENDS: dict[str, Backend] = {
    "local": Backend("local", "in this process (default)", _local_device_type, _local_run),
    "ray": Backend(
        "ray", "one Ray task per chunk, on a local Ray or a cluster (--address)", _ray_device_type, _ray_run
    ),
}

_chosen: Choice | None = None


def choose(name: str | None = None, address: str | None = None, verbose: bool = False) -> Choice:
    """Set this process's backend (the CLI's options); None values fall back to the environment."""
    global _chosen
    _chosen = None
    env = current()
    name = name or (env.name if address is None else "ray")
    if name not in BACKENDS:
        raise CausalPrefError(f"--backend must be one of {list(BACKENDS)}, got {name!r}")
    address = address if address is not None else env.address
    if address is not None and name != "ray":
        raise CausalPrefError(f"--address {address} is for --backend ray (the local backend runs in this process)")
    _chosen = Choice(name, address if name == "ray" else None, verbose)
    return _chosen


def reset() -> None:
    """Forget the choice made by `choose`: the environment decides again."""
    global _chosen
    _chosen = None


def current() -> Choice:
    """The chosen backend: `choose`'s, else the environment's, else local."""
    if _chosen is not None:
        return _chosen
    address = os.environ.get(ADDRESS_ENV) or None
    name = os.environ.get(BACKEND_ENV) or ("ray" if address else "local")
    if name not in BACKENDS:
        raise CausalPrefError(f"{BACKEND_ENV} must be one of {list(BACKENDS)}, got {name!r}")
    return Choice(name, address if name == "ray" else None)


def device_type(spec, choice: Choice | None = None) -> str:
    """The device type the chunks of `spec` run on with this backend: part of its cache keys."""
    choice = choice or current()
    return BACKENDS[choice.name].device_type(spec, choice)


def run(spec, progress=None, chunks=None, choice: Choice | None = None):
    """Train the sweep of `spec` on the chosen backend; the Sweep is the local backend's."""
    choice = choice or current()
    return BACKENDS[choice.name].run(spec, progress, chunks, choice)


def describe(choice: Choice | None = None) -> str:
    """'local' or 'Ray at HOST:PORT: 16 CPUs, 2 GPUs' (connects to Ray): the page's sidebar line."""
    choice = choice or current()
    if choice.name == "local":
        return "local (this process)"
    from causalpref.run import ray_backend

    return ray_backend.describe(choice)
