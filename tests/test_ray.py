"""The Ray backend (run/ray_backend.py) gives the local backend's tables, byte for byte.

One local Ray with 2 CPUs serves the first tests, then a two-node cluster on this machine
(Ray's own `ray.cluster_utils.Cluster` harness) the last ones: each is started once. Ray is in requirements.txt, so these run in CI, never skipped.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import ray

from causalpref.cli import main
from causalpref.errors import CausalPrefError
from causalpref.models import ModelConfig
from causalpref.run import backends, ray_backend
from causalpref.run import sweep as sweep_module
from causalpref.run.cache import ResultCache
from causalpref.run.cached import load_cached, run_cached
from causalpref.run.chunks import ChunkStore
from causalpref.run.specs import Exp1Spec, Exp2Sizes, Exp2Spec, SplitSizes
from causalpref.run.sweep import run_sweep
from causalpref.train.loop import TrainConfig

SIZES = SplitSizes(train=300, val=100, id=200, ood=200)
ONE_CELL = SIZES.total_pairs() * 2 * 32 * 4  # bytes of one cell's pairs at the default d = 32


def csv_text(sweep) -> dict[str, str]:
    tables = {"results": sweep.results, **sweep.details}
    return {name: frame.to_csv(index=False) for name, frame in tables.items()}


def small_exp1(**changes) -> Exp1Spec:
    return replace(Exp1Spec(rhos=(0.3, 0.9), seeds=(0, 1), sizes=SIZES, device="cpu"), **changes)


class Rays:
    """One Ray at a time in this process: a local one, then a two-node cluster on this machine."""

    def __init__(self):
        self.cluster = None
        self.mode = None

    def local(self):
        if self.mode != "local":
            self.stop()
            ray_backend.connect(backends.Choice("ray"), num_cpus=2)
            self.mode = "local"
        return backends.choose("ray")

    def two_nodes(self):
        if self.mode != "cluster":
            from ray.cluster_utils import Cluster

            self.stop()
            self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            self.cluster.add_node(num_cpus=1)
            self.cluster.wait_for_nodes()
            self.mode = "cluster"
        return backends.choose("ray", self.cluster.address)

    def stop(self):
        ray_backend.shutdown()
        if ray.is_initialized():
            ray.shutdown()
        if self.cluster is not None:
            self.cluster.shutdown()
            self.cluster = None
        self.mode = None


@pytest.fixture(scope="module")
def rays():
    manager = Rays()
    yield manager
    manager.stop()
    backends.reset()


@pytest.fixture(autouse=True)
def forget_the_choice():
    """A test's --backend (main() keeps it for the process) does not leak into the next test."""
    yield
    backends.reset()


@pytest.fixture
def local_choice():
    yield backends.choose("local")


def _chunk_processes() -> list[int]:
    """Worker processes running a chunk now (Ray titles them ray::chunk_task)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if title.startswith(b"ray::chunk_task"):
            found.append(int(entry.name))
    return found


# ---------------------------------------------------------------------------------------------
# bad input: one line, quickly, before any Ray is started here


def test_an_unreachable_address_is_one_line_within_seconds(capsys):
    started = time.perf_counter()
    code = main(["exp1", "--seeds", "1", "--backend", "ray", "--address", "127.0.0.1:9", "--no-cache"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and time.perf_counter() - started < 10
    assert len(err) == 1 and err[0].startswith("error: cannot reach Ray at 127.0.0.1:9"), err


def test_an_address_alone_means_ray_and_local_with_an_address_is_refused(monkeypatch, capsys):
    monkeypatch.setenv(backends.ADDRESS_ENV, "10.0.0.1:6379")
    assert backends.current() == backends.Choice("ray", "10.0.0.1:6379")
    assert main(["exp1", "--backend", "local", "--address", "127.0.0.1:9"]) == 2
    assert "--address 127.0.0.1:9 is for --backend ray" in capsys.readouterr().err
    monkeypatch.setenv(backends.BACKEND_ENV, "dask")
    monkeypatch.delenv(backends.ADDRESS_ENV)
    with pytest.raises(CausalPrefError, match="CAUSALPREF_BACKEND must be one of"):
        backends.current()


def test_ray_missing_names_the_install_step(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # import ray -> ImportError
    assert main(["exp1", "--seeds", "1", "--backend", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --backend ray needs Ray") and "pip install ray==2.60.0" in err


# ---------------------------------------------------------------------------------------------
# a local Ray with 2 CPUs


def test_interactive_exp1_sweep_on_ray_is_byte_identical_and_shares_the_cache(rays, tmp_path, local_choice):
    spec = Exp1Spec(device="cpu")  # the interactive default: one chunk
    local_cache = ResultCache(tmp_path / "local")
    local, _ = run_cached("exp1", spec, local_cache)
    rays.local()
    on_ray, was_cached = run_cached("exp1", spec, ResultCache(tmp_path / "ray"))
    assert not was_cached and csv_text(on_ray) == csv_text(local)
    assert [chunk["device"] for chunk in ray_backend.last_run()] == ["cpu"]
    # the cache written by one backend is read by the other: same keys
    assert csv_text(load_cached("exp1", spec, local_cache)) == csv_text(local)
    backends.choose("local")
    assert csv_text(load_cached("exp1", spec, ResultCache(tmp_path / "ray"))) == csv_text(local)


def test_an_intervention_sweep_on_ray_is_byte_identical_and_shares_the_cache(rays, tmp_path, local_choice, capsys):
    from causalpref.interventions.run import load_cached as load_interventions
    from causalpref.interventions.run import run_interventions_cached
    from causalpref.interventions.spec import default_spec

    base = Exp1Spec(rhos=(0.9,), seeds=(0,), sizes=SIZES, device="cpu", train=TrainConfig(epochs=2))
    spec = default_spec("exp1", base=base, budgets=(0, 20), rounds=2, strategies=("observational", "active"))
    local, _ = run_interventions_cached(spec, ResultCache(tmp_path / "local"))
    backends.choose("ray", verbose=True)
    rays.local()
    backends.choose("ray", verbose=True)
    on_ray, was_cached = run_interventions_cached(spec, ResultCache(tmp_path / "ray"))
    assert not was_cached and csv_text(on_ray) == csv_text(local)
    assert "interventions ran on node" in capsys.readouterr().err  # it really ran as a Ray task
    backends.choose("local")
    assert csv_text(load_interventions(spec, ResultCache(tmp_path / "ray"))) == csv_text(local)


def test_small_exp2_sweep_in_several_chunks_on_ray_is_byte_identical(rays, monkeypatch, local_choice):
    spec = Exp2Spec(
        rhos=(0.6, 1.0),
        seeds=(0, 1),
        sizes=Exp2Sizes(train=300, val=100, test=200),
        model=ModelConfig(hidden=32, latent=16),
        train=TrainConfig(lr=1e-3, epochs=3, batch_size=64),
        device="cpu",
    )  # base, multihead and adversarial (its game trace too)
    two_cells = 2 * spec.sizes.total_pairs() * 2 * spec.world.dim * 4
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", two_cells)
    local = run_sweep(spec)
    on_ray = ray_backend.run_sweep_on_ray(spec, choice=rays.local())
    assert len(ray_backend.last_run()) == 2
    assert set(on_ray.details) == set(local.details) and "game" in local.details
    assert csv_text(on_ray) == csv_text(local)


def test_resume_works_across_backends(rays, tmp_path, monkeypatch, local_choice):
    """Chunks finished by a stopped local run are not trained again on Ray, and vice versa."""
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", ONE_CELL)
    spec = small_exp1()
    whole = run_sweep(spec)
    store = ChunkStore(tmp_path, "sweep")

    class Stop(Exception):
        pass

    def stop_after_one_chunk(done, total, message):
        # the last epoch's fractional progress reaches len(models) before chunk 0 is stored:
        # stop once it is on disk, not by the count
        if store.load(0, 1) is not None:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(spec, progress=stop_after_one_chunk, chunks=store)
    resumed = ray_backend.run_sweep_on_ray(spec, chunks=store, choice=rays.local())
    assert sorted(chunk["chunk"] for chunk in ray_backend.last_run()) == [1, 2, 3]
    assert csv_text(resumed) == csv_text(whole)
    backends.choose("local")
    assert csv_text(run_sweep(spec, chunks=store)) == csv_text(whole)  # every chunk stored now


def test_a_stopped_sweep_cancels_its_ray_tasks(rays, monkeypatch, local_choice):
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", ONE_CELL)
    spec = small_exp1(train=TrainConfig(lr=1e-3, epochs=40, batch_size=32), seeds=(0, 1, 2))

    def stop(done, total, message):
        if _chunk_processes():  # a chunk is training: stop now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ray_backend.run_sweep_on_ray(spec, progress=stop, choice=rays.local())
    deadline = time.monotonic() + 20
    while _chunk_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _chunk_processes() == [], "cancelled tasks still running"
    assert len(ray_backend.last_run()) < 6


def test_a_worker_killed_mid_sweep_is_retried_and_the_csv_is_the_same(rays, monkeypatch, local_choice):
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", ONE_CELL)
    spec = small_exp1(train=TrainConfig(lr=1e-3, epochs=15, batch_size=32))
    local = run_sweep(spec)
    killed = []

    def killer():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            running = _chunk_processes()
            if running:
                time.sleep(0.3)  # mid-task
                try:
                    os.kill(running[0], signal.SIGKILL)
                    killed.append(running[0])
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    on_ray = ray_backend.run_sweep_on_ray(spec, choice=rays.local())
    thread.join()
    assert killed, "no worker was killed"
    assert csv_text(on_ray) == csv_text(local)


def test_a_worker_error_comes_back_as_its_one_line_cause(rays, capsys, local_choice):
    rays.local()
    code = main(["exp1", "--seeds", "1", "--rho", "0.9", "--n-train", "100000", "--no-cache", "--backend", "ray"])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error: ")]  # after the progress lines, one error
    assert code == 2 and errors == [err[-1]] and "pool has only" in err[-1], err
    assert not any("Traceback" in line or "RayTaskError" in line for line in err), err


def test_cuda_on_a_cluster_without_gpus_is_a_clear_message(rays, capsys, local_choice):
    rays.local()
    if ray.cluster_resources().get("GPU"):
        pytest.skip("this Ray has a GPU")
    assert main(["exp1", "--seeds", "1", "--device", "cuda", "--backend", "ray", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: the Ray cluster at this machine has no GPUs" in err


def test_cli_verbose_says_where_each_chunk_ran(rays, capsys, tmp_path, local_choice):
    rays.local()
    out = tmp_path / "ray.csv"
    assert main(["exp1", "--seeds", "1", "--rho", "0.9", "--backend", "ray", "--verbose", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "backend: Ray at this machine: 2 CPUs" in err
    node = ray.nodes()[0]["NodeManagerAddress"]  # Ray 2.60 binds the machine's address, not 127.0.0.1
    assert f"chunk 1/1 ran on node {node}" in err and ", cpu, " in err


def test_embed_on_ray_embeds_only_what_the_cache_lacks_and_matches_in_process(rays, tmp_path, monkeypatch, capsys):
    """`embed --backend ray`: Ray Data over an actor pool, only the texts the cache lacks,
    written by the driver; the vectors equal the in-process encoder's within 1e-6."""
    from causalpref.data.embed import Encoder, text_key
    from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache

    rows = [
        ["What is the capital of France?", "Paris.", "Lyon, I think.", 1],
        ["Do vaccines cause autism?", "No. Large studies find no link between vaccines and autism.", "Maybe.", 1],
        ["hi", "Hello! How can I help?", "What do you want?", 1],
        ["Is raw cookie dough safe?", "Not quite: raw flour and eggs can carry bacteria. " * 4, "Yes.", 1],
    ]
    data = tmp_path / "pairs.csv"
    data.write_text(
        "prompt,response_a,response_b,label\n" + "".join(",".join(f'"{v}"' for v in row) + "\n" for row in rows)
    )
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(tmp_path / "cache"))
    encoder = Encoder()
    prompts = [r[0] for r in rows] * 2
    responses = [r[1] for r in rows] + [r[2] for r in rows]
    expected = encoder.encode(prompts, responses)  # in process, every text in one call
    cache = EmbeddingCache.for_encoder(encoder)
    embed_with_cache(encoder, prompts[:3], responses[:3], cache)  # three already cached
    rays.local()
    sent = []
    real_put = EmbeddingCache.put

    def put(self, keys, vectors):  # the driver's writes (Ray's actors never open the cache)
        sent.extend(keys)
        return real_put(self, keys, vectors)

    monkeypatch.setattr(EmbeddingCache, "put", put)
    assert main(["embed", "--data", str(data), "--backend", "ray"]) == 0
    assert "4 pairs of" in capsys.readouterr().out
    keys = [text_key(t) for t in encoder.format_texts(prompts, responses)]
    assert sorted(sent) == sorted(keys[3:])  # only the five missing, each once
    found, vectors = EmbeddingCache.for_encoder(encoder).get(keys)
    assert found.all()
    assert np.abs(vectors - expected).max() <= 1e-6


ROOT = Path(__file__).resolve().parents[1]


def test_the_app_sidebar_shows_the_ray_backend_beside_the_device_badge(rays, monkeypatch):
    from streamlit.testing.v1 import AppTest

    rays.local()
    backends.reset()  # the environment decides, as in the app's server
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    captions = [c.value for c in at.sidebar.caption]
    assert not any("Training backend" in c for c in captions)  # local: the device badge alone
    monkeypatch.setenv(backends.ADDRESS_ENV, "auto")  # the Ray this process runs on
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    captions = [c.value.replace("\\", "") for c in at.sidebar.caption]
    assert any(c.startswith("Compute device: ") for c in captions)
    assert "Training backend: Ray at this machine: 2 CPUs, 0 GPUs, 1 node" in captions, captions


def test_a_page_sweep_runs_on_the_cluster_named_by_the_environment(rays, monkeypatch):
    from streamlit.testing.v1 import AppTest

    rays.local()
    backends.reset()  # the environment decides, as in the app's server
    monkeypatch.setenv(backends.ADDRESS_ENV, "auto")
    page = AppTest.from_file(str(ROOT / "app_pages" / "2_Correlation_shift.py"), default_timeout=180)
    at = page.run()
    assert not at.exception and not at.error
    assert [chunk["device"] for chunk in ray_backend.last_run()] == ["cpu"]  # its one chunk, on Ray
    assert 50 < float(next(m.value for m in at.metric if m.label == "ID accuracy").rstrip("%")) < 100


# ---------------------------------------------------------------------------------------------
# two nodes on this machine


def test_a_two_node_cluster_shares_the_chunks_and_gives_the_same_csv(rays, monkeypatch, local_choice):
    monkeypatch.setattr(sweep_module, "CPU_CHUNK_BYTES", ONE_CELL)
    spec = small_exp1(train=TrainConfig(lr=1e-3, epochs=6, batch_size=32))
    local = run_sweep(spec)
    choice = rays.two_nodes()
    assert ray_backend.describe(choice).endswith("2 CPUs, 0 GPUs, 2 nodes")
    on_ray = ray_backend.run_sweep_on_ray(spec, choice=choice)
    nodes = {chunk["node"] for chunk in ray_backend.last_run()}
    assert len(ray_backend.last_run()) == 4 and len(nodes) == 2, ray_backend.last_run()
    assert csv_text(on_ray) == csv_text(local)
