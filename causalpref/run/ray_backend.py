"""The Ray backend: one Ray task per chunk of the local plan, the driver gathers and writes.

Why chunks: stacked training (train/stacked.py) rounds differently from training one model
alone, so a task per cell would change the last float bits. A task runs exactly one chunk of
the plan the local backend would follow (run/sweep.py `run_chunk`), so the CSV is
byte-identical to the local backend's.

What travels: the spec. A synthetic world is rebuilt on the worker from it (deterministic,
cached per worker process); a real-data pool is put in Ray's object store once (unique
vectors and the indices of each pair's two responses, not a copy per pair) and adopted by
each worker (data/worlds/real.py `adopt_pool`); the file is never read and the encoder never
loaded there. The device is resolved on the worker; the driver checks that every chunk ran
on the device type the cache key names. A worker's CausalPrefError is re-raised as itself
(the CLI's one-line `error:`), a dead worker's task is retried (MAX_RETRIES), and a stopped
sweep (Ctrl-C, the page's Stop) cancels its tasks.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass, is_dataclass, replace
from pathlib import Path

import numpy as np

from causalpref.errors import CausalPrefError

INSTALL_HINT = "pip install ray==2.60.0 (it is in requirements.txt: pip install -r requirements.txt)"
MAX_RETRIES = 3  # a task whose worker dies is run again, up to this many times
CONNECT_TIMEOUT_S = 3.0  # an address that does not answer within this is reported, not waited on
WAIT_S = 0.5  # the driver's progress (and the page's Stop) is served at least this often
SMALL_SHARE = 0.25  # a sweep that takes under a quarter of a GPU's budget asks for a quarter of a GPU per chunk
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # causalpref/

_state: dict = {"address": None, "ours": False}  # what this process connected to, and whether it started it
_shipped: dict = {}  # real world -> [ObjectRef of its pool], put once per driver process
_last_run: list[dict] = []  # where each chunk of the last sweep ran (tests, benchmarks)


def import_ray():
    try:
        import ray
    except ImportError:
        raise CausalPrefError(f"--backend ray needs Ray, which is not installed here: {INSTALL_HINT}") from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    text = address.removeprefix("ray://")
    default = 10001 if address.startswith("ray://") else 6379
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    try:
        return host.strip("[]") or text, int(port) if port else default
    except ValueError:
        raise CausalPrefError(
            f"--address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT (port a number)"
        ) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_reachable(address: str) -> None:
    """One line, within a few seconds, when nothing answers at `address` (ray.init may wait long)."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise CausalPrefError(
            f"cannot reach Ray at {address} ({host}:{port}: {reason}); is the cluster up (`ray start --head`)?"
        ) from None


def connect(choice, num_cpus: int | None = None):
    """Ray, connected as `choice` says: a Ray already running in this process (a test's or an
    earlier call's), the cluster at choice.address, or a new local Ray on this machine with
    `num_cpus` (default: every core). Ray 2.60 binds a local Ray to the machine's network
    address even when asked for 127.0.0.1 (services.resolve_ip_for_localhost), so none is
    asked for; its token authentication (on by default) keeps other users' jobs out."""
    ray = import_ray()
    address = choice.address
    if address not in (None, "auto"):
        _check_reachable(address)  # before anything else: a wrong address is one line, at once
    if ray.is_initialized():
        if not _state["ours"] or _state["address"] == address or _same_cluster(ray, address):
            return ray
        ray.shutdown()  # ours, to another address: reconnect
    kwargs = dict(logging_level=logging.WARNING, log_to_driver=True)
    pythonpath = os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH", "")]))
    if address is None:
        kwargs.update(
            include_dashboard=False,
            num_cpus=num_cpus,
            runtime_env={"env_vars": {"PYTHONPATH": pythonpath}},
        )
    else:
        host = "127.0.0.1" if address == "auto" else _host_port(address)[0]
        if _is_loopback(host):  # this machine: the workers import this checkout
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": pythonpath}}
        else:  # another machine: ship this package's code, so the workers run what the cache key names
            kwargs["runtime_env"] = {"py_modules": [str(PACKAGE_DIR)], "excludes": ["__pycache__"]}
    try:
        ray.init(address=address, **kwargs)
    except Exception as error:  # noqa: BLE001 - Ray's many connection errors, as one line
        where = address or "a new local Ray on this machine"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if type(error).__name__ == "AuthenticationError":
            first += " (token authentication: put the cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN)"
        raise CausalPrefError(f"cannot connect to Ray at {where}: {first}") from None
    _state.update(address=address, ours=True)
    return ray


def _same_cluster(ray, address: str | None) -> bool:
    """Whether `address` names the Ray this process already runs on: `auto` (one running on
    this machine) for the local Ray started here, or that Ray's own HOST:PORT."""
    if address == "auto":
        return _state["address"] is None
    try:
        return address is not None and address == ray.get_runtime_context().gcs_address
    except Exception:  # noqa: BLE001 - an older or odd Ray: reconnect instead
        return False


def last_run() -> list[dict]:
    """Where each chunk of this process's last Ray sweep ran: chunk, node, ip, host, device,
    seconds (wall) and cpu_seconds (the worker process's CPU time)."""
    return list(_last_run)


def shutdown() -> None:
    """Stop the Ray this process started (tests, benchmarks); one started elsewhere is left alone."""
    if _state["ours"]:
        import ray

        ray.shutdown()
        _shipped.clear()
        _state.update(address=None, ours=False)


def resources(choice) -> dict[str, float]:
    ray = connect(choice)
    return dict(ray.cluster_resources())


def describe(choice) -> str:
    """'Ray at this machine: 2 CPUs, 0 GPUs, 1 node' (or 'Ray at HOST:PORT: ...')."""
    ray = connect(choice)
    res = ray.cluster_resources()
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    where = "this machine" if choice.address in (None, "auto") else choice.address
    return (
        f"Ray at {where}: {res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs, "
        f"{nodes} node{'s' if nodes != 1 else ''}"
    )


def device_type(spec, choice) -> str:
    """The device type the chunks of `spec` run on: a GPU when the spec asks for one (and the
    cluster has one), or on `auto` when the cluster has GPUs; else the CPU."""
    gpus = resources(choice).get("GPU", 0)
    if spec.device == "auto":
        return "cuda" if gpus else "cpu"
    if spec.device.startswith("cuda"):
        if not gpus:
            where = choice.address or "this machine"
            raise CausalPrefError(
                f"--device {spec.device}: the Ray cluster at {where} has no GPUs; use --device cpu or auto, "
                "or add GPU nodes (ray start --num-gpus N)"
            )
        return "cuda"
    return spec.device  # cpu, mps


@dataclass(frozen=True)
class _TextStub:
    """What a real world reads of its loaded text once its pool exists (the rule's factor
    names, what the loader skipped, whether there is a counterfactual label): the worker gets
    this instead of the whole data set."""

    factor_names: tuple
    skipped: dict
    label_other: object


def _light_world(world):
    """A copy of the world without what it loaded (equal to it, so caches keyed by it agree)."""
    from causalpref.data.worlds.real import RealDataWorld

    if not is_dataclass(world):
        return world
    light = replace(world)  # no cached_property values: a synthetic world rebuilds them, cheaply
    if isinstance(world, RealDataWorld):
        text = world.text
        light.__dict__["_text"] = _TextStub(tuple(text.factor_names), dict(text.skipped), text.label_other)
    return light


POOL_ARRAYS = ("label", "factor_diffs", "objective", "prompt_type", "group", "counterfactual_label")


def _ship_pool(ray, world):
    """[ObjectRef] of a real world's pool (None for a synthetic world): unique vectors and
    indices, put once per driver process. In a list, so that a task receives the ref and gets
    it only when its worker does not hold the pool yet."""
    from causalpref.data.worlds.real import RealDataWorld

    if not isinstance(world, RealDataWorld):
        return None
    if world not in _shipped:
        pool = world.pool()
        both = np.concatenate([pool.emb_a, pool.emb_b])
        seen: dict[bytes, int] = {}
        index = np.fromiter((seen.setdefault(row.tobytes(), len(seen)) for row in both), np.int64, len(both))
        first = np.zeros(len(seen), np.int64)
        first[index[::-1]] = np.arange(len(both) - 1, -1, -1)  # the first row of each distinct vector
        payload = {name: getattr(pool, name) for name in POOL_ARRAYS}
        payload.update(vectors=both[first], index_a=index[: len(pool)], index_b=index[len(pool) :])
        _shipped[world] = [ray.put(payload)]
    return _shipped[world]


def _adopt_pool(world, shipped) -> None:
    from causalpref.data.worlds.real import RealPool, adopt_pool, has_pool

    if has_pool(world):
        return
    import ray

    payload = ray.get(shipped[0])
    vectors = payload["vectors"]
    arrays = {name: payload[name] for name in POOL_ARRAYS}
    adopt_pool(RealPool(world=world, **arrays, emb_a=vectors[payload["index_a"]], emb_b=vectors[payload["index_b"]]))


def chunk_task(spec, number: int, per_chunk: int, device_name: str, shipped):
    """On a worker: chunk `number` of the sweep, its rows and where it ran."""
    import ray

    from causalpref.device import resolve_device
    from causalpref.run.memory import check_sweep_memory
    from causalpref.run.sweep import run_chunk

    started, started_cpu = time.perf_counter(), time.process_time()
    if shipped is not None:
        _adopt_pool(spec.world, shipped)
    device = resolve_device(device_name)
    check_sweep_memory(spec)  # this worker's memory, not the driver's
    rows = run_chunk(spec, number, per_chunk, device)
    where = {
        "node": ray.get_runtime_context().get_node_id(),
        "ip": ray.util.get_node_ip_address(),
        "host": socket.gethostname(),
        "device": device.type,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - started_cpu,  # what the machine gave it: wall seconds on a busy one
    }
    return rows, where


def plan_task(spec, device_name: str) -> int:
    """On a GPU worker: how many cells a chunk holds there (its free memory decides)."""
    from causalpref.device import resolve_device
    from causalpref.run.sweep import cells_per_chunk

    return cells_per_chunk(spec, resolve_device(device_name))


def _plan(ray, spec, dtype: str) -> tuple[int, float]:
    """(cells per chunk, GPUs per task): the local plan for the device the chunks run on."""
    import torch

    from causalpref.run.sweep import cells_per_chunk, sweep_cells

    if dtype != "cuda":
        return cells_per_chunk(spec, torch.device(dtype)), 0.0
    per_chunk = _get(ray, ray.remote(plan_task).options(num_gpus=1, num_cpus=0).remote(spec, "cuda"))
    small = per_chunk >= len(sweep_cells(spec)) / SMALL_SHARE  # the whole sweep in a quarter of the budget
    return per_chunk, (SMALL_SHARE if small else 1.0)


def _get(ray, ref):
    """ray.get, a task's error re-raised as its cause (a CausalPrefError stays one line)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise
    except ray.exceptions.RayError as error:  # a worker that died more than MAX_RETRIES times, out of memory
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CausalPrefError(f"a Ray task failed ({type(error).__name__}): {first}") from None


def run_sweep_on_ray(spec, progress=None, chunks=None, choice=None):
    """The sweep of `spec`, its chunks as Ray tasks: the same Sweep as run/sweep.py run_sweep."""
    from causalpref.run.sweep import assemble_sweep, chunk_count, chunk_of, detail_tables, sweep_cells

    ray = connect(choice)
    dtype = device_type(spec, choice)
    per_chunk, gpus = _plan(ray, spec, dtype)
    n_chunks = chunk_count(spec, per_chunk)
    results: dict = {}
    details: dict = {t: {} for t in detail_tables(spec)[1:]}
    total, done = len(sweep_cells(spec)) * len(spec.models), 0

    def merge(rows) -> None:
        results.update(rows[0])
        for table, by in rows[1].items():
            details[table].update(by)

    todo = []
    for number in range(n_chunks):
        kept = chunks.load(number, per_chunk) if chunks is not None else None
        if kept is None:
            todo.append(number)
        else:  # finished by an earlier run (of either backend) that was stopped later
            merge(kept)
            done += len(chunk_of(spec, number, per_chunk)) * len(spec.models)
    _last_run.clear()
    if todo:
        shipped = _ship_pool(ray, spec.world)
        light = replace(spec, world=_light_world(spec.world))
        task = ray.remote(chunk_task).options(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES)
        pending = {task.remote(light, number, per_chunk, dtype, shipped): number for number in todo}
        if progress is not None:
            progress(done, total, f"{len(todo)} chunk(s) of {per_chunk} cell(s) sent to Ray")
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
                for ref in ready:
                    number = pending.pop(ref)
                    rows, where = _get(ray, ref)
                    if where["device"] != dtype:
                        raise CausalPrefError(
                            f"chunk {number + 1} ran on {where['device']}, not {dtype} as its cache key says"
                        )
                    if chunks is not None:
                        chunks.store(number, per_chunk, *rows)
                    merge(rows)
                    _last_run.append({"chunk": number, **where})
                    done += len(chunk_of(spec, number, per_chunk)) * len(spec.models)
                    if choice is not None and choice.verbose:
                        print(
                            f"  chunk {number + 1}/{n_chunks} ran on node {where['ip']} ({where['host']}, "
                            f"{where['node'][:8]}), {where['device']}, {where['seconds']:.1f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                    if progress is not None:
                        progress(
                            done, total, f"chunk {number + 1}/{n_chunks} done on {where['ip']} ({where['device']})"
                        )
                if not ready and progress is not None:  # never silent: the page's Stop is served here
                    progress(done, total, f"{len(pending)} chunk(s) training on Ray")
        except BaseException:  # stopped (Ctrl-C, the page's Stop) or failed: nothing keeps running
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    return assemble_sweep(results, details)


def interventions_task(spec, device_name: str, shipped):
    """On a worker: a whole intervention sweep (interventions/run.py) and where it ran."""
    import ray

    from causalpref.interventions.run import check_intervention_memory, run_interventions

    started = time.perf_counter()
    if shipped is not None:
        _adopt_pool(spec.base.world, shipped)
    spec = replace(spec, base=replace(spec.base, device=device_name))
    check_intervention_memory(spec)  # this worker's memory, not the driver's
    sweep = run_interventions(spec)
    where = {"ip": ray.util.get_node_ip_address(), "device": device_name, "seconds": time.perf_counter() - started}
    return sweep, where


def run_interventions_on_ray(spec, progress=None, choice=None):
    """An intervention sweep as one Ray task. One task, not one per strategy or seed: the sweep
    trains its waves as single stacks, and a different split would change the last float bits,
    so one task keeps the local backend's numbers exactly while placing the work (a GPU, a node)."""
    ray = connect(choice)
    dtype = device_type(spec.base, choice)
    gpus = 1.0 if dtype == "cuda" else 0.0
    shipped = _ship_pool(ray, spec.base.world)
    light = replace(spec, base=replace(spec.base, world=_light_world(spec.base.world)))
    task = ray.remote(interventions_task).options(num_cpus=1, num_gpus=gpus, max_retries=MAX_RETRIES)
    ref = task.remote(light, dtype, shipped)
    try:
        while True:
            ready, _ = ray.wait([ref], timeout=WAIT_S)
            if ready:
                sweep, where = _get(ray, ref)
                break
            if progress is not None:  # never silent: the page's Stop is served here
                progress(0, 1, "the intervention sweep is training on Ray")
    except BaseException:  # stopped or failed: nothing keeps running
        ray.cancel(ref, force=True)
        raise
    if choice is not None and choice.verbose:
        print(
            f"  interventions ran on node {where['ip']}, {where['device']}, {where['seconds']:.1f} s", file=sys.stderr
        )
    if progress is not None:
        progress(1, 1, f"done on {where['ip']} ({where['device']})")
    return sweep
