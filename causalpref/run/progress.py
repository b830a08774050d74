"""How long training will take, and how far it has got: one estimate over all of a page's work.

Work is counted in units proportional to its cost: for every model, epochs × pairs it sees
per epoch (training and validation) × its parameters. The speed, in units per second, is
measured on this machine: by every sweep it trains (kept in `speed.json` in the cache folder,
per device type and experiment), or, before the first one, by a short calibration that trains
a small stack of the sweep's own architecture. So an estimate exists before any work starts;
once it runs, the throughput measured so far takes over. No time is ever typed in by hand.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from causalpref.io import write_atomic

SPEED_FILE = "speed.json"
CALIBRATION_MODELS = 32  # at most: as many as the sweep trains at once (stacking is cheaper per model)
CALIBRATION_PAIRS = 256
LIVE_AFTER = 0.05  # share of the work done after which the run's own throughput is trusted


def model_count(spec) -> int:
    return len(spec.rhos) * len(spec.seeds) * len(spec.models)


def _dim(world) -> int:
    """The embedding width of the world, without embedding anything: a real world that has
    not embedded its file yet counts with MiniLM's 384."""
    if isinstance(getattr(type(world), "dim", None), cached_property):
        return int(world.__dict__.get("dim", 384))
    return int(world.dim)


def parameters(spec, name: str) -> int:
    from causalpref.models import build_model

    model = build_model(name, _dim(spec.world), spec.model, 0, spec.params_of(name), uses_objective=spec.uses_objective)
    return sum(p.numel() for p in model.parameters())


def work_units(spec) -> float:
    """The sweep's cost in units: models × epochs × pairs per epoch × parameters."""
    pairs = spec.sizes.train + spec.sizes.val
    cells = len(spec.rhos) * len(spec.seeds)
    return float(sum(cells * spec.train.epochs * pairs * parameters(spec, name) for name in spec.models))


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and value > 0 and math.isfinite(value)


def _speed_key(device_type: str, kind: str, models) -> str:
    return f"{device_type}/{kind}/{'+'.join(models)}"


class SpeedLog:
    """Measured units per second by (device type, experiment), in `<cache root>/speed.json`.

    Each measurement moves the stored speed halfway towards it (in log space), so one slow
    run on a busy machine does not throw the next estimate off by its whole factor."""

    def __init__(self, root: Path | None):
        self.path = None if root is None else Path(root) / SPEED_FILE

    def _read(self) -> dict:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # a damaged file is only a lost estimate
        return data if isinstance(data, dict) else {}

    def speed(self, device_type: str, kind: str, models=()) -> float | None:
        """The speed measured for these architectures, else for any of this experiment's."""
        data = {k: v for k, v in self._read().items() if _positive(v)}
        exact = data.get(_speed_key(device_type, kind, models))
        if exact is not None:
            return float(exact)
        same_kind = [v for k, v in data.items() if k.startswith(f"{device_type}/{kind}/")]
        return float(np.exp(np.mean(np.log(same_kind)))) if same_kind else None

    def record(self, device_type: str, kind: str, models, units: float, seconds: float) -> None:
        if self.path is None or units <= 0 or seconds <= 0:
            return
        measured = units / seconds
        data = self._read()
        key = _speed_key(device_type, kind, models)
        old = data.get(key)
        data[key] = math.sqrt(old * measured) if _positive(old) else measured
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, lambda handle: handle.write(json.dumps(data, indent=1).encode()))
        except OSError:
            pass  # a read-only cache folder: estimates then come from calibration


def calibrate(spec, device) -> float:
    """Units per second of a short training of the spec's first architecture: as many models at
    once as the sweep stacks, two epochs over a few hundred random pairs (about a second)."""
    import torch

    from causalpref.data.pairs import PairSet
    from causalpref.models import build_model
    from causalpref.train.stacked import train_reward_models

    name, dim = spec.models[0], _dim(spec.world)
    rng = np.random.default_rng(0)

    def pairs(n):
        objective = rng.integers(0, 2, n) if spec.uses_objective else None
        return PairSet(
            emb_a=rng.standard_normal((n, dim), dtype=np.float32),
            emb_b=rng.standard_normal((n, dim), dtype=np.float32),
            label=rng.integers(0, 2, n).astype(np.float32),
            objective=objective,
            prompt_type=objective,
        )

    stack = min(CALIBRATION_MODELS, len(spec.rhos) * len(spec.seeds))
    models = [
        build_model(name, dim, spec.model, seed, spec.params_of(name), uses_objective=spec.uses_objective)
        for seed in range(stack)
    ]
    trains = [pairs(CALIBRATION_PAIRS) for _ in models]
    vals = [pairs(CALIBRATION_PAIRS // 4) for _ in models]
    # two epochs, timed between their ends: the one-time costs of a first training (imports,
    # the optimiser's set-up) are not what each further model costs
    config = type(spec.train)(lr=spec.train.lr, epochs=2, batch_size=spec.train.batch_size)
    ends = []
    train_reward_models(
        models,
        trains,
        vals,
        config,
        list(range(len(models))),
        torch.device(device),
        on_epoch=lambda epoch, records: ends.append(time.perf_counter()),
    )
    seconds = max(ends[-1] - ends[0], 1e-6)
    per_model = (CALIBRATION_PAIRS + CALIBRATION_PAIRS // 4) * parameters(spec, name)
    return len(models) * per_model / seconds


_CALIBRATED: dict[tuple, float] = {}


def estimate_seconds(kind: str, spec, log: SpeedLog, device_type: str) -> float:
    """Seconds the sweep of `spec` should take here: its units at the speed measured by earlier
    sweeps, or by a calibration (once per process and setting)."""
    speed = log.speed(device_type, kind, spec.models)
    if speed is None:
        key = (kind, device_type, spec.models, _dim(spec.world), spec.model, spec.params, spec.train.batch_size)
        if key not in _CALIBRATED:
            _CALIBRATED[key] = calibrate(spec, device_type)
        speed = _CALIBRATED[key]
    return work_units(spec) / speed


def seconds_text(seconds: float) -> str:
    """'about 8 s', 'about 2 min': an estimate, rounded as one."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


def clock_text(seconds: float) -> str:
    """Elapsed time as it is: '7 s', '1 min 05 s'."""
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


@dataclass
class Tracker:
    """One bar over several jobs of known units: fraction done, elapsed time, time left.

    `speed` (units per second) gives the estimate until a share LIVE_AFTER of the work is
    done; from then on the throughput measured in this run does."""

    total_units: float
    speed: float | None
    clock: Callable[[], float] = time.monotonic
    done_units: float = 0.0
    started: float = field(default=0.0)

    def __post_init__(self):
        self.started = self.clock()

    def estimate(self) -> float | None:
        """Seconds the whole work takes, as estimated before it starts."""
        return None if not self.speed else self.total_units / self.speed

    def update(self, done_units: float) -> None:
        self.done_units = min(max(done_units, self.done_units), self.total_units)

    @property
    def fraction(self) -> float:
        return 0.0 if self.total_units <= 0 else self.done_units / self.total_units

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float | None:
        left = self.total_units - self.done_units
        elapsed = self.elapsed()
        if self.fraction >= LIVE_AFTER and elapsed > 0:
            return left * elapsed / self.done_units
        if not self.speed:
            return None
        return max(left / self.speed - elapsed if self.done_units == 0 else left / self.speed, 0.0)

    def text(self) -> str:
        left = self.remaining()
        tail = "estimating the time left" if left is None else f"{seconds_text(left)} left"
        return f"{100 * self.fraction:.0f}% · {clock_text(self.elapsed())} elapsed · {tail}"
