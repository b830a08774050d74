"""A persistent, appendable cache of text embeddings, safe to interrupt at any point.

Layout: `<cache root>/embeddings/<fingerprint[:16]>/` (cache root: `$CAUSALPREF_CACHE_DIR`
or the repository's cache/, as for the result cache), one folder per encoder fingerprint
(`Encoder.fingerprint`: weights, config/tokenizer files, pooling, max_length,
normalisation, text format version). In it, append-only shards, each a pair of files:

- `shard-00000.npy`: float32 (m, dim), C order, written by `np.save`, read with
  `allow_pickle=False` (memory-mapped);
- `shard-00000.json`: its index entry: {"format": 1, "fingerprint": full hex, "dim", "rows",
  "dtype": "<f4", "sha256": hex of the shard's vector bytes, "keys_sha256": hex of the keys
  joined by newlines, "keys": [64-hex sha256 text keys, one per row, in row order],
  "created"}. A text key is the sha256 of the exact formatted input text (`text_key`).

Writing (`put`): under an exclusive lock on `.lock` in the folder (fcntl; none where the
platform lacks it), the shard goes to a temporary file, is fsynced and renamed into place,
then the index entry the same way, then the folder is fsynced. The index entry is the commit
record: an entry becomes visible only once both files are complete.

Opening: under the same lock (so a writer's half-finished shard is never mistaken for a
crashed one), every index entry is checked: readable JSON of this format, fingerprint and
dim; the shard present, of the recorded shape and dtype, and its sha256 and its keys'
sha256 as recorded. A shard that fails, a shard without an index entry, an index entry
without its shard and stray temporary files are warned about and removed, so a crash while
writing loses at most the batch being written. When a key is in several shards (two
processes embedding the same texts), the oldest shard's row is used. An open cache picks up
shards that others commit later (at each `get` and `put`, without a lock: an index entry is
renamed into place only after its shard), so a `put` never stores a key another writer has
already stored.

Reading vectors back costs one JSON parse of the key lists, one sha256 pass over the
memory-mapped shards and a dict lookup key -> row per text; `benchmarks/embed_speed.py`
prints the time for 100k 384-d vectors on this machine. `embed_with_cache` embeds only the
texts not found, so on fully cached texts the encoder's model is never loaded (`Encoder`
loads its weights on the first real encode).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from causalpref.data.embed import Encoder, text_key
from causalpref.errors import CausalPrefError
from causalpref.io import fsync_dir, write_atomic
from causalpref.run.cache import default_cache_root, warn_unwritable

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process lock
    fcntl = None

FORMAT = 1
DTYPE = np.dtype("<f4")
CHUNK_SIZE = 1024
_GATHER_BLOCK = 8192
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_FP_RE = re.compile(r"[0-9a-f]{16,}")
_SHARD_RE = re.compile(r"shard-(\d{5,})\.(npy|json)")

Progress = Callable[[int, int], object]


def _sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


def _keys_sha256(keys: Sequence[str]) -> str:
    return _sha256("\n".join(keys).encode("ascii"))


def _empty(rows: int, dim: int) -> np.ndarray:
    """np.empty float32 (rows, dim), allocated without numpy's transparent-huge-page hint.

    numpy madvises large arrays for huge pages; on kernels with THP defrag=madvise (common)
    the first touch then waits for memory compaction when the page cache is full of freshly
    written files (just after embedding a data set): 0.3 s instead of 0.05 s for 150 MB here."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            return np.empty((rows, dim), dtype=np.float32)
    previous = _set_madvise_hugepage(False)
    try:
        return np.empty((rows, dim), dtype=np.float32)
    finally:
        _set_madvise_hugepage(previous)


class EmbeddingCache:
    """Embeddings of one encoder (by fingerprint) on disk: `get(keys)` and `put(keys, vectors)`."""

    def __init__(self, fingerprint: str, dim: int, root: str | os.PathLike | None = None):
        if not isinstance(fingerprint, str) or not _FP_RE.fullmatch(fingerprint):
            raise CausalPrefError(
                f"an embedding cache fingerprint is a lowercase hex string of at least "
                f"16 characters, got {fingerprint!r}"
            )
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise CausalPrefError(f"embedding dimension must be a positive integer, got {dim!r}")
        self.fingerprint, self.dim = fingerprint, int(dim)
        self.root = Path(root).expanduser() if root is not None else default_cache_root()
        self.dir = self.root / "embeddings" / fingerprint[:16]
        self.refresh()

    @classmethod
    def for_encoder(cls, encoder: Encoder, root: str | os.PathLike | None = None) -> "EmbeddingCache":
        return cls(encoder.fingerprint, encoder.dim, root)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __repr__(self) -> str:
        return f"EmbeddingCache({self.dir}, {len(self)} vectors of dim {self.dim} in {len(self._shards)} shards)"

    # ------------------------------------------------------------ locking

    @contextlib.contextmanager
    def _lock(self, create: bool):
        """Exclusive cross-process lock of the folder; yields False when the folder is absent."""
        if create:
            self.dir.mkdir(parents=True, exist_ok=True)
        elif not self.dir.is_dir():
            yield False
            return
        if fcntl is None:
            yield True
            return
        try:
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            if create:
                raise
            yield True  # a read-only cache: read it unlocked
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    # ------------------------------------------------------------ reading

    def refresh(self) -> None:
        """(Re)read the folder: every valid shard, with damaged or half-written ones removed."""
        self._shards: list[np.ndarray] = []
        self._starts: list[int] = []
        self._rows: dict[str, int] = {}
        self._loaded: set[int] = set()  # shard numbers read (or found bad) so far
        self._next = 0
        key_lists = []
        with self._lock(create=False) as present:
            if not present:
                return
            numbers: dict[int, set[str]] = {}
            for path in self.dir.iterdir():
                name = path.name
                if name.startswith(".shard-") and name.endswith(".tmp"):
                    self._discard([path], "a temporary file left by an interrupted write")
                    continue
                match = _SHARD_RE.fullmatch(name)
                if match:
                    numbers.setdefault(int(match.group(1)), set()).add(match.group(2))
            self._next = max(numbers, default=-1) + 1
            total = 0
            for number in sorted(numbers):
                self._loaded.add(number)
                npy, index = self._paths(number)
                if numbers[number] != {"npy", "json"}:
                    have, lacks = ("shard", "index entry") if "npy" in numbers[number] else ("index entry", "shard")
                    self._discard([npy, index], f"a {have} without its {lacks} (an interrupted write)")
                    continue
                try:
                    vectors, keys = self._load_shard(npy, index)
                except Exception as exc:  # noqa: BLE001 - whatever is wrong, the shard is unusable
                    self._discard([npy, index], f"{type(exc).__name__}: {exc}")
                    continue
                self._shards.append(vectors)
                self._starts.append(total)
                key_lists.append((total, keys))
                total += len(keys)
        for start, keys in reversed(key_lists):  # older shards win on duplicate keys
            self._rows.update(zip(keys, range(start, start + len(keys))))

    def _catch_up(self) -> None:
        """Read shards other processes (or other cache objects) committed since we looked.

        Needs no lock: an index entry is renamed into place only after its shard, so a shard
        whose entry exists is complete. Anything unreadable is skipped here and left for the
        next full `refresh` (open) to judge."""
        try:
            names = os.listdir(self.dir)
        except OSError:
            return
        fresh = sorted(
            {int(m.group(1)) for name in names if (m := _SHARD_RE.fullmatch(name)) and m.group(2) == "json"}
            - self._loaded
        )
        for number in fresh:
            self._loaded.add(number)
            try:
                vectors, keys = self._load_shard(*self._paths(number))
            except Exception:  # noqa: BLE001
                continue
            self._add(vectors, keys)
            self._next = max(self._next, number + 1)

    def _add(self, vectors: np.ndarray, keys: list[str]) -> None:
        start = self._starts[-1] + len(self._shards[-1]) if self._shards else 0
        self._shards.append(vectors)
        self._starts.append(start)
        rows = self._rows
        for row, key in enumerate(keys, start):
            rows.setdefault(key, row)

    def _paths(self, number: int) -> tuple[Path, Path]:
        stem = f"shard-{number:05d}"
        return self.dir / f"{stem}.npy", self.dir / f"{stem}.json"

    def _load_shard(self, npy: Path, index: Path) -> tuple[np.ndarray, list[str]]:
        entry = json.loads(index.read_text(encoding="ascii"))
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            raise ValueError(
                f"index format {entry.get('format') if isinstance(entry, dict) else '?'!r} is not {FORMAT}"
            )
        if entry.get("fingerprint") != self.fingerprint:
            raise ValueError("written for another encoder fingerprint")
        keys, rows, dim = entry.get("keys"), entry.get("rows"), entry.get("dim")
        if dim != self.dim:
            raise ValueError(f"dimension {dim!r}, expected {self.dim}")
        if not isinstance(keys, list) or len(keys) != rows:
            raise ValueError("key list does not match the row count")
        if _keys_sha256(keys) != entry.get("keys_sha256"):
            raise ValueError("key list checksum mismatch")
        vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
        if vectors.dtype != DTYPE or vectors.shape != (rows, self.dim) or not vectors.flags.c_contiguous:
            raise ValueError(f"shard holds {vectors.dtype} {vectors.shape}, index says {DTYPE} ({rows}, {self.dim})")
        if _sha256(memoryview(vectors).cast("B") if rows else b"") != entry.get("sha256"):
            raise ValueError("checksum mismatch")
        return vectors, keys

    def _discard(self, paths: list[Path], reason: str) -> None:
        names = " + ".join(p.name for p in paths if p.exists()) or paths[0].name
        warnings.warn(f"embedding cache {self.dir}: discarding {names}: {reason}", stacklevel=3)
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass

    def get(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found: bool (n,), vectors: float32 (n, dim)); rows of keys not found are zeros."""
        keys = list(keys)
        self._catch_up()
        rows = np.fromiter((self._rows.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        found = rows >= 0
        if not found.any():
            return found, np.zeros((len(keys), self.dim), dtype=np.float32)
        vectors = _empty(len(keys), self.dim)
        vectors[~found] = 0.0
        where = np.flatnonzero(found)
        wanted = rows[where]
        shard_of = np.searchsorted(np.asarray(self._starts), wanted, side="right") - 1
        order = np.argsort(shard_of, kind="stable")
        bounds = np.searchsorted(shard_of[order], np.arange(len(self._shards) + 1))
        for shard in range(len(self._shards)):
            chosen = order[bounds[shard] : bounds[shard + 1]]
            source, start = self._shards[shard], self._starts[shard]
            # in blocks, so that the gather's temporary stays small even for one huge shard
            for block in range(0, len(chosen), _GATHER_BLOCK):
                part = chosen[block : block + _GATHER_BLOCK]
                vectors[where[part]] = source[wanted[part] - start]
        return found, vectors

    # ------------------------------------------------------------ writing

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> int:
        """Append the vectors of keys not cached yet as one shard; returns how many were written."""
        keys = list(keys)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape != (len(keys), self.dim):
            raise CausalPrefError(
                f"put needs vectors of shape ({len(keys)}, {self.dim}) for {len(keys)} keys, got {vectors.shape}"
            )
        bad = next((k for k in keys if not isinstance(k, str) or not _KEY_RE.fullmatch(k)), None)
        if bad is not None:
            raise CausalPrefError(
                f"an embedding cache key is 64 lowercase hex characters (sha256 of the text), got {bad!r}"
            )
        if not np.isfinite(vectors).all():
            raise CausalPrefError(
                "refusing to cache embeddings with NaN or infinite values "
                "(try dtype='float32' if the model overflows in half precision)"
            )
        with self._lock(create=True):
            self._catch_up()  # skip keys other writers have stored meanwhile
            new, seen = [], set()
            for i, key in enumerate(keys):
                if key not in self._rows and key not in seen:
                    seen.add(key)
                    new.append(i)
            if not new:
                return 0
            new_keys = [keys[i] for i in new]
            data = np.ascontiguousarray(vectors[new], dtype=DTYPE)
            entry = {
                "format": FORMAT,
                "fingerprint": self.fingerprint,
                "dim": self.dim,
                "rows": len(new_keys),
                "dtype": DTYPE.str,
                "sha256": _sha256(data.tobytes()),
                "keys_sha256": _keys_sha256(new_keys),
                "created": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "keys": new_keys,
            }
            text = json.dumps(entry, separators=(",", ":")).encode("ascii")
            # Take the next free number in the folder (whatever stray files hold).
            taken = [int(m.group(1)) for p in self.dir.iterdir() if (m := _SHARD_RE.fullmatch(p.name))]
            number = max(taken + [self._next - 1]) + 1
            npy, index = self._paths(number)
            write_atomic(npy, lambda handle: np.save(handle, data, allow_pickle=False))
            fsync_dir(self.dir)  # the shard's name is durable before its index entry exists
            try:
                write_atomic(index, lambda handle: handle.write(text))
            except BaseException:
                npy.unlink(missing_ok=True)
                raise
            fsync_dir(self.dir)
            self._loaded.add(number)
            self._next = number + 1
            self._add(data, new_keys)
        return len(new_keys)


@dataclass
class Lacking:
    """What the cache lacks of a list of (prompt, response) texts: `out` holds the cached
    vectors (zeros elsewhere), `first` each missing key's first position; `done` of `total`
    distinct texts are there already (reported once to `progress`)."""

    cache: EmbeddingCache
    texts: list[str]
    keys: list[str]
    found: np.ndarray
    out: np.ndarray
    first: dict[str, int]
    done: int
    total: int

    @classmethod
    def of(cls, encoder, prompts, responses, cache=None, progress=None) -> Lacking:
        if cache is None:
            cache = EmbeddingCache.for_encoder(encoder)
        if cache.dim != encoder.dim or cache.fingerprint != encoder.fingerprint:
            raise CausalPrefError(
                f"this embedding cache (fingerprint {cache.fingerprint[:16]}, dim {cache.dim}) "
                f"belongs to another encoder (fingerprint {encoder.fingerprint[:16]}, "
                f"dim {encoder.dim})"
            )
        texts = encoder.format_texts(prompts, responses)
        keys = [text_key(t) for t in texts]
        found, out = cache.get(keys)
        first: dict[str, int] = {}
        for i in np.flatnonzero(~found):
            first.setdefault(keys[i], int(i))
        total = len(set(keys))
        done = total - len(first)
        if progress is not None:
            progress(done, total)
        return cls(cache, texts, keys, found, out, first, done, total)

    def todo(self) -> list[int]:
        """The first position of every missing text, longest first (batches of like length)."""
        return sorted(self.first.values(), key=lambda i: -len(self.texts[i]))

    def fill_duplicates(self) -> None:
        """Copy each text embedded just now to its other positions."""
        rest = np.flatnonzero(~self.found)
        self.out[rest] = self.out[[self.first[self.keys[i]] for i in rest]]


def embed_with_cache(
    encoder: Encoder,
    prompts: Sequence[str],
    responses: Sequence[str],
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """Embeddings of (prompt, response) pairs, float32 (n, dim) in input order, through `cache`
    (default: the encoder's cache under the default root).

    Only texts not in the cache are embedded, each distinct text once, longest first, in
    chunks of `chunk_size`; every chunk goes into the cache as soon as it is done, so a run
    that is interrupted (an exception, Ctrl-C, a crash) resumes where it stopped.
    progress(done, total) counts distinct texts: it is called once at the start (with those
    already cached) and after every batch."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise CausalPrefError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    lack = Lacking.of(encoder, prompts, responses, cache, progress)
    cache, texts, keys, out, first = lack.cache, lack.texts, lack.keys, lack.out, lack.first
    done, total = lack.done, lack.total
    todo = lack.todo()
    storing = True
    for start in range(0, len(todo), chunk_size):
        chunk = todo[start : start + chunk_size]
        base = done
        report = None if progress is None else (lambda d, _t, base=base: progress(base + d, total))
        vectors = encoder.encode_texts([texts[i] for i in chunk], progress=report)
        if storing:
            try:
                cache.put([keys[i] for i in chunk], vectors)
            except OSError as error:  # an unwritable cache costs the shortcut, not the run
                warn_unwritable(cache.root, error)
                storing = False
        out[chunk] = vectors
        done += len(chunk)
    if first:
        lack.fill_duplicates()
    return out
