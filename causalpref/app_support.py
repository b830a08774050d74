"""What the Streamlit pages call: runs with errors turned into plain messages.

Nothing here imports streamlit, so it is tested like the rest of the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .device import describe_device, resolve_device
from .errors import CausalPrefError
from .experiments import Exp1Spec, run_exp1
from .summary import exp1_reading, exp1_summary


@dataclass
class Exp1Outcome:
    results: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    reading: str = ""
    error: str | None = None


def device_badge() -> str:
    return describe_device(resolve_device("auto"))


def run_default_exp1(rhos: tuple[float, ...], n_seeds: int, progress=None) -> Exp1Outcome:
    """The interactive-default Experiment 1 over the given rhos; bad input -> error text."""
    try:
        spec = replace(Exp1Spec(), rhos=rhos, seeds=tuple(range(n_seeds)))
        results = run_exp1(spec, progress=progress).results
    except CausalPrefError as error:
        return Exp1Outcome(error=str(error))
    summary = exp1_summary(results)
    return Exp1Outcome(results=results, summary=summary, reading=exp1_reading(summary))
