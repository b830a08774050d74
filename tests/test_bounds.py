"""Sizes are checked against memory before anything is allocated, and a rho given twice is
trained and reported once."""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import pytest
from test_cli import TINY

from causalpref.cli import main
from causalpref.data.worlds.synthetic import CorrelatedFactorsWorld
from causalpref.errors import CausalPrefError
from causalpref.run import memory
from causalpref.run.cache import ResultCache
from causalpref.run.cached import run_cached
from causalpref.run.specs import Exp1Spec, Exp2Spec, SplitSizes


def test_a_huge_dim_is_refused_at_once_with_the_estimate(tmp_path):
    spec = Exp1Spec(world=CorrelatedFactorsWorld(dim=200_000), rhos=(0.5,), seeds=(0,), device="cpu")
    started = time.perf_counter()
    with pytest.raises(CausalPrefError, match=r"needs about \d+\.\d GB of memory \(embedding dimension 200000"):
        run_cached("exp1", spec, ResultCache(tmp_path))
    assert time.perf_counter() - started < 5  # nothing was drawn or allocated
    assert not (tmp_path / "results").exists()


def test_the_estimate_grows_with_dim_pairs_and_cells_and_the_check_uses_it():
    spec = Exp1Spec(device="cpu")
    base = memory.estimate_bytes(spec, 32, 1)
    assert memory.estimate_bytes(spec, 64, 1) > 1.9 * base
    assert memory.estimate_bytes(spec, 32, 3) == 3 * base
    bigger = replace(spec, sizes=SplitSizes(train=20_000, val=500, id=2000, ood=2000))
    assert memory.estimate_bytes(bigger, 32, 1) > 2 * base
    memory.check_memory(spec, 32, 1, available=base + 1)  # fits: no error
    with pytest.raises(CausalPrefError, match="6,500 pairs per cell"):
        memory.check_memory(spec, 32, 1, available=base - 1)


def test_split_sizes_are_checked_for_experiment_2_too():
    spec = Exp2Spec(device="cpu")
    with pytest.raises(CausalPrefError, match="GB of memory"):
        memory.check_sweep_memory(spec, available=1000)


def test_a_rho_given_twice_is_trained_and_reported_once(tmp_path, capsys):
    once, thrice = tmp_path / "once.csv", tmp_path / "thrice.csv"
    assert main(["exp1", "--rho", "0", "--models", "base", "--out", str(once)] + TINY) == 0
    capsys.readouterr()
    assert main(["exp1", "--rho", "0", "0", "0.0", "--models", "base", "--out", str(thrice)] + TINY) == 0
    assert "--rho 0 given more than once" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(once), pd.read_csv(thrice))
    assert Exp1Spec(rhos=(0.5, 0.5, 0.9), seeds=(1, 1)).rhos == (0.5, 0.9)
