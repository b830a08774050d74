"""Factors measured from a response's text: length, formatting, refusal.

Why. Length and style bias is the best-known real failure of reward models: in preference
data where the preferred response is usually the longer (or more formatted, or less often
a refusal) one, a reward model learns to reward length and markdown rather than quality.
Measured from the text, each of these becomes the second factor of Experiment 1 on any
labelled pair file: d1 = which response is preferred (the file's label), d2 =
measure(response a) - measure(response b). So any pair file can be studied for
length / formatting / refusal bias without extra annotation.

The measures (`MEASURES`, in this order; each returns one float per text):

- ``length_tokens``: the number of tokens of the embedding model's tokenizer (the packaged
  all-MiniLM-L6-v2 unless a model folder is given), with no truncation and no special
  tokens ([CLS]/[SEP]/BOS are not counted). Only the tokenizer is loaded, once per model
  folder, never the model's weights; texts are tokenized in batches.
- ``length_words``: whitespace-separated words, ``len(text.split())``.
- ``length_chars``: characters, ``len(text)`` (Unicode code points).
- ``formatting``: the number of markdown formatting elements, a simple count of
    * fenced code blocks: a line starting with ``` opens a block that the next such line
      closes; each block counts 1 (an unclosed fence runs to the end and counts 1), and
      the lines inside a block are not searched for the elements below (a ``# comment`` in
      code is not a heading);
    * heading lines: ``#`` to ``######`` then a space at the start of a line;
    * list item lines: optional indentation, then ``-``, ``*``, ``+``, ``1.`` or ``1)``
      then a space;
    * table rows: lines that start and end with ``|`` (the ``|---|---|`` delimiter row
      counts as a row too);
    * bold spans: ``**x**`` or ``__x__`` on one line, with no space just inside the
      markers (``2 ** 3 ** 4`` is not bold) and ``__`` not inside a word (``a__b__c`` is
      not bold; like markdown itself, ``__init__`` standing alone is).
  Plain prose counts 0. It is a count of syntax, not a parse: a prose line that starts
  with "1. " or "- " counts as a list item, and ~~~ fences, setext (underlined) headings
  and italics are not counted.
- ``refusal``: 1.0 when the text contains any phrase of `REFUSAL_PHRASES`, else 0.0; the
  text is lower-cased and curly apostrophes (U+2019, U+2018) are read as ``'``. It is a
  phrase list, not a classifier: it misses refusals worded otherwise ("That is not
  something I will write", refusals in other languages) and fires on a phrase inside a
  helpful answer ("I'm sorry, but the function also needs an import: ..." or a quoted
  refusal), so read it as "opens like a typical assistant refusal".

Errors: an unknown measure name or a text that is not a string raises `CausalPrefError`
(one line, naming the choices or the index of the bad text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class Measure:
    """One factor measured from a text."""

    name: str  # "length_words"
    label: str  # "length (words)": what people read
    doc: str  # one sentence: how it is measured
    needs_tokenizer: bool = False


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "length_tokens",
            "length (tokens)",
            "Number of tokens of the embedding model's tokenizer, without truncation and without special tokens.",
            True,
        ),
        Measure("length_words", "length (words)", "Number of whitespace-separated words."),
        Measure("length_chars", "length (characters)", "Number of characters."),
        Measure(
            "formatting",
            "formatting (markdown elements)",
            "Number of markdown elements: heading lines, list item lines, table rows, bold spans and "
            "fenced code blocks.",
        ),
        Measure(
            "refusal",
            "refusal (0/1)",
            "1 when the text contains a common refusal phrase (case-insensitive, from a fixed list), else 0.",
        ),
    )
}

# Lower case, straight apostrophes; matched as substrings of the lower-cased text.
REFUSAL_PHRASES: tuple[str, ...] = (
    "i'm sorry, but",
    "i am sorry, but",
    "i apologize, but",
    "i cannot help",
    "i can't help",
    "i cannot assist",
    "i can't assist",
    "i cannot provide",
    "i can't provide",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot comply",
    "i can't comply",
    "i won't be able to",
    "i will not be able to",
    "as an ai",
    "i'm not able to",
    "i am not able to",
    "i'm unable to",
    "i am unable to",
    "i must decline",
    "i'm not comfortable",
    "i don't feel comfortable",
)

# ---------------------------------------------------------------- formatting

# A fenced code block: a line starting with ``` up to the next line starting with ```, or to
# the end of the text when the fence is never closed.
_CODE_BLOCK = re.compile(r"^[ \t]*```.*?(?:^[ \t]*```[^\n]*|\Z)", re.MULTILINE | re.DOTALL)
_HEADING = r"#{1,6}[ \t]"
_LIST_ITEM = r"[ \t]*(?:[-*+]|\d+[.)])[ \t]"
_TABLE_ROW = r"[ \t]*\|[^\n]*\|[ \t]*$"
_LINE_ELEMENT = re.compile(rf"^(?:{_HEADING}|{_LIST_ITEM}|{_TABLE_ROW})", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=[^*\s])[^*\n]*?[^*\s]\*\*|(?<!\w)__(?=[^_\s])[^_\n]*?[^_\s]__(?!\w)")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def _formatting(text: str) -> float:
    blocks = 0
    if "```" in text:
        text, blocks = _CODE_BLOCK.subn("\n", text)
    return float(blocks + len(_LINE_ELEMENT.findall(text)) + len(_BOLD.findall(text)))


def _refusal(text: str) -> float:
    lower = text.lower().translate(_APOSTROPHES)
    return 1.0 if any(phrase in lower for phrase in REFUSAL_PHRASES) else 0.0


_PER_TEXT: dict[str, Callable[[str], float]] = {
    "length_words": lambda t: float(len(t.split())),
    "length_chars": lambda t: float(len(t)),
    "formatting": _formatting,
    "refusal": _refusal,
}

# ---------------------------------------------------------------- tokens

_TOKEN_BATCH = 1024


@lru_cache(maxsize=4)
def _load_tokenizer(model_dir: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means the folder has no usable tokenizer
        text = " ".join(str(exc).split())[:300]
        raise CausalPrefError(f"cannot load a tokenizer from {model_dir}: {type(exc).__name__}: {text}") from None


def tokenizer_for(model_dir: str | None = None):
    """The tokenizer `length_tokens` uses for a model folder (None: the packaged
    all-MiniLM-L6-v2), loaded once per resolved folder and then reused."""
    from causalpref.data.embed import check_model_dir

    return _load_tokenizer(str(check_model_dir(model_dir)))


def _token_counts(texts: list[str], model_dir: str | None) -> np.ndarray:
    tokenizer = tokenizer_for(model_dir)
    out = np.empty(len(texts), dtype=np.float64)
    for start in range(0, len(texts), _TOKEN_BATCH):
        ids = tokenizer(
            texts[start : start + _TOKEN_BATCH],
            add_special_tokens=False,
            truncation=False,
            verbose=False,  # no "longer than the specified maximum sequence length": nothing is cut
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        out[start : start + len(ids)] = [len(seq) for seq in ids]
    return out


# ---------------------------------------------------------------- API


def measure_names() -> tuple[str, ...]:
    """The measured factors, in registration order."""
    return tuple(MEASURES)


def _measure(name: str) -> Measure:
    if not isinstance(name, str) or name not in MEASURES:
        raise CausalPrefError(f"unknown measured factor {name!r}; choose from {', '.join(MEASURES)}")
    return MEASURES[name]


def measure_label(name: str) -> str:
    """What people read for a measured factor, e.g. "length (words)"."""
    return _measure(name).label


def measure_texts(name: str, texts: Sequence[str], model_dir: str | None = None) -> np.ndarray:
    """The measure `name` of every text: float64 array of shape (len(texts),).

    `model_dir` only matters for `length_tokens` (whose tokenizer it names; None = the
    packaged all-MiniLM-L6-v2)."""
    measure = _measure(name)
    if isinstance(texts, (str, bytes)):
        raise CausalPrefError(f"measured factor {name}: texts must be a sequence of strings, not one string")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise CausalPrefError(f"measured factor {name}: text {i} is a {type(text).__name__}, expected a string")
    if not texts:
        return np.zeros(0, dtype=np.float64)
    if measure.needs_tokenizer:
        return _token_counts(texts, model_dir)
    function = _PER_TEXT[measure.name]
    return np.fromiter((function(t) for t in texts), dtype=np.float64, count=len(texts))
