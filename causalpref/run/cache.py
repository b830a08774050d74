"""A content-addressed cache of result tables, so a sweep computed once loads instantly.

Key: sha256 of a canonical JSON of (kind, the spec as `dataclasses.asdict`, a code-version
salt). The salt, `code_version()`, hashes every `*.py` file of this package, so any change
to the code makes old entries unreachable (`cache clear` removes them).

Entry: one file `<root>/results/<key[:2]>/<key>.npz` written by `np.savez` and read back
with `allow_pickle=False`. It holds one array per column (`c<i>`; strings as fixed-width
unicode, plus a uint8 null-kind array `m<i>` when the column has missing values), the JSON
metadata as a uint8 array (`__meta__`) and a sha256 of all of that (`__checksum__`).

Writes go to a temporary file in the same folder, are fsynced and then `os.replace`d onto
the final name, so a reader sees either the old entry, the new one or none. An entry that
cannot be read or fails its checksum is a miss: a warning names the file and the reason,
the file is removed and the caller recomputes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalpref.errors import CausalPrefError
from causalpref.io import fsync_dir, remove_orphan_temporaries, write_atomic

ENV_VAR = "CAUSALPREF_CACHE_DIR"
FORMAT = 1
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # causalpref/
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_META, _CHECKSUM = "__meta__", "__checksum__"
# Null kinds of the m<i> arrays: which missing value to put back in each row.
_VALUE, _NONE, _NAN, _NA = 0, 1, 2, 3
_NULLS = {_NONE: None, _NAN: np.nan, _NA: pd.NA}
# Object columns that can be cached: (tag, test of a present value, filler for a missing one, array dtype).
_OBJECT_KINDS = (
    ("str", lambda v: isinstance(v, str), "", str),
    ("bool", lambda v: isinstance(v, (bool, np.bool_)), False, bool),
    ("int", lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool), 0, np.int64),
    ("float", lambda v: isinstance(v, (float, np.floating)), 0.0, np.float64),
)


# ---------------------------------------------------------------- keys

# Modules that only present results (pages' views, figures, lessons, text, links, the CLI's
# argument parsing) never change a number a sweep computes: editing them keeps the cache.
PRESENTATION_ONLY = (
    "ui/",
    "run/report.py",
    "run/docs_tables.py",
    "cli.py",
    "interventions/summary.py",
    "interventions/report.py",
    "run/adversary.py",  # the adversary's measurements: specs (keyed by content) and summaries
    "run/adversary_report.py",
)


def _hash_sources(package_dir: Path) -> str:
    """sha256 over the sorted relative paths and contents of every *.py file under a folder
    that can change a computed number (everything but PRESENTATION_ONLY)."""
    digest = hashlib.sha256()
    files = sorted(
        (rel, p)
        for p in package_dir.rglob("*.py")
        if "__pycache__" not in p.parts
        and not (rel := p.relative_to(package_dir).as_posix()).startswith(PRESENTATION_ONLY)
    )
    for rel, path in files:
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


_code_version: str | None = None


def code_version() -> str:
    """The hash of this package's source, computed once per process."""
    global _code_version
    if _code_version is None:
        _code_version = _hash_sources(_PACKAGE_DIR)
    return _code_version


def _jsonable(value: Any, where: str) -> Any:
    """`value` as plain JSON types (tuples -> lists); CausalPrefError naming the field otherwise."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise CausalPrefError(f"cannot build a cache key: field {where} has a non-string key {bad[0]!r}")
        return {k: _jsonable(v, f"{where}.{k}" if where else k) for k, v in value.items()}
    raise CausalPrefError(
        f"cannot build a cache key: field {where or '(spec)'} holds a "
        f"{type(value).__name__} ({value!r}), which is not JSON-able; use str, int, "
        f"float, bool, None or tuples/lists/dicts of them"
    )


def canonical_spec(spec: Any) -> Any:
    """The spec (a dataclass instance or a dict) as plain JSON types."""
    if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        return _jsonable(dataclasses.asdict(spec), "")
    if isinstance(spec, dict):
        return _jsonable(spec, "")
    raise CausalPrefError(f"a cache spec must be a dataclass instance or a dict, got {type(spec).__name__}")


def spec_key(kind: str, spec: Any, salt: str | None = None) -> str:
    """sha256 hex of the canonical JSON of (kind, spec, salt); salt defaults to code_version().

    Floats are written with repr, so 0.3 and 0.30000000000000004 give different keys (and so
    do 1 and 1.0)."""
    if not isinstance(kind, str) or not kind:
        raise CausalPrefError(f"cache kind must be a non-empty string, got {kind!r}")
    payload = {"kind": kind, "spec": canonical_spec(spec), "salt": code_version() if salt is None else salt}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- frame <-> arrays


def _null_kinds(values: np.ndarray) -> np.ndarray:
    kinds = np.zeros(len(values), dtype=np.uint8)
    for i, v in enumerate(values):
        if v is None:
            kinds[i] = _NONE
        elif v is pd.NA:
            kinds[i] = _NA
        elif isinstance(v, (float, np.floating)) and np.isnan(v):
            kinds[i] = _NAN
    return kinds


def _unicode(values: list, name: str) -> np.ndarray:
    if any(s.endswith("\0") for s in values):  # fixed-width unicode drops trailing NULs
        raise CausalPrefError(f"column {name!r}: strings ending in a NUL character cannot be cached")
    return np.array(values, dtype=str) if values else np.zeros(0, dtype="<U1")


def _encode_column(name: str, series: pd.Series) -> tuple[dict, np.ndarray, np.ndarray | None]:
    """(column metadata, values array, null-kind array or None) of one column."""
    dtype = series.dtype
    info = {"name": name, "dtype": str(dtype)}
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return {**info, "enc": "numpy"}, series.to_numpy(), None
    if isinstance(dtype, pd.StringDtype):
        missing = series.isna().to_numpy()
        values = [("" if m else v) for v, m in zip(series.tolist(), missing)]
        info.update(enc="string", storage=dtype.storage, na="NA" if dtype.na_value is pd.NA else "nan")
        return info, _unicode(values, name), (missing.astype(np.uint8) * _NA if missing.any() else None)
    if dtype == np.dtype(object):
        raw = series.to_numpy()
        kinds = _null_kinds(raw)
        present = [v for v, k in zip(raw, kinds) if k == _VALUE]
        for tag, fits, blank, array_dtype in _OBJECT_KINDS:
            if all(map(fits, present)):
                filled = [blank if k else v for v, k in zip(raw, kinds)]
                if tag == "str":
                    array = _unicode(filled, name)
                else:
                    try:
                        array = np.array(filled, dtype=array_dtype)
                    except OverflowError:
                        break
                return {**info, "enc": "object", "values": tag}, array, (kinds if kinds.any() else None)
        raise CausalPrefError(
            f"column {name!r}: an object column must hold only strings, only floats, "
            f"only ints or only bools (plus None/NaN) to be cached"
        )
    raise CausalPrefError(
        f"column {name!r}: dtype {dtype} cannot be cached; use float, int, bool, datetime, str or object columns"
    )


def _decode_column(info: dict, values: np.ndarray, kinds: np.ndarray | None, index: pd.RangeIndex):
    enc = info["enc"]
    if enc == "numpy":
        if str(values.dtype) != info["dtype"]:
            raise ValueError(f"column {info['name']!r} has dtype {values.dtype}, metadata says {info['dtype']}")
        return values
    if enc == "string":
        dtype = pd.StringDtype(info["storage"], na_value=pd.NA if info["na"] == "NA" else np.nan)
        objects = values.astype(object)
        if kinds is not None:
            objects[kinds != _VALUE] = dtype.na_value
        return pd.array(objects, dtype=dtype)
    if enc == "object":
        objects = np.empty(len(values), dtype=object)
        objects[:] = values.tolist()
        if kinds is not None:
            for kind, null in _NULLS.items():
                objects[kinds == kind] = null
        # a Series, not a bare array: pandas would infer the str dtype from an array of strings
        return pd.Series(objects, index=index, dtype=object, copy=False)
    raise ValueError(f"unknown column encoding {enc!r}")


def _checksum(meta_bytes: np.ndarray, arrays: dict[str, np.ndarray]) -> bytes:
    digest = hashlib.sha256()
    digest.update(meta_bytes.tobytes())
    for name in sorted(arrays):
        array = arrays[name]
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.digest()


def _encode(key: str, frame: pd.DataFrame, meta: dict) -> dict[str, np.ndarray]:
    """Every array of the entry file, checksum included."""
    if not isinstance(frame, pd.DataFrame):
        raise CausalPrefError(f"only a pandas DataFrame can be cached, got {type(frame).__name__}")
    names = list(frame.columns)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise CausalPrefError(f"cached tables need unique string column names, got {names}")
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        raise CausalPrefError("cached tables need the default 0..n-1 index; call frame.reset_index(drop=True)")
    arrays, columns = {}, []
    for i, name in enumerate(names):
        info, values, kinds = _encode_column(name, frame.iloc[:, i])
        columns.append(info)
        arrays[f"c{i}"] = values
        if kinds is not None:
            arrays[f"m{i}"] = kinds
    record = {
        **meta,
        "format": FORMAT,
        "key": key,
        "code_version": code_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "rows": len(frame),
        "columns": columns,
    }
    try:
        text = json.dumps(record, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CausalPrefError(f"cache metadata must be JSON-able: {exc}") from None
    arrays[_META] = np.frombuffer(text.encode(), dtype=np.uint8)
    arrays[_CHECKSUM] = np.frombuffer(_checksum(arrays[_META], arrays), dtype=np.uint8)
    return arrays


def _read_meta(npz) -> dict:
    return json.loads(npz[_META].tobytes().decode())


def _decode(handle, key: str) -> pd.DataFrame:
    """The frame of an open entry file; any exception means the entry is bad."""
    with np.load(handle, allow_pickle=False) as npz:
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("not an npz archive")
        missing = {_META, _CHECKSUM} - set(npz.files)
        if missing:
            raise ValueError(f"missing {sorted(missing)}")
        arrays = {name: npz[name] for name in npz.files if name != _CHECKSUM}
        if _checksum(arrays[_META], arrays) != npz[_CHECKSUM].tobytes():
            raise ValueError("checksum mismatch")
        meta = json.loads(arrays[_META].tobytes().decode())
    if meta.get("format") != FORMAT or meta.get("key") != key:
        raise ValueError(f"format {meta.get('format')!r} / key {str(meta.get('key'))[:12]} is not this entry's")
    rows, data = meta["rows"], {}
    index = pd.RangeIndex(rows)
    for i, info in enumerate(meta["columns"]):
        values = arrays[f"c{i}"]
        if values.shape != (rows,):
            raise ValueError(f"column {info['name']!r} has shape {values.shape}, expected ({rows},)")
        data[info["name"]] = _decode_column(info, values, arrays.get(f"m{i}"), index)
    return pd.DataFrame(data, index=index, columns=[c["name"] for c in meta["columns"]])


# ---------------------------------------------------------------- the cache


_WARNED_UNWRITABLE: set[Path] = set()  # roots already warned about in this process


def warn_unwritable(root: Path, error: OSError) -> None:
    """Say once per process and root that nothing can be stored there; the caller goes on uncached."""
    if root in _WARNED_UNWRITABLE:
        return
    _WARNED_UNWRITABLE.add(root)
    warnings.warn(
        f"cache {root} is not writable ({error.strerror or error}); running without storing results there "
        f"(set {ENV_VAR} to a writable folder to keep them)",
        stacklevel=3,
    )


def default_cache_root() -> Path:
    """$CAUSALPREF_CACHE_DIR, or cache/ in the working directory (an installed package has no
    repository folder to write beside)."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.cwd() / "cache"


@dataclass
class CacheInfo:
    root: Path
    entries: int = 0
    total_bytes: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    oldest: datetime | None = None
    newest: datetime | None = None
    stale: int = 0  # entries written by other code versions: never hit again
    unreadable: int = 0  # entries whose metadata could not be read


class ResultCache:
    """Result tables on disk, one file per key. `enabled=False` computes everything afresh."""

    def __init__(self, root: str | os.PathLike | None = None, enabled: bool = True):
        self.root = Path(root).expanduser() if root is not None else default_cache_root()
        self.enabled = enabled

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    def path_for(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise CausalPrefError(f"a cache key is 64 lowercase hex characters, got {key!r}")
        return self.results_dir / key[:2] / f"{key}.npz"

    def load(self, key: str) -> pd.DataFrame | None:
        """The stored frame, or None on a miss (a bad entry is warned about and removed)."""
        path = self.path_for(key)
        try:
            handle = open(path, "rb")
        except (FileNotFoundError, NotADirectoryError):  # a root that is a file holds no entries
            return None
        except OSError as exc:
            warnings.warn(f"result cache: cannot read {path}: {exc}; recomputing", stacklevel=2)
            return None
        with handle:
            try:
                return _decode(handle, key)
            except Exception as exc:  # noqa: BLE001 - whatever is wrong with the file, it is a miss
                reason = f"{type(exc).__name__}: {exc}"
                opened = os.fstat(handle.fileno())
        warnings.warn(f"result cache: discarding corrupt entry {path} ({reason}); recomputing", stacklevel=2)
        try:  # remove it unless a writer has just replaced it with a fresh entry
            now = os.stat(path)
            if (now.st_ino, now.st_dev) == (opened.st_ino, opened.st_dev):
                path.unlink()
        except OSError:
            pass
        return None

    def store(self, key: str, frame: pd.DataFrame, meta: dict) -> Path:
        """Write the entry atomically (temporary file, fsync, rename) and return its path.

        `meta` (JSON-able; `kind` and `spec` by convention) goes into the entry's metadata."""
        path = self.path_for(key)
        arrays = _encode(key, frame, dict(meta))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda handle: np.savez(handle, allow_pickle=False, **arrays))
        fsync_dir(path.parent)
        remove_orphan_temporaries(path.parent)  # what a killed writer left beside it
        return path

    def _files(self, pattern: str) -> list[Path]:
        return sorted(self.results_dir.glob(f"*/{pattern}")) if self.results_dir.is_dir() else []

    def info(self) -> CacheInfo:
        info, current, times = CacheInfo(root=self.root), code_version(), []
        for path in self._files("*.npz"):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            info.entries += 1
            info.total_bytes += size
            try:
                with np.load(path, allow_pickle=False) as npz:
                    meta = _read_meta(npz)
                kind, created = str(meta.get("kind", "?")), datetime.fromisoformat(meta["created"])
            except Exception:  # noqa: BLE001 - counted here, left for load() to deal with
                info.unreadable += 1
                continue
            info.by_kind[kind] = info.by_kind.get(kind, 0) + 1
            info.stale += meta.get("code_version") != current
            times.append(created)
        if times:
            info.oldest, info.newest = min(times), max(times)
        return info

    def clear(self) -> int:
        """Remove every result entry, stray temporary file and saved upload; the rest of the root
        stays.

        Meant for when nothing is writing: a write in flight loses its temporary file and fails."""
        removed = 0
        uploads = sorted((self.root / "uploads").glob("*")) if (self.root / "uploads").is_dir() else []
        for path in self._files("*.npz") + self._files(".*.tmp") + uploads:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        for folder in sorted(self.results_dir.glob("*"), reverse=True) + [self.results_dir]:
            try:
                folder.rmdir()  # only empty folders go
            except OSError:
                pass
        return removed


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def format_info(info: CacheInfo) -> str:
    """Human text for `python -m causalpref cache info`."""
    lines = [f"cache root: {info.root}"]
    if not info.entries:
        lines.append("entries: 0")
        return "\n".join(lines)
    lines.append(f"entries: {info.entries} ({_size(info.total_bytes)})")
    if info.by_kind:
        lines.append("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(info.by_kind.items())))
    if info.oldest is not None:
        lines.append(f"oldest: {info.oldest:%Y-%m-%d %H:%M:%S} UTC, newest: {info.newest:%Y-%m-%d %H:%M:%S} UTC")
    if info.stale:
        lines.append(f"from older code (never hit again; `cache clear` removes them): {info.stale}")
    if info.unreadable:
        lines.append(f"unreadable (removed on next load): {info.unreadable}")
    return "\n".join(lines)
