"""The result cache: exact round trips, stable keys, atomic writes, recovery from bad entries."""

import ast
import json
import multiprocessing
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpref.run.cache as cache_module
from causalpref.errors import CausalPrefError
from causalpref.run.cache import (
    CacheInfo,
    ResultCache,
    _hash_sources,
    canonical_spec,
    code_version,
    default_cache_root,
    format_info,
    spec_key,
)

# No module-level import of the experiments (and so of torch): the spawned writer processes of
# the concurrency test import this module, and should start fast.
REPO = Path(__file__).resolve().parent.parent
RESULT_COLUMNS = [
    "experiment",
    "world",
    "model",
    "rho",
    "seed",
    "split",
    "accuracy",
    "n",
    "rho_achieved",
    "margin",
    "oracle_accuracy",
    "spurious_accuracy",
    "chance",
    "best_epoch",
]


def get_or_compute(cache, kind, spec, compute):
    """(frame, was_cached): what run_cached does for a sweep's tables, for one table."""
    if not cache.enabled:
        return compute(), False
    key = spec_key(kind, spec)
    frame = cache.load(key)
    if frame is not None:
        return frame, True
    frame = compute()
    try:
        cache.store(key, frame, {"kind": kind, "spec": canonical_spec(spec)})
    except (OSError, CausalPrefError) as exc:
        warnings.warn(f"result cache: could not store the {kind} result: {exc}", stacklevel=2)
    return frame, False


def result_table(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A frame shaped like the experiments' tidy tables: str, float (with NaN) and int columns."""
    rng = np.random.default_rng(seed)
    splits = rng.choice(["train", "val", "id", "ood", "discriminator_train"], n)
    disc = np.char.startswith(splits.astype(str), "discriminator")
    frame = pd.DataFrame(
        {
            "experiment": "exp2",
            "world": "synthetic-objectives",
            "model": rng.choice(["base", "multihead", "adversarial", ""], n),
            "rho": rng.choice([0.5, 0.7, 0.9, 0.30000000000000004], n),
            "seed": rng.integers(0, 5, n),
            "split": splits,
            "accuracy": rng.random(n),
            "n": rng.integers(0, 4000, n),
            "rho_achieved": np.where(disc, np.nan, rng.random(n)),
            "margin": np.where(disc, np.nan, rng.normal(size=n)),
            "oracle_accuracy": np.where(disc, np.nan, rng.random(n)),
            "spurious_accuracy": np.where(disc, np.nan, rng.random(n)),
            "chance": 0.5,
            "best_epoch": rng.integers(0, 10, n),
        },
        columns=RESULT_COLUMNS,
    )
    return frame


def key_of(i: int) -> str:
    return spec_key("test", {"i": i}, salt="tests")


# ---------------------------------------------------------------- round trips


def test_round_trip_of_a_result_table_is_exact(tmp_path):
    frame = result_table(60)
    frame.loc[0, "model"] = ""  # empty strings survive
    frame.loc[1, "accuracy"] = np.nan
    cache = ResultCache(tmp_path)
    cache.store(key_of(0), frame, {"kind": "exp2"})
    loaded = cache.load(key_of(0))
    pd.testing.assert_frame_equal(loaded, frame)
    assert list(loaded.columns) == RESULT_COLUMNS
    assert list(loaded.dtypes) == list(frame.dtypes)
    assert loaded.loc[0, "model"] == ""


def test_round_trip_of_object_string_bool_and_datetime_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "names": pd.Series(["a", None, np.nan, "", "ü—長"], dtype=object),
            "all_none": pd.Series([None] * 5, dtype=object),
            "floats": pd.Series([1.5, None, np.nan, -0.0, 3.0], dtype=object),
            "ints": pd.Series([1, 2, None, 2**40, 5], dtype=object),
            "nullable": pd.Series(["a", None, "b", "", "c"], dtype=pd.StringDtype("python", na_value=pd.NA)),
            "flag": [True, False, True, True, False],
            "f32": np.array([1, 2, np.nan, 4, 5], dtype=np.float32),
            "i8": np.arange(5, dtype=np.int8),
            "when": pd.to_datetime(["2020-01-01", None, "2021-06-01", "2022-01-01", "2023-01-01"]),
        }
    )
    cache = ResultCache(tmp_path)
    cache.store(key_of(1), frame, {"kind": "mixed"})
    loaded = cache.load(key_of(1))
    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded["names"][1] is None and np.isnan(loaded["names"][2])  # None and NaN stay apart
    assert loaded["floats"][1] is None and np.isnan(loaded["floats"][2])
    assert loaded["nullable"][1] is pd.NA


def test_empty_frame_round_trips(tmp_path):
    frame = result_table(10).iloc[:0]
    cache = ResultCache(tmp_path)
    cache.store(key_of(2), frame, {"kind": "exp2"})
    pd.testing.assert_frame_equal(cache.load(key_of(2)), frame)


@pytest.mark.parametrize(
    "bad, match",
    [
        (pd.DataFrame({"a": [1, 2]}, index=[5, 6]), "index"),
        (pd.DataFrame({"a": pd.Categorical(["x", "y"])}), "'a'"),
        (pd.DataFrame({"mixed": pd.Series(["x", 1.0], dtype=object)}), "'mixed'"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "unique"),
        (pd.DataFrame({"s": ["ends in NUL\0"]}), "NUL"),
        ([1, 2, 3], "DataFrame"),
    ],
)
def test_frames_that_cannot_be_stored_exactly_are_refused(tmp_path, bad, match):
    with pytest.raises(CausalPrefError, match=match):
        ResultCache(tmp_path).store(key_of(3), bad, {"kind": "x"})
    assert not list(tmp_path.rglob("*.tmp"))


def test_keys_must_be_hex_digests(tmp_path):
    for bad in ["../../etc/passwd", "ab" * 31, "AB" * 32]:
        with pytest.raises(CausalPrefError, match="64 lowercase hex"):
            ResultCache(tmp_path).load(bad)


# ---------------------------------------------------------------- keys


def test_same_spec_same_key_and_every_change_moves_it():
    from causalpref.data.worlds import CorrelatedFactorsWorld
    from causalpref.run.specs import Exp1Spec

    base = Exp1Spec(rhos=(0.0, 0.3))
    key = spec_key("exp1", base, salt="s")
    assert key == spec_key("exp1", Exp1Spec(rhos=(0.0, 0.3)), salt="s")
    assert len(key) == 64 and int(key, 16) >= 0
    changed = [
        spec_key("exp1", Exp1Spec(rhos=(0.0, 0.1 + 0.2)), salt="s"),  # 0.30000000000000004
        spec_key("exp1", Exp1Spec(rhos=(0.0, 0.3), seeds=(0, 1)), salt="s"),
        spec_key("exp1", Exp1Spec(rhos=(0.0, 0.3), world=CorrelatedFactorsWorld(dim=33)), salt="s"),
        spec_key("exp1-other", base, salt="s"),
        spec_key("exp1", base, salt="t"),
        spec_key("exp1", base),  # salt = CODE_VERSION
    ]
    assert len({key, *changed}) == 1 + len(changed)


def test_keys_are_the_same_in_a_fresh_interpreter():
    from causalpref.run.specs import Exp1Spec, Exp2Spec

    code = (
        "import json; from causalpref.run.cache import spec_key, code_version; "
        "from causalpref.run.specs import Exp1Spec, Exp2Spec; "
        "print(json.dumps([spec_key('exp1', Exp1Spec(rhos=(0.0, 0.3)), salt='s'), "
        "spec_key('exp2', Exp2Spec(), salt='s'), spec_key('exp2', Exp2Spec()), code_version()]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    exp1_key, exp2_key, exp2_default, their_version = json.loads(out.stdout.strip().splitlines()[-1])
    assert exp1_key == spec_key("exp1", Exp1Spec(rhos=(0.0, 0.3)), salt="s")
    assert exp2_key == spec_key("exp2", Exp2Spec(), salt="s")
    # the default salt is that interpreter's CODE_VERSION (compared this way so that an edit of
    # the package by someone else while the tests run cannot make this flaky)
    assert exp2_default == spec_key("exp2", Exp2Spec(), salt=their_version)


@dataclass(frozen=True)
class _Inner:
    where: object = None


@dataclass(frozen=True)
class _Outer:
    name: str = "x"
    inner: _Inner = field(default_factory=_Inner)


def test_fields_that_are_not_json_are_refused_by_name():
    with pytest.raises(CausalPrefError, match=r"inner\.where.*PosixPath"):
        spec_key("x", _Outer(inner=_Inner(where=Path("/tmp"))), salt="s")
    with pytest.raises(CausalPrefError, match=r"inner\.where"):
        spec_key("x", _Outer(inner=_Inner(where={1, 2})), salt="s")
    with pytest.raises(CausalPrefError, match="dataclass instance"):
        spec_key("x", _Outer, salt="s")
    # numpy scalars are plain numbers
    assert spec_key("x", _Outer(inner=_Inner(where=np.float64(0.3))), salt="s") == spec_key(
        "x", _Outer(inner=_Inner(where=0.3)), salt="s"
    )


def test_code_version_hashes_every_python_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    first = _hash_sources(pkg)
    assert first == _hash_sources(pkg)
    (pkg / "notes.txt").write_text("not code")
    assert _hash_sources(pkg) == first
    (pkg / "ui" / "views").mkdir(parents=True)
    (pkg / "ui" / "views" / "page.py").write_text("label = 'a'\n")  # presentation only: same numbers
    (pkg / "ui" / "plots.py").write_text("colour = 'red'\n")
    assert _hash_sources(pkg) == first
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert _hash_sources(pkg) != first
    assert len(code_version()) == 64


# ---------------------------------------------------------------- get_or_compute


def test_get_or_compute_computes_once_then_hits(tmp_path):
    from causalpref.run.specs import Exp1Spec

    calls = []

    def compute():
        calls.append(1)
        return result_table(30)

    cache = ResultCache(tmp_path / "root")
    assert not (tmp_path / "root").exists()  # created on first write only
    spec = Exp1Spec(rhos=(0.0, 0.9))
    frame, hit = get_or_compute(cache, "exp1", spec, compute)
    assert (hit, len(calls)) == (False, 1)
    again, hit = get_or_compute(cache, "exp1", spec, compute)
    assert (hit, len(calls)) == (True, 1)
    pd.testing.assert_frame_equal(again, frame)
    _, hit = get_or_compute(ResultCache(tmp_path / "root"), "exp1", Exp1Spec(rhos=(0.0, 0.6)), compute)
    assert (hit, len(calls)) == (False, 2)
    assert cache.info().by_kind == {"exp1": 2}


def test_a_table_built_like_the_sweeps_round_trips(tmp_path):
    """Rows as dicts, some without the evaluation keys (the discriminator rows) and some with a
    None metric, turned into a frame with a fixed column list, as experiments._sweep does."""
    rows = []
    for rho in (0.0, 0.3, 0.1 + 0.2):
        for seed in (0, 1):
            common = {
                "experiment": "exp1",
                "world": "synthetic",
                "model": "base",
                "rho": float(rho),
                "seed": seed,
                "chance": 0.5,
                "best_epoch": 3 + seed,
            }
            for split in ("train", "val", "id", "ood"):
                rows.append(
                    {
                        **common,
                        "split": split,
                        "n": 300,
                        "rho_achieved": rho + 0.001,
                        "accuracy": 0.7 + seed / 100,
                        "margin": 1.25,
                        "oracle_accuracy": 0.96,
                        "spurious_accuracy": None if split == "val" else 0.06,
                    }
                )
            rows.append({**common, "split": "discriminator_train", "n": 800, "accuracy": 0.5})
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    cache = ResultCache(tmp_path)
    cache.store(key_of(12), frame, {"kind": "exp1"})
    pd.testing.assert_frame_equal(cache.load(key_of(12)), frame)


def test_disabled_cache_always_computes_and_writes_nothing(tmp_path):
    calls = []
    cache = ResultCache(tmp_path / "root", enabled=False)
    for _ in range(2):
        _, hit = get_or_compute(cache, "exp1", {"rhos": [0.0]}, lambda: calls.append(1) or result_table(5))
        assert not hit
    assert len(calls) == 2
    assert not (tmp_path / "root").exists()


def test_missing_root_is_a_miss_not_an_error(tmp_path):
    cache = ResultCache(tmp_path / "nowhere")
    assert cache.load(key_of(4)) is None
    assert cache.info().entries == 0
    assert cache.clear() == 0
    assert not (tmp_path / "nowhere").exists()


def test_default_root_is_the_repo_cache_folder_or_the_env_var(tmp_path, monkeypatch):
    monkeypatch.delenv("CAUSALPREF_CACHE_DIR", raising=False)
    assert default_cache_root() == REPO / "cache"
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_root() == tmp_path / "elsewhere"
    assert ResultCache().root == tmp_path / "elsewhere"
    assert ResultCache(tmp_path / "arg").root == tmp_path / "arg"


# ---------------------------------------------------------------- bad entries


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_middle_byte(path):
    """Flip a byte in the middle of the largest column's data (a flip in a zip header field that
    nothing reads, such as the local copy of a size, leaves the entry intact; see the sweep below)."""
    with zipfile.ZipFile(path) as archive:
        member = max(archive.infolist(), key=lambda m: m.file_size)
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<2H", data, member.header_offset + 26)
    data[member.header_offset + 30 + name_len + extra_len + member.file_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _garbage(path):
    path.write_bytes(os.urandom(5000))


def _empty(path):
    path.write_bytes(b"")


def _bad_checksum(path):
    """A well-formed archive whose column no longer matches its checksum."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["c6"] = arrays["c6"] + 1.0  # accuracy column
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _missing_checksum(path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name != "__checksum__"}
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _plain_npy(path):
    with open(path, "wb") as handle:
        np.save(handle, np.arange(10))


@pytest.mark.parametrize(
    "damage", [_truncate, _flip_middle_byte, _garbage, _empty, _bad_checksum, _missing_checksum, _plain_npy]
)
def test_a_bad_entry_is_warned_about_removed_and_recomputed(tmp_path, damage):
    cache, spec, calls = ResultCache(tmp_path), {"sweep": 1}, []

    def compute():
        calls.append(1)
        return result_table(200)

    get_or_compute(cache, "exp2", spec, compute)
    path = cache.path_for(spec_key("exp2", spec))
    damage(path)
    with pytest.warns(UserWarning, match=f"{path.name}.*recomputing"):
        frame, hit = get_or_compute(cache, "exp2", spec, compute)
    assert (hit, len(calls)) == (False, 2)
    pd.testing.assert_frame_equal(frame, result_table(200))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again, hit = get_or_compute(cache, "exp2", spec, compute)  # the rewritten entry is good
    assert (hit, len(calls)) == (True, 2)


def test_any_flipped_byte_or_truncation_gives_the_exact_frame_or_a_miss(tmp_path):
    cache, frame = ResultCache(tmp_path), result_table(30)
    path = cache.store(key_of(11), frame, {"kind": "x"})
    good = path.read_bytes()
    damaged = [(f"flip {i}", good[:i] + bytes([good[i] ^ 0x5A]) + good[i + 1 :]) for i in range(0, len(good), 37)]
    damaged += [(f"truncate {n}", good[:n]) for n in range(0, len(good), len(good) // 20)]
    misses = 0
    for what, data in damaged:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = cache.load(key_of(11))
        if loaded is None:
            misses += 1
            assert len(caught) == 1 and path.name in str(caught[0].message), what
            assert not path.exists(), what
        else:
            pd.testing.assert_frame_equal(loaded, frame, obj=what)
            assert not caught, what
    assert misses > 0.9 * len(damaged)


def test_load_of_a_bad_entry_removes_it(tmp_path):
    cache = ResultCache(tmp_path)
    path = cache.store(key_of(5), result_table(20), {"kind": "x"})
    _garbage(path)
    with pytest.warns(UserWarning, match="corrupt entry"):
        assert cache.load(key_of(5)) is None
    assert not path.exists()


def test_an_entry_filed_under_another_key_is_a_miss(tmp_path):
    cache = ResultCache(tmp_path)
    path = cache.store(key_of(6), result_table(20), {"kind": "x"})
    other = cache.path_for(key_of(7))
    other.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, other)
    with pytest.warns(UserWarning, match="key"):
        assert cache.load(key_of(7)) is None


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path)

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        cache.store(key_of(8), result_table(20), {"kind": "x"})
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    # get_or_compute still hands back what it computed
    with pytest.warns(UserWarning, match="could not store"):
        frame, hit = get_or_compute(cache, "x", {"a": 1}, lambda: result_table(20))
    assert not hit and len(frame) == 20
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# ---------------------------------------------------------------- concurrency


def race_frame(writer: int, round_: int) -> pd.DataFrame:
    frame = result_table(300, seed=writer * 1000 + round_)
    frame["seed"] = writer
    frame["best_epoch"] = round_
    return frame


def race_writer(root: str, key: str, writer: int, rounds: int) -> None:
    cache = ResultCache(root)
    for round_ in range(rounds):
        cache.store(key, race_frame(writer, round_), {"kind": "race"})


def test_concurrent_writers_never_leave_a_corrupt_entry(tmp_path):
    key, rounds = key_of(9), 40
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=race_writer, args=(str(tmp_path), key, w, rounds)) for w in range(3)]
    for process in writers:
        process.start()
    cache, reads, hits = ResultCache(tmp_path), 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a corrupt read would warn: fail instead
        while any(p.is_alive() for p in writers) or reads == 0:
            frame = cache.load(key)
            reads += 1
            if frame is not None:
                hits += 1
                pd.testing.assert_frame_equal(frame, race_frame(int(frame["seed"][0]), int(frame["best_epoch"][0])))
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    final = cache.load(key)
    pd.testing.assert_frame_equal(final, race_frame(int(final["seed"][0]), int(final["best_epoch"][0])))
    assert int(final["best_epoch"][0]) == rounds - 1  # the last replace wins, whole
    assert list(tmp_path.rglob("*.tmp")) == []
    print(f"\nconcurrent writers: {reads} reads while 3 processes wrote {3 * rounds} times, {hits} hits")


# ---------------------------------------------------------------- info / clear


def test_info_counts_and_clear_leaves_other_content(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path)
    for i in range(3):
        get_or_compute(cache, "exp1", {"i": i}, lambda: result_table(10))
    get_or_compute(cache, "exp2", {"i": 0}, lambda: result_table(10))
    monkeypatch.setattr(cache_module, "_code_version", "older code")
    get_or_compute(cache, "exp2", {"i": 1}, lambda: result_table(10))
    monkeypatch.undo()
    (cache.results_dir / "ab").mkdir(exist_ok=True)
    (cache.results_dir / "ab" / f".{'ab' * 32}.x1.tmp").write_bytes(b"half")  # a writer's leftover
    (tmp_path / "embeddings").mkdir()
    (tmp_path / "embeddings" / "keep.npy").write_bytes(b"keep me")

    info = cache.info()
    assert isinstance(info, CacheInfo) and info.root == tmp_path
    assert (info.entries, info.by_kind, info.stale, info.unreadable) == (5, {"exp1": 3, "exp2": 2}, 1, 0)
    assert info.total_bytes == sum(p.stat().st_size for p in cache.results_dir.rglob("*.npz"))
    assert info.oldest <= info.newest
    text = format_info(info)
    assert "entries: 5" in text and "exp1 3, exp2 2" in text and "older code" in text and str(tmp_path) in text

    _garbage(next(cache.results_dir.rglob("*.npz")))
    assert cache.info().unreadable == 1

    assert cache.clear() == 6  # 5 entries + 1 temporary file
    assert not cache.results_dir.exists()
    assert (tmp_path / "embeddings" / "keep.npy").read_bytes() == b"keep me"
    assert cache.info().entries == 0 and "entries: 0" in format_info(cache.info())


# ---------------------------------------------------------------- speed and safety


@pytest.mark.parametrize("rows", [400, 4000])
def test_load_time_is_reported(tmp_path, rows):
    cache, frame = ResultCache(tmp_path), result_table(rows)
    path = cache.store(key_of(rows), frame, {"kind": "timing"})
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        loaded = cache.load(key_of(rows))
        best = min(best, time.perf_counter() - start)
    pd.testing.assert_frame_equal(loaded, frame)
    print(
        f"\nload of a {rows}-row x {frame.shape[1]}-column table ({path.stat().st_size / 1024:.0f} KB): "
        f"{best * 1000:.1f} ms (best of 5)"
    )


def test_cache_module_never_unpickles(tmp_path, monkeypatch):
    source = Path(cache_module.__file__).read_text()
    tree = ast.parse(source)
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"pickle", "cPickle", "dill", "joblib", "cloudpickle", "shelve"}
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"load", "savez"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "np"
    ]
    assert len(calls) >= 3
    for call in calls:
        flags = {kw.arg: kw.value for kw in call.keywords}
        assert isinstance(flags.get("allow_pickle"), ast.Constant) and flags["allow_pickle"].value is False, (
            f"line {call.lineno}: {ast.unparse(call)}"
        )

    seen, real_load = [], np.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    cache = ResultCache(tmp_path)
    cache.store(key_of(10), result_table(10), {"kind": "x"})
    cache.load(key_of(10))
    cache.info()
    assert seen and all(flag is False for flag in seen)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write_and_a_live_ones_kept(tmp_path):
    cache = ResultCache(tmp_path)
    key = spec_key("exp1", {"i": 0})
    folder = cache.path_for(key).parent
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = folder / f".{key}.npz.{int(dead.stdout)}.abc.tmp"  # its writer has exited
    live = folder / f".{key}.npz.{os.getppid()}.def.tmp"  # a running process's write in flight
    old = folder / f".{key}.npz.x1.tmp"  # no pid in the name, an hour old
    for path in (orphan, live, old):
        path.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    cache.store(key, result_table(5), {"kind": "exp1"})
    assert not orphan.exists() and not old.exists() and live.exists()


def test_cache_clear_removes_saved_uploads(tmp_path):
    cache = ResultCache(tmp_path)
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "0123.jsonl").write_bytes(b"{}")
    get_or_compute(cache, "exp1", {"i": 0}, lambda: result_table(10))
    assert cache.clear() == 2
    assert not list((tmp_path / "uploads").iterdir())
