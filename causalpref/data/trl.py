"""The ecosystem's standard preference shapes (TRL's dataset formats), and rating tables.

- preference, explicit prompt: ``{"prompt", "chosen", "rejected"}``;
- preference, implicit prompt: ``{"chosen", "rejected"}``, the prompt being what the two share
  (for message lists, the messages before the final assistant message; for strings, the
  common text up to the last whitespace both share);
- each as plain strings or as conversational lists of ``{"role", "content"}`` messages;
- unpaired preference: ``{"prompt", "completion", "label"}`` with a boolean (or 0/1) label:
  every (desirable, undesirable) completion of one prompt becomes a pair;
- rating tables: one row per response ``{"prompt", "response" | "completion", "rating" | "score"}``:
  every two responses of a prompt with different ratings become a pair, the higher rated
  preferred (equal ratings are left out and counted).

Chosen/rejected (and desirable/undesirable) go to a/b in a seeded random order per pair, so
position carries no signal; label 1.0 when a is preferred. See `recognise` for how a file's
shape is told from its first record.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np

from causalpref.data.loaders import (
    ASSISTANT,
    PairExtras,
    TextPairs,
    _check_cap,
    _check_seed,
    _chosen_first,
    _final_reply,
    _format_messages,
    _group_ids,
    _no_pairs,
    _rng_for,
    _short,
    read_records,
    split_dialogues,
)

RATING_FIELDS = ("rating", "score")
RESPONSE_FIELDS = ("response", "completion")


def recognise(data: dict) -> tuple[str, str] | None:
    """(kind, shape in words) from one record's fields, or None when no known shape fits."""
    fields = set(data)
    if {"responses", "objective"} <= fields:
        return "relabeled-hh", "relabelled HH-RLHF (prompt, responses, data_subset, objective, label)"
    if {"question", "answer", "truthful", "informative"} <= fields:
        return "truthfulqa", "TruthfulQA with two labels per answer (question, answer, truthful, informative)"
    if "completions" in fields:
        return "ultrafeedback", "UltraFeedback with per-aspect ratings (instruction, completions)"
    if {"response_a", "response_b"} <= fields:
        return "pairs", "a pair table (prompt, response_a, response_b, label)"
    if {"chosen", "rejected"} <= fields:
        chosen = data["chosen"]
        style = "conversational" if isinstance(chosen, list) else "plain strings"
        if "prompt" in fields:
            return "preference", f"TRL preference data, explicit prompt, {style} (prompt, chosen, rejected)"
        if isinstance(chosen, str) and ASSISTANT in chosen:
            return "hh-rlhf", "HH-RLHF dialogues: TRL preference data, implicit prompt (chosen, rejected)"
        return "preference", f"TRL preference data, implicit prompt, {style} (chosen, rejected)"
    if {"prompt", "completion", "label"} <= fields:
        return "unpaired", "TRL unpaired preference data (prompt, completion, label)"
    rating = next((f for f in RATING_FIELDS if f in fields), None)
    response = next((f for f in RESPONSE_FIELDS if f in fields), None)
    if "prompt" in fields and response and rating:
        return "ratings", f"a rating table, one row per response (prompt, {response}, {rating})"
    if {"prompt", "response"} <= fields:
        return "responses", "a per-response table with factor columns (prompt, response, ...)"
    return None


# ------------------------------------------------------------------------------ preference


def _implicit_strings(chosen: str, rejected: str) -> tuple[str, str, str]:
    """(prompt, chosen reply, rejected reply) of two texts that share their beginning."""
    split = split_dialogues(chosen, rejected)
    if split is not None:
        return split
    shared = os.path.commonprefix([chosen, rejected])
    cut = max(shared.rfind(" "), shared.rfind("\n"))
    if len(shared) == min(len(chosen), len(rejected)):  # one text is the other's beginning
        cut = max(shared[:-1].rfind(" "), shared[:-1].rfind("\n"))
    if cut <= 0:
        return "", chosen.strip(), rejected.strip()
    return chosen[:cut].strip(), chosen[cut:].strip(), rejected[cut:].strip()


def load_preference(path, seed: int = 0, *, max_rows: int | None = None) -> TextPairs:
    """TRL preference data, explicit or implicit prompt, strings or conversational (see the module)."""
    seed = _check_seed(seed)
    source = os.fspath(path)
    out: dict[str, list] = {"prompt": [], "response_a": [], "response_b": [], "label": []}
    keys: list[Any] = []
    shape = ""
    with read_records(path, max_rows) as records:
        extras = PairExtras(records.columns)
        for row in records:
            if not shape:
                found = recognise(row.data)
                shape = found[1] if found and found[0] in ("preference", "hh-rlhf") else ""
            chosen, before_chosen = _final_reply(row, "chosen")
            rejected, before_rejected = _final_reply(row, "rejected")
            if row.has("prompt"):
                value = row.data["prompt"]
                prompt = _format_messages(row, "prompt", value) if isinstance(value, list) else row.text("prompt")
            elif before_chosen is not None:
                if before_rejected is not None and before_rejected != before_chosen:
                    raise row.fail(
                        "rejected",
                        "its messages before the reply differ from those of 'chosen'; "
                        "expected the same prompt in both (implicit-prompt conversational data)",
                    )
                prompt = _format_messages(row, "chosen", before_chosen) if before_chosen else ""
            else:
                if before_rejected is not None:
                    raise row.fail("rejected", "is a message list while 'chosen' is a string; expected the same form")
                prompt, chosen, rejected = _implicit_strings(chosen, rejected)
            _chosen_first(out, seed, prompt.strip(), chosen.strip(), rejected.strip())
            # label_other says whether the chosen one is preferred under the other objective
            extras.read(row, swapped=out["label"][-1] == 0.0)
            # pairs with no prompt text share no group: each is its own
            keys.append(prompt.strip() or ("row", row.num))
    return TextPairs(
        prompt=out["prompt"],
        response_a=out["response_a"],
        response_b=out["response_b"],
        label=np.asarray(out["label"], dtype=np.float32),
        factor_diffs=None,
        factor_names=(),
        source=source,
        shape=shape,
        **extras.fields(keys),
    )


# ------------------------------------------------------------------------------ unpaired


def _desirable(row, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "0", "1"):
        return value.strip().lower() in ("true", "1")
    raise row.fail("label", f"expected true/false (or 1/0), got {_short(value)}")


def _text_or_messages(row, name: str) -> str:
    value = row.get(name, "a string or a list of {'role', 'content'} messages")
    if isinstance(value, list):
        if name == "completion":
            return _final_reply(row, name)[0]
        return _format_messages(row, name, value)
    return row.text(name)


def _prompt_pairs(
    prompts: dict[str, list[tuple[str, float]]],
    seed: int,
    cap: int | None,
    skipped: Counter,
    source: str,
    shape: str,
    tie: str = "pairs with equal ratings (no preference)",
) -> TextPairs:
    """Pairs of responses of one prompt with different scores (the higher preferred), seeded order."""
    out: dict[str, list] = {"prompt": [], "response_a": [], "response_b": [], "label": []}
    for prompt, rows in prompts.items():
        scores = np.asarray([score for _, score in rows])
        i, j = np.triu_indices(len(rows), 1)
        ties = scores[i] == scores[j]
        if ties.any():
            skipped[tie] += int(ties.sum())
            i, j = i[~ties], j[~ties]
        if i.size == 0:
            skipped["prompts without two differently rated responses"] += 1
            continue
        rng = _rng_for(seed, prompt)
        if cap is not None and i.size > cap:
            keep = np.sort(rng.choice(i.size, size=cap, replace=False))
            skipped["pairs beyond the per-prompt cap"] += int(i.size - keep.size)
            i, j = i[keep], j[keep]
        swap = rng.random(i.size) < 0.5
        for a, b in zip(np.where(swap, j, i), np.where(swap, i, j)):
            out["prompt"].append(prompt)
            out["response_a"].append(rows[a][0])
            out["response_b"].append(rows[b][0])
            out["label"].append(1.0 if scores[a] > scores[b] else 0.0)
    if not out["prompt"]:
        raise _no_pairs(source, "no prompt has two responses with different labels or ratings")
    return TextPairs(
        prompt=out["prompt"],
        response_a=out["response_a"],
        response_b=out["response_b"],
        label=np.asarray(out["label"], dtype=np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=None,
        prompt_type=None,
        group=_group_ids(out["prompt"]),
        source=source,
        skipped=dict(skipped),
        shape=shape,
    )


def _collect(path, max_rows, response_of, score_of) -> tuple[dict, Counter]:
    prompts: dict[str, list[tuple[str, float]]] = {}
    seen: dict[str, set] = {}
    skipped: Counter = Counter()
    with read_records(path, max_rows) as records:
        for row in records:
            prompt = _text_or_messages(row, "prompt").strip()
            response = response_of(row).strip()
            score = score_of(row)
            if response in seen.setdefault(prompt, set()):
                skipped["repeated responses"] += 1
                continue
            seen[prompt].add(response)
            prompts.setdefault(prompt, []).append((response, score))
    return prompts, skipped


def load_unpaired(path, seed: int = 0, *, max_pairs_per_prompt: int | None = None, max_rows: int | None = None):
    """TRL unpaired preference rows {prompt, completion, label}: every (desirable, undesirable)
    completion of a prompt becomes a pair (at most `max_pairs_per_prompt`, a seeded sample)."""
    seed = _check_seed(seed)
    cap = _check_cap(max_pairs_per_prompt, "max_pairs_per_prompt")
    prompts, skipped = _collect(
        path,
        max_rows,
        lambda row: _text_or_messages(row, "completion"),
        lambda row: float(_desirable(row, row.get("label", "true/false"))),
    )
    return _prompt_pairs(
        prompts,
        seed,
        cap,
        skipped,
        os.fspath(path),
        "TRL unpaired preference data (prompt, completion, label)",
        tie="pairs of two desirable or two undesirable completions (no preference)",
    )


def load_ratings(path, seed: int = 0, *, max_pairs_per_prompt: int | None = None, max_rows: int | None = None):
    """A rating table, one row per response {prompt, response|completion, rating|score}: every two
    responses of a prompt with different ratings become a pair, the higher rated preferred."""
    seed = _check_seed(seed)
    cap = _check_cap(max_pairs_per_prompt, "max_pairs_per_prompt")
    fields: dict[str, str] = {}

    def pick(row, names, what):
        if what not in fields:
            found = next((f for f in names if row.has(f)), None)
            if found is None:
                present = ", ".join(map(repr, row.data)) or "none"
                raise row.fail(
                    names[0], f"missing; expected {what} in one of {list(names)} (fields present: {present})"
                )
            fields[what] = found
        return fields[what]

    prompts, skipped = _collect(
        path,
        max_rows,
        lambda row: _text_or_messages(row, pick(row, RESPONSE_FIELDS, "the response")),
        lambda row: row.number(pick(row, RATING_FIELDS, "a rating")),
    )
    response, rating = fields.get("the response", "response"), fields.get("a rating", "rating")
    return _prompt_pairs(
        prompts,
        seed,
        cap,
        skipped,
        os.fspath(path),
        f"a rating table, one row per response (prompt, {response}, {rating})",
    )
