"""`embed --backend ray`: the encoder as a Ray Data `map_batches` over an actor pool.

What the driver does, in order: format every (prompt, response) as the in-process path does
(data/embed_cache.py `embed_with_cache`), look the keys up in the project's embedding cache,
and send only the distinct texts the cache lacks, longest first, so that each batch holds
texts of similar length (little padding). Each actor of the pool loads the encoder once (one
per GPU on a cluster with GPUs, else one per CPU) and embeds whole batches; its fingerprint
must equal the driver's (the same weights, pooling, max_length and normalisation), else the
vectors would be cached under the wrong key. The vectors stream back to the driver, which
alone writes them to the cache, a chunk at a time as in-process: resumable (an interrupted
run keeps what it stored), checksummed (EmbeddingCache.put).

Numbers: the same encoder on the same texts, batched differently, so within float rounding of
the in-process vectors (about 1e-7 on the CPU); a GPU worker runs bf16 under autocast as the
in-process encoder does on a GPU. The model folder must be at the same path on every node
(the packaged MiniLM is, wherever `pip install -r requirements.txt` ran).
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from causalpref.data.embed import Encoder
from causalpref.data.embed_cache import CHUNK_SIZE, EmbeddingCache, Lacking, Progress
from causalpref.errors import CausalPrefError
from causalpref.run.cache import warn_unwritable

BLOCK_BATCHES = 4  # encoder batches per Ray Data block: enough blocks to keep every actor busy


class EncoderActor:
    """One encoder per actor (Ray Data builds it once and calls it per batch). Ray 2.60 logs
    one line when the pool starts ('has constructor arguments in the object store and
    max_restarts > 0', ray-project/ray#53727): harmless here, the arguments are this run's."""

    def __init__(self, settings: dict, fingerprint: str):
        import socket

        self.encoder = Encoder(**settings)
        if self.encoder.fingerprint != fingerprint:
            raise CausalPrefError(
                f"the encoder at {settings['model_dir']} on {socket.gethostname()} is not the driver's "
                f"(fingerprint {self.encoder.fingerprint[:16]}, driver {fingerprint[:16]}): "
                "install the same model folder at the same path on every node"
            )

    def __call__(self, batch: dict) -> dict:
        vectors = self.encoder.encode_texts(list(batch["text"]))
        return {"row": batch["row"], "vector": vectors}


def _pool(ray, device: str) -> tuple[int, dict]:
    """(actors, resources per actor): one per GPU when the cluster has GPUs (unless the
    encoder is asked for the CPU), else one per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if device.startswith("cuda") and not gpus:
        raise CausalPrefError(
            f"--device {device}: the Ray cluster has no GPUs; embed on the CPU (--device cpu) or add GPU nodes"
        )
    if gpus and device != "cpu":
        return gpus, {"num_gpus": 1, "num_cpus": 1}
    return max(1, int(resources.get("CPU", 1))), {"num_cpus": 1}


def embed_on_ray(
    encoder: Encoder,
    prompts: Sequence[str],
    responses: Sequence[str],
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    choice=None,
    device: str = "auto",
    dtype: str = "auto",
) -> np.ndarray:
    """`embed_with_cache` with the encoding on Ray: float32 (n, dim) in input order, every
    vector the cache lacked embedded by the actor pool and written to the cache here.
    `device` is the actors': auto (a GPU each when the cluster has GPUs), cpu or cuda."""
    lack = Lacking.of(encoder, prompts, responses, cache, progress)
    if not lack.first:
        return lack.out
    texts, keys, out, done, total = lack.texts, lack.keys, lack.out, lack.done, lack.total
    todo = lack.todo()  # length-sorted batches
    embedded = _run_pool(
        encoder, texts, todo, keys, lack.cache, out, progress, done, total, chunk_size, choice, device, dtype
    )
    missing = [i for i in todo if i not in embedded]
    if missing:  # never silently zero
        raise CausalPrefError(f"Ray returned no vector for {len(missing)} text(s), e.g. text {missing[0]}")
    lack.fill_duplicates()  # duplicates of texts embedded just now
    return out


def _run_pool(encoder, texts, todo, keys, cache, out, progress, done, total, chunk_size, choice, device, dtype) -> set:
    import pandas as pd

    from causalpref.run import backends, ray_backend

    ray_backend.connect(choice or backends.current())
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the CLI draws its own bar from `progress`
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO/WARNING lines about itself
    actors, per_actor = _pool(ray, device)
    settings = dict(
        model_dir=str(encoder.model_dir),
        pooling=encoder.pooling,
        max_length=encoder.max_length,
        device="cuda" if "num_gpus" in per_actor else "cpu",
        dtype=dtype,
        batch_size=encoder.batch_size,
        normalize=encoder.normalize,
    )
    block = encoder.batch_size * BLOCK_BATCHES
    frames = [
        pd.DataFrame({"row": np.asarray(part, np.int64), "text": [texts[i] for i in part]})
        for part in (todo[start : start + block] for start in range(0, len(todo), block))
    ]
    dataset = ray.data.from_pandas(frames).map_batches(
        EncoderActor,
        fn_constructor_kwargs={"settings": settings, "fingerprint": encoder.fingerprint},
        batch_size=encoder.batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(actors, len(frames))),
        **per_actor,
    )
    embedded: set = set()
    waiting: list[tuple[np.ndarray, np.ndarray]] = []
    storing = [True]

    def store() -> None:
        if not waiting:
            return
        rows = np.concatenate([r for r, _ in waiting])
        vectors = np.concatenate([v for _, v in waiting])
        waiting.clear()
        if storing[0]:
            try:
                cache.put([keys[i] for i in rows], vectors)
            except OSError as error:  # an unwritable cache costs the shortcut, not the run
                warn_unwritable(cache.root, error)
                storing[0] = False

    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            rows, vectors = np.asarray(batch["row"], np.int64), np.asarray(batch["vector"], np.float32)
            out[rows] = vectors
            embedded.update(rows.tolist())
            waiting.append((rows, vectors))
            if sum(len(r) for r, _ in waiting) >= chunk_size:
                store()
            if progress is not None:
                progress(done + len(embedded), total)
    except Exception as error:  # noqa: BLE001 - an actor's error: its one-line cause
        cause = _cause(error)
        if cause is not None:
            raise cause from None
        raise
    finally:
        store()  # what came back is kept, even when stopped: a rerun embeds only the rest
    return embedded


def _cause(error: BaseException):
    """The CausalPrefError a Ray Data failure wraps (an actor's), if any."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, CausalPrefError):
            return error
        inner = getattr(error, "cause", None)
        error = inner if isinstance(inner, BaseException) else (error.__cause__ or error.__context__)
    return None
