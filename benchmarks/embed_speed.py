"""Benchmark: the project's embedding pipeline against the bare transformers model, in one run.

    PYTHONPATH=. python benchmarks/embed_speed.py            # about ten minutes on an idle 2-core CPU
    PYTHONPATH=. python benchmarks/embed_speed.py --quick    # fewer texts and repeats: a few minutes

Prints, from this run only (no number is remembered or typed anywhere):

(a) the bare model: `AutoTokenizer` + `AutoModel.from_pretrained` of the same model folder,
    each batch of 32 texts in input order tokenized with padding and truncation to the same
    max_length, a forward pass under `torch.inference_mode`, masked mean pooling and L2
    normalisation (what the folder's sentence-transformers config asks for): the
    straightforward in-process baseline;
(b) the project's pipeline: `Encoder.encode` of the same (prompt, response) pairs, no cache;
    both on short texts (TruthfulQA question + answer, 2,003 of them) and on long ones
    (HH-RLHF helpful-base dialogues, 300), in texts/s, with the ratio pipeline / bare
    (target: >= 1.0 on both) and the largest difference between their vectors (the baseline
    cuts long texts from the left like the pipeline, so both compute the same vectors);
    and `embed_with_cache` into an empty cache folder (the pipeline as RealPool.build runs
    it, cache writes included); with --st also sentence-transformers (`encode`, batches of
    32), timed the same way;
(c) a fully cached `embed_with_cache` of all those texts (the cache (b) filled) in a fresh
    process: the seconds of `Encoder(...)` + opening the cache + the lookup, the child's
    imports and the whole process's wall time (Python and torch start-up included), and
    whether the model's weights were loaded (target: no);
(d) reopening an embedding cache of N random 384-d vectors in shards of 10,000 and looking
    all of them up (default N = 100,000).

The texts are timed slice by slice (256 short or 64 long texts, multiples of the batch size,
so the bare model's batches are those of the whole list; the pipeline sorts each slice, not
the whole list, which if anything understates it): per slice each way runs --repeats times,
the ways interleaved in rotating order, so that they meet the same load of the machine, and
a way's time is the sum of its best time per slice (the ratio of the median times and of
the process CPU times are printed too). The one-time model loads and a warm-up batch are
outside the timings, and every way uses the same number of torch threads (--threads,
default: torch's). The data files are read from ../shared/data when present, else texts
of similar lengths are generated from a fixed seed (the table says which). Everything the
run caches goes to a temporary folder, never to cache/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
SHORT_FILE = SHARED / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz"
LONG_FILE = SHARED / "hh-rlhf" / "helpful-base" / "test.jsonl.gz"
ASSISTANT = "\n\nAssistant:"
BARE_BATCH = 32
SLICE = {"short": 8 * BARE_BATCH, "long": 2 * BARE_BATCH}  # texts per timed slice
WAYS = ("bare", "pipe", "cache")


# ---------------------------------------------------------------- texts


def _words(rng, n: int) -> str:
    vocab = (
        "the a of to and in is it that for you was on are with as be at this have from or one had by "
        "word but not what all were we when your can said there use an each which she do how their if "
        "will up other about out many then them these so some her would make like him into time has look "
        "two more write go see number no way could people my than first water been call who oil its now "
        "find long down day did get come made may part vaccine health history country science answer"
    ).split()
    return " ".join(vocab[i] for i in rng.integers(0, len(vocab), n))


def short_pairs(n: int) -> tuple[list[str], list[str], str]:
    if SHORT_FILE.is_file():
        prompts, responses, seen = [], [], set()
        with gzip.open(SHORT_FILE, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                pair = (str(row["question"]), str(row["answer"]))
                if pair not in seen:
                    seen.add(pair)
                    prompts.append(pair[0])
                    responses.append(pair[1])
                if len(prompts) == n:
                    return prompts, responses, f"TruthfulQA question + answer ({SHORT_FILE.name})"
    import numpy as np

    rng = np.random.default_rng(2003)
    prompts = [_words(rng, int(rng.integers(6, 20))) + "?" for _ in range(n)]
    responses = [_words(rng, int(rng.integers(2, 25))) + "." for _ in range(n)]
    return prompts, responses, "generated short texts (seed 2003; TruthfulQA file not found)"


def long_pairs(n: int) -> tuple[list[str], list[str], str]:
    if LONG_FILE.is_file():
        prompts, responses = [], []
        with gzip.open(LONG_FILE, "rt", encoding="utf-8") as handle:
            for line in handle:
                dialogue = json.loads(line)["chosen"]
                cut = dialogue.rfind(ASSISTANT)
                if cut < 0:
                    continue
                prompts.append(dialogue[:cut].strip())
                responses.append(dialogue[cut + len(ASSISTANT) :].strip())
                if len(prompts) == n:
                    return prompts, responses, f"HH-RLHF helpful-base dialogues ({LONG_FILE.name})"
    import numpy as np

    rng = np.random.default_rng(300)
    prompts, responses = [], []
    for _ in range(n):
        turns = int(rng.integers(1, 5))
        lines = []
        for t in range(turns):
            lines.append("Human: " + _words(rng, int(rng.integers(8, 40))) + "?")
            if t < turns - 1:
                lines.append("Assistant: " + _words(rng, int(rng.integers(10, 60))) + ".")
        prompts.append("\n\n".join(lines))
        responses.append(_words(rng, int(rng.integers(10, 80))) + ".")
    return prompts, responses, "generated dialogues (seed 300; HH-RLHF file not found)"


# ---------------------------------------------------------------- the two ways


def bare_model(model_dir: str):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    tokenizer.truncation_side = "left"  # keep the end, as the pipeline does: the same vectors
    model = AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
    return tokenizer, model


def bare_encode(tokenizer, model, texts: list[str], max_length: int):
    import numpy as np
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), BARE_BATCH):
            batch = tokenizer(
                texts[start : start + BARE_BATCH],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(vectors, dim=-1).numpy())
    return np.concatenate(out)


# ---------------------------------------------------------------- (c) cached embed, child side


def cached_child(job_path: str) -> None:
    """Run in a fresh process: a fully cached embed, reporting its timings as JSON on stdout."""
    job = json.loads(Path(job_path).read_text())
    started = time.perf_counter()
    import torch  # noqa: F401 - what a caller that trains (the app, the CLI) has imported anyway

    from causalpref.data.embed import Encoder
    from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache

    imported = time.perf_counter()
    loads = []
    real = Encoder._load_model

    def counting(self):
        loads.append(1)
        return real(self)

    Encoder._load_model = counting
    t0 = time.perf_counter()
    encoder = Encoder(job["model_dir"], max_length=job["max_length"])
    t1 = time.perf_counter()
    cache = EmbeddingCache(encoder.fingerprint, encoder.dim, root=job["cache_root"])
    t2 = time.perf_counter()
    vectors = embed_with_cache(encoder, job["prompts"], job["responses"], cache)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "imports": imported - started,
                "encoder": t1 - t0,
                "open": t2 - t1,
                "lookup": t3 - t2,
                "total": t3 - t0,
                "n": len(vectors),
                "model_loads": len(loads),
                "model_loaded": bool(getattr(encoder, "model_loaded", True)),
            }
        )
    )


def cached_embed(model_dir: str, max_length: int, prompts, responses, root: Path, tmp: Path) -> dict:
    """A fully cached embed_with_cache of the texts in `root`, in a fresh process."""
    job = tmp / "job.json"
    job.write_text(
        json.dumps(
            {
                "model_dir": model_dir,
                "max_length": max_length,
                "cache_root": str(root),
                "prompts": list(prompts),
                "responses": list(responses),
            }
        )
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--cached-child", str(job)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the cached-embed child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = wall
    return result


# ---------------------------------------------------------------- (d) reload


def reload_cache(n: int, tmp: Path, repeats: int) -> tuple[float, float, float]:
    import hashlib

    import numpy as np

    from causalpref.data.embed_cache import EmbeddingCache

    dim, fp = 384, "ab" * 32
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    vectors = np.random.default_rng(0).standard_normal((n, dim), dtype=np.float32)
    root = tmp / "reload"
    cache = EmbeddingCache(fp, dim, root=root)
    for start in range(0, n, 10_000):
        cache.put(keys[start : start + 10_000], vectors[start : start + 10_000])
    del cache
    opens, lookups, totals = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        reopened = EmbeddingCache(fp, dim, root=root)
        t1 = time.perf_counter()
        found, got = reopened.get(keys)
        t2 = time.perf_counter()
        assert found.all() and np.array_equal(got, vectors)
        opens.append(t1 - t0)
        lookups.append(t2 - t1)
        totals.append(t2 - t0)
        del reopened, found, got
    best = min(range(repeats), key=totals.__getitem__)
    return totals[best], opens[best], lookups[best]


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts (500 short, 100 long) and 2 repeats")
    parser.add_argument("--short", type=int, help="number of short texts (default 2003)")
    parser.add_argument("--long", type=int, help="number of long dialogue texts (default 300)")
    parser.add_argument("--repeats", type=int, help="timed runs of each way (default 3; the best counts)")
    parser.add_argument("--threads", type=int, help="torch threads for both ways (default: torch's)")
    parser.add_argument("--max-length", type=int, default=256, help="tokens per text (default 256, as RealPool)")
    parser.add_argument("--model-dir", help="model folder (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--reload-n", type=int, help="vectors for the reload timing (default 100000)")
    parser.add_argument("--st", action="store_true", help="time sentence-transformers too (slower run)")
    parser.add_argument("--cached-child", metavar="JOB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cached_child:
        cached_child(args.cached_child)
        return
    n_short = args.short or (500 if args.quick else 2003)
    n_long = args.long or (100 if args.quick else 300)
    repeats = args.repeats or (2 if args.quick else 3)
    reload_n = args.reload_n or (20_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="embed-speed-") as tmp:
        # every cache this run writes (embeddings, the weights' digest) goes here, not to cache/
        os.environ["CAUSALPREF_CACHE_DIR"] = str(Path(tmp) / "cache")
        run(args, n_short, n_long, repeats, reload_n, Path(tmp))


def run(args, n_short: int, n_long: int, repeats: int, reload_n: int, tmp: Path) -> None:
    run_started = time.perf_counter()
    import numpy as np
    import torch

    from causalpref.data.embed import Encoder, check_model_dir, text_key
    from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    model_dir = str(check_model_dir(args.model_dir))
    sets = {"short": short_pairs(n_short), "long": long_pairs(n_long)}

    tokenizer, model = bare_model(model_dir)
    encoder = Encoder(model_dir, max_length=args.max_length)
    st = None
    if args.st:
        try:
            from sentence_transformers import SentenceTransformer

            st = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
            st.max_seq_length = args.max_length
        except Exception as exc:  # noqa: BLE001 - optional
            print(f"(sentence-transformers skipped: {type(exc).__name__}: {exc})")
    # warm-up: one-time costs (the pipeline's lazy model load, first forward) outside the timings
    warm_p, warm_r, _ = sets["short"]
    warm = encoder.format_texts(warm_p[:64], warm_r[:64])
    bare_encode(tokenizer, model, warm, args.max_length)
    encoder.encode(warm_p[:64], warm_r[:64])
    if st is not None:
        st.encode(warm, batch_size=BARE_BATCH)

    rows, stored = [], []
    for name, (prompts, responses, source) in sets.items():
        texts = encoder.format_texts(prompts, responses)
        tokens = sum(len(s) for s in encoder.tokenize(texts))
        # Timed slice by slice (a multiple of the batch size: the bare model's batches are those
        # of the whole list), each way `repeats` times per slice, interleaved, so that all ways
        # of a slice run within seconds of each other; a way's time is the sum of its best per slice.
        step = SLICE[name]
        ways = WAYS + (("st",) if st is not None else ())
        wall = {way: [] for way in ways}  # per slice: the times of the repeats
        cpu = {way: [] for way in ways}
        out = {way: [] for way in ways}
        for first in range(0, len(texts), step):
            part = slice(first, first + step)
            p_part, r_part, t_part = prompts[part], responses[part], texts[part]
            times = {way: [] for way in ways}
            cpus = {way: [] for way in ways}
            for r in range(repeats):  # the order rotating from one round to the next
                for way in ways[r % len(ways) :] + ways[: r % len(ways)]:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    if way == "bare":
                        vectors = bare_encode(tokenizer, model, t_part, args.max_length)
                    elif way == "pipe":
                        vectors = encoder.encode(p_part, r_part)
                    elif way == "st":
                        vectors = st.encode(t_part, batch_size=BARE_BATCH)
                    else:  # into an empty cache folder each time
                        root = tmp / "fill"
                        shutil.rmtree(root, ignore_errors=True)
                        cache = EmbeddingCache(encoder.fingerprint, encoder.dim, root=root)
                        vectors = embed_with_cache(encoder, p_part, r_part, cache)
                    times[way].append(time.perf_counter() - started)
                    cpus[way].append(time.process_time() - started_cpu)
                    if r == 0:
                        out[way].append(vectors)
            for way in ways:
                wall[way].append(times[way])
                cpu[way].append(cpus[way])
        bare_vectors, pipe_vectors, cached_vectors = (np.concatenate(out[way]) for way in WAYS)

        def total(way, how=min, of=wall):
            return sum(how(per_slice) for per_slice in of[way])

        stored.append((texts, cached_vectors))
        n = len(texts)
        rows.append(
            {
                "name": name,
                "source": source,
                "n": n,
                "tokens": tokens / n,
                "bare": n / total("bare"),
                "pipe": n / total("pipe"),
                "ratio": total("bare") / total("pipe"),
                "ratio_median": total("bare", statistics.median) / total("pipe", statistics.median),
                "ratio_cpu": total("bare", of=cpu) / total("pipe", of=cpu),
                "fill": n / total("cache"),
                "ratio_fill": total("bare") / total("cache"),
                "st": n / total("st") if st is not None else None,
                "ratio_st": total("st") / total("pipe") if st is not None else None,
                "diff": float(np.abs(pipe_vectors - bare_vectors).max()),
                "same": bool(np.allclose(cached_vectors, pipe_vectors, rtol=0, atol=1e-5)),
            }
        )
    del model, st
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    prompts = sets["short"][0] + sets["long"][0]
    responses = sets["short"][1] + sets["long"][1]
    all_root = tmp / "embeddings-all"  # what embed_with_cache stored above, both lengths in one cache
    everything = EmbeddingCache(encoder.fingerprint, encoder.dim, root=all_root)
    for texts, vectors in stored:
        everything.put([text_key(t) for t in texts], vectors)
    cached = cached_embed(model_dir, args.max_length, prompts, responses, all_root, tmp)
    reload_total, reload_open, reload_lookup = reload_cache(reload_n, tmp, repeats)

    print()
    print(
        f"Embedding benchmark: {Path(model_dir).name} ({encoder.dim}-d), max_length {args.max_length}, "
        f"torch threads {threads} for every way, device {encoder.device}, best of {repeats}"
    )
    if load_before is not None:
        print(f"  load average of the machine: {load_before:.2f} at the start, {load_after:.2f} after the timings")
    for row in rows:
        print(f"  {row['name']:5s}: {row['n']:,} texts, {row['tokens']:.0f} tokens on average: {row['source']}")
    print()
    print(
        f"{'texts':6s} {'bare/s':>7s} {'pipeline/s':>10s} {'pipeline/bare':>13s} {'median':>7s} {'CPU-time':>8s}"
        f" {'+cache/s':>8s} {'+cache/bare':>11s} {'max|diff|':>9s}"
        + (f" {'sent-tr./s':>10s} {'pipeline/st':>11s}" if args.st else "")
    )
    for row in rows:
        st_cols = f" {row['st']:10.1f} {row['ratio_st']:10.2f}x" if row["st"] is not None else ""
        print(
            f"{row['name']:6s} {row['bare']:7.1f} {row['pipe']:10.1f} {row['ratio']:12.2f}x "
            f"{row['ratio_median']:6.2f}x {row['ratio_cpu']:7.2f}x {row['fill']:8.1f} {row['ratio_fill']:10.2f}x "
            f"{row['diff']:9.1e}{st_cols}"
        )
    print(
        "texts/s. pipeline: Encoder.encode; pipeline/bare: of the best wall times (target >= 1.00 on both);\n"
        "median: of the median wall times; CPU-time: of the best process CPU times; +cache: embed_with_cache\n"
        "into an empty cache (cache writes included); max|diff|: the largest difference between the\n"
        "pipeline's and the bare model's vectors" + ("; sent-tr.: sentence-transformers" if args.st else "")
    )
    if not all(row["same"] for row in rows):
        print("WARNING: embed_with_cache gave other vectors than Encoder.encode (beyond 1e-5)")
    print()
    loaded = cached["model_loads"] or cached["model_loaded"]
    print(
        f"cached embed of all {cached['n']:,} texts in a fresh process: {cached['total']:.2f} s, model weights "
        f"loaded: {'YES' if loaded else 'no'} (target: no)\n"
        f"  Encoder() {cached['encoder']:.2f} s (importing transformers included), fingerprint + cache open "
        f"{cached['open']:.2f} s, lookup {cached['lookup']:.2f} s; before it, importing torch and causalpref "
        f"{cached['imports']:.2f} s; the whole process {cached['process']:.2f} s"
    )
    print(
        f"reload of {reload_n:,} cached 384-d vectors ({-(-reload_n // 10_000)} shards): {reload_total:.3f} s "
        f"(open with checksums {reload_open:.3f} s + lookup of all {reload_lookup:.3f} s)"
    )
    print(f"(this run took {time.perf_counter() - run_started:.0f} s)")


if __name__ == "__main__":
    main()
