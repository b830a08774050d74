"""One-time costs a server pays in the background at start, not in a user's first training.

torch imports its compiler stack (torch._dynamo, about 3 s on a 2-core CPU) the first time an
optimiser is made, and the synthetic worlds build and embed their pools (about a second each)
the first time a page draws from them. A fresh server does both in a daemon thread while the
first visitor reads the home page; if a page needs either before it is done, it simply
waits for the same import or builds the same (deterministic) pool.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("causalpref.warmup")


def _warm() -> None:
    try:
        import numpy as np
        import torch

        from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # imports torch._dynamo
        for world in (UserObjectivesWorld(), CorrelatedFactorsWorld()):
            world.pool().pairs(np.arange(1))  # a small pool embeds itself whole on first use
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the first user time
        log.exception("warm-up failed")


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=_warm, name="causalpref-warm-up", daemon=True)
    thread.start()
    return thread
