import warnings

import pandas as pd
import pytest

from causalpref import CausalPrefError
from causalpref.run.cache import ResultCache
from causalpref.run.cached import run_cached


def test_sweep_is_computed_once_then_loaded_whole(tiny_spec, tmp_path):
    cache = ResultCache(tmp_path / "c")
    first, hit_first = run_cached("exp1", tiny_spec, cache)
    second, hit_second = run_cached("exp1", tiny_spec, cache)
    assert (hit_first, hit_second) == (False, True)
    pd.testing.assert_frame_equal(first.results, second.results)
    assert set(second.details) == {"history", "boundary", "implied", "factors"}
    for name, frame in first.details.items():
        pd.testing.assert_frame_equal(frame, second.details[name])


def test_a_corrupt_table_makes_the_sweep_recompute(tiny_spec, tmp_path):
    cache = ResultCache(tmp_path / "c")
    original, _ = run_cached("exp1", tiny_spec, cache)
    victim = sorted((tmp_path / "c" / "results").rglob("*.npz"))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again, hit = run_cached("exp1", tiny_spec, cache)
    assert not hit and any("corrupt" in str(w.message) for w in caught)
    pd.testing.assert_frame_equal(original.results, again.results)
    assert run_cached("exp1", tiny_spec, cache)[1]


def test_an_unwritable_cache_warns_once_and_the_sweep_runs(tiny_spec, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweep, hit = run_cached("exp1", tiny_spec, ResultCache(not_a_folder))
    assert not hit and len(sweep.results)
    assert [str(w.message) for w in caught] == [
        f"cache {not_a_folder} is not writable (Not a directory); running without storing results there "
        "(set CAUSALPREF_CACHE_DIR to a writable folder to keep them)"
    ]


def test_disabled_cache_writes_nothing(tiny_spec, tmp_path):
    cache = ResultCache(tmp_path / "c", enabled=False)
    assert not run_cached("exp1", tiny_spec, cache)[1]
    assert not (tmp_path / "c").exists()


def test_wrong_kind_or_spec_type(tiny_spec):
    with pytest.raises(CausalPrefError, match="unknown experiment 'exp3'"):
        run_cached("exp3", tiny_spec)
    with pytest.raises(CausalPrefError, match="exp2 needs a Exp2Spec"):
        run_cached("exp2", tiny_spec)
