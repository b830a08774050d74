"""Factors measured from a response's text (causalpref/data/measures.py)."""

import dataclasses
import shutil

import numpy as np
import pytest

from causalpref.data import measures
from causalpref.data.embed import default_model_dir
from causalpref.data.measures import (
    MEASURES,
    REFUSAL_PHRASES,
    Measure,
    measure_label,
    measure_names,
    measure_texts,
    tokenizer_for,
)
from causalpref.errors import CausalPrefError

FORMATTED = """# Installing the tool

Here is **the short version** of what to do:

- download the archive
- unpack it
- run the installer

```bash
# a shell comment, not a heading
- not a list item either
pip install tool
```

## Checking it worked
Run `tool --version` and read the number.
"""  # 2 headings + 3 list items + 1 bold + 1 code block = 7

PROSE = (
    "The tool installs in a minute. Download the archive, unpack it and run the installer; "
    "then ask it for its version number to check that it worked. Nothing more is needed."
)


def test_registration_order_names_labels_and_docs():
    assert measure_names() == ("length_tokens", "length_words", "length_chars", "formatting", "refusal")
    assert tuple(MEASURES) == measure_names()
    assert measure_label("length_words") == "length (words)"
    assert measure_label("length_tokens") == "length (tokens)"
    for name, m in MEASURES.items():
        assert isinstance(m, Measure) and m.name == name
        assert m.label and m.doc.endswith(".") and "\n" not in m.doc
        assert m.needs_tokenizer == (name == "length_tokens")
    with pytest.raises(dataclasses.FrozenInstanceError):
        MEASURES["refusal"].label = "x"


def test_words_and_chars_are_exact():
    texts = ["one two  three\n four\tfive", "", "   ", "naïve café", "x"]
    assert measure_texts("length_words", texts).tolist() == [5.0, 0.0, 0.0, 2.0, 1.0]
    assert measure_texts("length_chars", texts).tolist() == [25.0, 0.0, 3.0, 10.0, 1.0]


@pytest.mark.parametrize("name", ["length_tokens", "length_words", "length_chars", "formatting", "refusal"])
def test_dtype_and_shape(name):
    out = measure_texts(name, ["a short text", "another, slightly longer one", ""])
    assert out.dtype == np.float64 and out.shape == (3,)
    assert np.all(out >= 0)
    empty = measure_texts(name, [])
    assert empty.dtype == np.float64 and empty.shape == (0,)
    assert measure_texts(name, ("a tuple works",)).shape == (1,)


def test_formatting_counts_each_element():
    assert measure_texts("formatting", [FORMATTED, PROSE]).tolist() == [7.0, 0.0]
    cases = {
        "# h1\n###### h6\n####### seven hashes is not a heading\n#hashtag is not one": 2,
        "- a\n* b\n+ c\n  - nested\n1. one\n2) two\n-not a list\n1.5 is not a list": 6,
        "**bold** and __also bold__ and 2 ** 3 ** 4 is maths and snake__case__name is not bold": 2,
        "| a | b |\n|---|---|\n| 1 | 2 |\n|not a row": 3,
        "```\ncode\n```\ntext\n```python\nmore\n```": 2,  # two closed blocks
        "```\nunclosed block\n# inside it\n- inside it": 1,  # an unclosed fence counts once
        "inline `code` and a *single star* are not counted": 0,
    }
    got = measure_texts("formatting", list(cases)).tolist()
    assert got == [float(v) for v in cases.values()]


def test_refusal_positive_and_negative():
    positive = [
        "I'm sorry, but I can't help with that request.",
        "I\u2019m sorry, but I can\u2019t help with that.",  # curly apostrophes
        "As an AI language model, I have no opinions.",
        "Unfortunately I CANNOT HELP with this.",
        "I must decline to write that.",
        "I am unable to provide medical advice.",
    ]
    negative = [
        "Sure! Here is a poem about the sea.",
        "The capital of France is Paris.",
        "Sorry for the delay; here is the answer: 42.",
        "",
    ]
    out = measure_texts("refusal", positive + negative)
    assert out.tolist() == [1.0] * len(positive) + [0.0] * len(negative)
    assert set(np.unique(out)) <= {0.0, 1.0}


def test_refusal_phrases_are_normalised_and_each_one_fires():
    assert 15 <= len(REFUSAL_PHRASES) <= 40 and len(set(REFUSAL_PHRASES)) == len(REFUSAL_PHRASES)
    for phrase in REFUSAL_PHRASES:
        assert phrase == phrase.lower() and "\u2019" not in phrase
    curly = [f"Well. {p.upper().replace(chr(39), chr(0x2019))} that." for p in REFUSAL_PHRASES]
    assert measure_texts("refusal", curly).tolist() == [1.0] * len(REFUSAL_PHRASES)


def test_token_counts_match_the_tokenizer_without_truncation():
    tok = tokenizer_for(None)
    long_text = " ".join(f"word{i} and some ordinary prose, sentence number {i}." for i in range(120))
    texts = [long_text, "Hello world!", "", FORMATTED]
    expected = [len(tok(t, add_special_tokens=False, verbose=False)["input_ids"]) for t in texts]
    assert expected[0] > max(512, tok.model_max_length)  # longer than the model reads
    assert expected[2] == 0
    assert measure_texts("length_tokens", texts).tolist() == [float(n) for n in expected]


def test_token_counts_keep_input_order_across_batches(monkeypatch):
    monkeypatch.setattr(measures, "_TOKEN_BATCH", 3)
    texts = [" ".join(["token"] * n) for n in (7, 1, 5, 0, 2, 9, 4)]
    assert measure_texts("length_tokens", texts).tolist() == [7.0, 1.0, 5.0, 0.0, 2.0, 9.0, 4.0]


def test_long_text_warning_is_suppressed(capfd):
    tok = tokenizer_for(None)
    key = "sequence-length-is-longer-than-the-specified-maximum"
    tok.deprecation_warnings.pop(key, None)  # as if fresh, so the warning could fire
    measure_texts("length_tokens", ["many words " * 400])
    assert not tok.deprecation_warnings.get(key, False)
    assert "longer than the specified maximum" not in capfd.readouterr().err


def test_tokenizer_is_loaded_once_per_model_dir():
    first = tokenizer_for(None)
    assert tokenizer_for(None) is first
    assert tokenizer_for(str(default_model_dir())) is first  # same resolved folder, same object
    misses = measures._load_tokenizer.cache_info().misses
    measure_texts("length_tokens", ["one", "two"])
    measure_texts("length_tokens", ["three"])
    assert measures._load_tokenizer.cache_info().misses == misses


def test_tokenizer_only_folder_needs_no_weights(tmp_path):
    source = default_model_dir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, tmp_path / name)
    texts = ["a few words of text", "x " * 700]
    assert measure_texts("length_tokens", texts, model_dir=str(tmp_path)).tolist() == (
        measure_texts("length_tokens", texts).tolist()
    )
    assert tokenizer_for(str(tmp_path)) is not tokenizer_for(None)


def test_bad_model_dir_is_a_causalpref_error(tmp_path):
    with pytest.raises(CausalPrefError, match="does not exist"):
        measure_texts("length_tokens", ["x"], model_dir=str(tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CausalPrefError, match="cannot load a tokenizer"):
        measure_texts("length_tokens", ["x"], model_dir=str(tmp_path))


def test_unknown_name_error_lists_the_choices():
    with pytest.raises(CausalPrefError) as err:
        measure_texts("foo", ["x"])
    message = str(err.value)
    assert message == (
        "unknown measured factor 'foo'; choose from length_tokens, length_words, length_chars, formatting, refusal"
    )
    assert "\n" not in message
    with pytest.raises(CausalPrefError, match="unknown measured factor 'bar'"):
        measure_label("bar")


def test_non_string_text_names_its_index():
    with pytest.raises(CausalPrefError, match=r"text 2 is a NoneType, expected a string"):
        measure_texts("length_words", ["a", "b", None])
    with pytest.raises(CausalPrefError, match=r"text 1 is a float"):
        measure_texts("length_tokens", ["a", float("nan")])
    with pytest.raises(CausalPrefError, match="not one string"):
        measure_texts("length_chars", "a single string")
