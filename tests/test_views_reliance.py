"""Spurious-reliance view: seed means of the sweep's 'factors' table, and where a model departs."""

import numpy as np
import pandas as pd

from causalpref.run.sweep import Sweep
from causalpref.ui.views.reliance import reliance_view


def _sweep(rows):
    return Sweep(results=pd.DataFrame(), details={"factors": pd.DataFrame(rows)})


def test_means_over_seeds_at_rho_and_the_largest_departure_is_named():
    rows = []
    for seed, noise in ((0, 0.02), (1, -0.02)):
        for factor, model_corr, truth in (
            ("truthfulness", 0.10, -0.6),
            ("instruction", 0.9, 0.95),
            ("length", 0.3, 0.0),
        ):
            rows.append(
                {
                    "model": "base",
                    "rho": 0.9,
                    "seed": seed,
                    "factor": factor,
                    "correlation": model_corr + noise,
                    "true_correlation": truth,
                }
            )
            rows.append(
                {
                    "model": "base",
                    "rho": 0.0,
                    "seed": seed,
                    "factor": factor,
                    "correlation": truth,
                    "true_correlation": truth,
                }
            )
    view = reliance_view(_sweep(rows), 0.9, ("base", "reweighted"), "OOD pairs")
    table = view.table.set_index("factor")
    assert np.isclose(table.loc["truthfulness", "Base"], 0.10) and table.loc["length", "true reward"] == 0.0
    assert "Base departs most on truthfulness (+0.10 vs the true reward's -0.60)" in view.reading
    assert len(view.figure.data) == 2  # Base bars + true-reward markers


def test_no_table_no_rows_at_rho_or_other_models_give_none():
    assert reliance_view(Sweep(results=pd.DataFrame()), 0.9, ("base",), "x") is None
    rows = [{"model": "base", "rho": 0.0, "seed": 0, "factor": "f", "correlation": 0.1, "true_correlation": 0.0}]
    assert reliance_view(_sweep(rows), 0.9, ("base",), "x") is None
    assert reliance_view(_sweep(rows), 0.0, ("multihead",), "x") is None
