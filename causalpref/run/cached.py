"""Run an experiment through the result cache: computed once, then loaded.

A sweep's tables (results and details) are stored under keys derived from the full spec,
with the device type its chunks run on in place of 'auto' (a CUDA run and a CPU run may
differ in the last float bits; on Ray, the workers' device), and the code version (see
cache.py): same spec + same code -> same numbers, read back from disk. The backend
(run/backends.py: local or Ray) is not part of the key: both give the same rows.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

from causalpref.errors import CausalPrefError
from causalpref.run import backends
from causalpref.run.cache import ResultCache, canonical_spec, spec_key, warn_unwritable
from causalpref.run.chunks import ChunkStore
from causalpref.run.flight import single_flight
from causalpref.run.memory import check_sweep_memory
from causalpref.run.specs import SPEC_TYPES
from causalpref.run.sweep import Sweep, detail_tables, run_sweep
from causalpref.run.threads import refresh as refresh_threads
from causalpref.run.threads import training_threads


def _keys(kind: str, spec) -> dict[str, str]:
    keyed = replace(spec, device=backends.device_type(spec))
    return {table: spec_key(f"{kind}/{table}", keyed) for table in detail_tables(spec)}


def load_cached(kind: str, spec, cache: ResultCache) -> Sweep | None:
    """The cached sweep, or None unless every one of its tables is there."""
    if not cache.enabled:
        return None
    frames = {}
    for table, key in _keys(kind, spec).items():
        frame = cache.load(key)
        if frame is None:
            return None
        frames[table] = frame
    return Sweep(results=frames.pop("results"), details=frames)


def _execute(spec, progress, chunks=None) -> Sweep:
    """The sweep on the chosen backend (run/backends.py); the local one is run_sweep itself."""
    if backends.current().name != "local":
        return backends.run(spec, progress=progress, chunks=chunks)
    if chunks is None:
        return run_sweep(spec, progress=progress)
    return run_sweep(spec, progress=progress, chunks=chunks)


def run_cached(kind: str, spec, cache: ResultCache | None = None, progress=None) -> tuple[Sweep, bool]:
    """(sweep, was_cached): load the sweep of `spec`, or run it and store every table."""
    if kind not in SPEC_TYPES:
        raise CausalPrefError(f"unknown experiment {kind!r}; choose from {list(SPEC_TYPES)}")
    if not isinstance(spec, SPEC_TYPES[kind]):
        raise CausalPrefError(f"{kind} needs a {SPEC_TYPES[kind].__name__}, got {type(spec).__name__}")
    if backends.current().name == "local":  # a Ray task checks its worker's memory
        check_sweep_memory(spec)  # before anything is drawn or allocated
    cache = cache if cache is not None else ResultCache()
    key = _keys(kind, spec)["results"]
    chunks = ChunkStore(cache.root, key) if cache.enabled else None

    def store(sweep: Sweep) -> None:
        store_sweep(kind, spec, sweep, cache)
        chunks.clear()  # the whole sweep is stored: its chunks are no longer needed

    return train_once(
        cache,
        key,
        lambda: load_cached(kind, spec, cache),
        lambda progress_: _execute(spec, progress_, chunks),
        store,
        progress,
    )


def train_once(cache: ResultCache, key: str, load, train, store, progress=None):
    """(result, was_cached): `train(progress)` once across sessions and processes sharing the
    cache (run/flight.py: the others wait and `load` its result), under the thread policy for
    a shared CPU (run/threads.py), then `store(result)`. Without a cache: trained, not stored."""
    if not cache.enabled:
        with training_threads():
            return train(progress), False

    def compute(relay):
        def progress_and_threads(done, total, message):
            refresh_threads(cache.root)
            relay(done, total, message)

        with training_threads(cache.root):
            result = train(progress_and_threads)
        store(result)
        return result

    result, computed = single_flight(cache.root, key, load, compute, progress)
    return result, not computed


def store_sweep(kind: str, spec, sweep: Sweep, cache: ResultCache) -> None:
    store_tables(kind, spec, sweep, cache, _keys(kind, spec))


def store_tables(kind: str, spec, sweep: Sweep, cache: ResultCache, keys: dict[str, str]) -> None:
    """Every table of the sweep into the cache under `keys`; a cache that cannot be written is
    warned about (the run goes on without it)."""
    tables = {"results": sweep.results, **sweep.details}
    meta = {"kind": kind, "spec": canonical_spec(spec)}
    try:
        for table, key in keys.items():
            cache.store(key, tables[table], {**meta, "table": table})
    except OSError as error:
        warn_unwritable(cache.root, error)
    except CausalPrefError as error:
        warnings.warn(f"result cache: could not store the {kind} sweep: {error}", stacklevel=2)
