"""Loaders of real preference data: tiny fixtures written here, plus a slice of the shared data."""

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from causalpref import CausalPrefError
from causalpref.data.loaders import (
    TextPairs,
    guess_kind,
    infer_prompt_type,
    load_dataset,
    load_hh_rlhf,
    load_pair_table,
    load_relabeled_hh,
    load_response_table,
    load_truthfulqa_dual,
    load_ultrafeedback,
    named_in_errors,
    split_dialogues,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared real data folder {DATA} is absent (fresh clone)")


def write_jsonl(path: Path, rows, gz=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    text = "".join(line + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def error_of(call, *args, **kw) -> str:
    with pytest.raises(CausalPrefError) as info:
        call(*args, **kw)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def dialogue(*turns):
    return "".join(f"\n\n{'Human' if k % 2 == 0 else 'Assistant'}: {t}" for k, t in enumerate(turns))


def hh_row(k, *earlier):
    return {
        "chosen": dialogue(*earlier, f"question {k}", f"good answer {k}"),
        "rejected": dialogue(*earlier, f"question {k}", f"bad answer {k}"),
    }


# ---------------------------------------------------------------------------------- TextPairs


def make_pairs(n=3, **changes):
    fields = dict(
        prompt=["p"] * n,
        response_a=["a"] * n,
        response_b=["b"] * n,
        label=np.ones(n, np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=None,
        prompt_type=None,
        group=np.zeros(n, int),
        source="toy",
    )
    fields.update(changes)
    return TextPairs(**fields)


def test_text_pairs_subset_keeps_every_field():
    pairs = make_pairs(
        4,
        label=np.array([1, 0, 1, 0]),
        factor_diffs=np.arange(8.0).reshape(4, 2),
        factor_names=("f", "g"),
        objective=[0, 1, 0, 1],
        group=[0, 0, 1, 1],
        response_a=["w", "x", "y", "z"],
    )
    assert pairs.label.dtype == np.float32 and pairs.objective.dtype == np.int64
    sub = pairs.subset([3, 1])
    assert len(sub) == 2 and sub.response_a == ["z", "x"] and sub.factor_diffs[:, 1].tolist() == [7.0, 3.0]
    assert sub.group.tolist() == [1, 0] and sub.objective.tolist() == [1, 1] and sub.source == "toy"
    masked = pairs.subset(pairs.label == 1)
    assert masked.response_a == ["w", "y"]


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"response_b": ["b", "b"]}, "response_b has 2 entries but prompt has 3"),
        ({"prompt": [], "response_a": [], "response_b": [], "label": np.ones(0), "group": np.zeros(0)}, "no pairs"),
        ({"response_a": ["a", None, "a"]}, "response_a[1] is None, expected a string"),
        (
            {"label": None, "factor_diffs": np.array([[0.0], [np.nan], [1.0]]), "factor_names": ("f",)},
            "factor_diffs contains NaN or infinity (first at row 1)",
        ),
        ({"factor_diffs": np.zeros((3, 2)), "factor_names": ("f",)}, "factor_diffs must have shape (3, 1)"),
        ({"label": np.array([1, 2, 0])}, "label[1] is 2.0, expected 0 or 1"),
        ({"label": None}, "label and factor_diffs are both None"),
        ({"prompt_type": [0, 1, 3]}, "prompt_type[2] is 3"),
        ({"group": np.zeros(2)}, "group must have shape (3,)"),
    ],
)
def test_text_pairs_names_the_bad_field(changes, expected):
    assert_names(error_of(make_pairs, **changes), "toy: ", expected)


# ---------------------------------------------------------------------------------- HH-RLHF


def test_hh_rlhf_splits_prompt_and_randomizes_order(tmp_path):
    rows = [hh_row(k) for k in range(40)]
    rows[1] = hh_row(1, "hello", "hi there")  # a multi-turn dialogue
    rows[2] = {
        "chosen": dialogue("q", "part one") + "\n\nAssistant: part two",  # reply holding a marker
        "rejected": dialogue("q", "other reply"),
    }
    path = write_jsonl(tmp_path / "helpful-base" / "test.jsonl.gz", rows, gz=True)
    pairs = load_hh_rlhf(path)
    assert len(pairs) == 40 and pairs.prompt_type.tolist() == [0] * 40 and pairs.objective.tolist() == [0] * 40
    assert pairs.prompt[0] == "Human: question 0"
    assert pairs.prompt[1] == "Human: hello\n\nAssistant: hi there\n\nHuman: question 1"
    assert pairs.prompt[2] == "Human: q"
    for k in range(40):
        chosen = pairs.response_a[k] if pairs.label[k] == 1 else pairs.response_b[k]
        rejected = pairs.response_b[k] if pairs.label[k] == 1 else pairs.response_a[k]
        if k == 2:
            assert (chosen, rejected) == ("part one\n\nAssistant: part two", "other reply")
        else:
            assert (chosen, rejected) == (f"good answer {k}", f"bad answer {k}")
    assert 0 < pairs.label.sum() < 40  # both orders occur
    assert pairs.group.tolist() == list(range(40))
    again, other = load_hh_rlhf(path, seed=0), load_hh_rlhf(path, seed=1)
    assert np.array_equal(again.label, pairs.label) and again.response_a == pairs.response_a
    assert not np.array_equal(other.label, pairs.label)
    # The order depends on the pair, not on its position in the file.
    reordered = load_hh_rlhf(write_jsonl(tmp_path / "x" / "rev.jsonl", rows[::-1]))
    assert reordered.label[::-1].tolist() == pairs.label.tolist()


def test_hh_rlhf_prompt_type_from_path_or_argument(tmp_path):
    rows = [hh_row(0), hh_row(1)]
    harmless = write_jsonl(tmp_path / "harmless-base" / "test.jsonl", rows)
    assert load_hh_rlhf(harmless).prompt_type.tolist() == [1, 1]
    assert load_hh_rlhf(harmless, prompt_type="helpful").prompt_type.tolist() == [0, 0]
    plain = write_jsonl(tmp_path / "plain" / "test.jsonl", rows)
    assert load_hh_rlhf(plain).prompt_type is None and load_hh_rlhf(plain, prompt_type=1).objective.tolist() == [1, 1]
    assert infer_prompt_type("/data/helpful_vs_harmless/harmless-base/train.jsonl") == 1
    assert_names(error_of(load_hh_rlhf, plain, prompt_type="kind"), "prompt_type must be")


def test_hh_rlhf_same_prompt_shares_a_group(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [hh_row(0), hh_row(1), hh_row(0)])
    assert load_hh_rlhf(path).group.tolist() == [0, 1, 0]


def test_hh_rlhf_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "hh.jsonl"
    mismatch = {"chosen": dialogue("one question", "x"), "rejected": dialogue("another question", "y")}
    write_jsonl(path, [hh_row(0), "", mismatch])  # a blank line still counts
    assert_names(error_of(load_hh_rlhf, path), str(path), "line 3", "'rejected'", "does not share the prompt")
    later = {"chosen": dialogue("q", "a", "follow-up one", "x"), "rejected": dialogue("q", "a", "follow-up two", "y")}
    write_jsonl(path, [later])
    assert_names(error_of(load_hh_rlhf, path), "line 1", "does not share the prompt")
    write_jsonl(path, [hh_row(0), '{"chosen": "x", "rejected": '])
    assert_names(error_of(load_hh_rlhf, path), str(path), "line 2", "not valid JSON")
    write_jsonl(path, [hh_row(0), {"chosen": dialogue("q", "a")}])
    assert_names(error_of(load_hh_rlhf, path), "line 2", "field 'rejected'", "missing", "'chosen'")
    write_jsonl(path, [{"chosen": dialogue("q", "a"), "rejected": 5}])
    assert_names(error_of(load_hh_rlhf, path), "line 1", "field 'rejected'", "expected a string, got int 5")
    write_jsonl(path, [{"chosen": "no turns here", "rejected": dialogue("q", "a")}])
    assert_names(error_of(load_hh_rlhf, path), "line 1", "field 'chosen'", "Assistant:")
    write_jsonl(path, [[1, 2]])
    assert_names(error_of(load_hh_rlhf, path), "line 1", "expected a JSON object")
    path.write_text("\n\n")
    assert_names(error_of(load_hh_rlhf, path), str(path), "line 1", "empty")
    gz = tmp_path / "empty.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write("")
    assert_names(error_of(load_hh_rlhf, gz), str(gz), "empty")
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(("\n".join(json.dumps(hh_row(k)) for k in range(200))).encode())[:300])
    assert_names(error_of(load_hh_rlhf, truncated), str(truncated), "line ")


# ---------------------------------------------------------------------------------- relabelled HH


def relabeled_row(prompt, label, subset="helpful", objective="helpful"):
    return {
        "chosen": "...",
        "rejected": "...",
        "prompt": prompt,
        "responses": [f"{prompt} r0", f"{prompt} r1"],
        "Index": 0,
        "data_subset": subset,
        "objective": objective,
        "original_label": 0,
        "label": label,
    }


def test_relabeled_hh_label_convention_and_cells(tmp_path):
    rows = [
        relabeled_row("p1", 0, "helpful", "helpful"),
        relabeled_row("p2", 1, "harmless", "helpful"),
        relabeled_row("p1", 1, "helpful", "harmless"),
        relabeled_row("p3", 0, "harmless", "harmless"),
    ]
    pairs = load_relabeled_hh(write_jsonl(tmp_path / "r.jsonl.gz", rows, gz=True))
    assert pairs.response_a == ["p1 r0", "p2 r0", "p1 r0", "p3 r0"] and pairs.response_b[1] == "p2 r1"
    assert pairs.label.tolist() == [1.0, 0.0, 0.0, 1.0]  # label indexes the preferred response
    assert pairs.prompt_type.tolist() == [0, 1, 0, 1] and pairs.objective.tolist() == [0, 0, 1, 1]
    assert pairs.group.tolist() == [0, 1, 0, 2]
    assert pairs.summary()["t_c_counts"] == {
        "helpful->helpful": 1,
        "helpful->harmless": 1,
        "harmless->helpful": 1,
        "harmless->harmless": 1,
    }


@pytest.mark.parametrize(
    "change, field, expected",
    [
        ({"objective": "honest"}, "objective", "expected 'helpful' or 'harmless'"),
        ({"label": 2}, "label", "expected 0 or 1"),
        ({"responses": ["only one"]}, "responses", "list of two"),
        ({"responses": ["x", None]}, "responses[1]", "got null"),
    ],
)
def test_relabeled_hh_errors(tmp_path, change, field, expected):
    row = {**relabeled_row("p", 0), **change}
    path = write_jsonl(tmp_path / "r.jsonl", [relabeled_row("q", 1), row])
    assert_names(error_of(load_relabeled_hh, path), str(path), "line 2", f"field {field!r}", expected)
    broken = relabeled_row("p", 0)
    del broken["data_subset"]
    write_jsonl(path, [broken])
    assert_names(error_of(load_relabeled_hh, path), "line 1", "field 'data_subset'", "missing")


# ---------------------------------------------------------------------------------- TruthfulQA


def tqa(question, answer, truthful, informative):
    return {
        "question": question,
        "answer": answer,
        "truthful": truthful,
        "informative": informative,
        "category": "c",
        "type": "Adversarial",
    }


TQA_ROWS = [
    tqa("Q1", "no comment", 1, 0),
    tqa("Q1", "false claim", 0, 1),
    tqa("Q1", "true claim", 1, 1),
    tqa("Q1", "no comment", 1, 0),
    tqa("Q2", "yes", 1, 1),
    tqa("Q2", "no", 0, 1),
]


def test_truthfulqa_pairs_factor_diffs_and_groups(tmp_path):
    pairs = load_truthfulqa_dual(write_jsonl(tmp_path / "t.jsonl.gz", TQA_ROWS, gz=True))
    assert len(pairs) == 4 and pairs.label is None and pairs.factor_names == ("truthful", "informative")
    assert pairs.group.tolist() == [0, 0, 0, 1] and pairs.n_groups == 2
    assert pairs.skipped == {"repeated answers": 1}
    labels = {r["answer"]: (r["truthful"], r["informative"]) for r in TQA_ROWS}
    for k in range(4):
        za, zb = np.array(labels[pairs.response_a[k]]), np.array(labels[pairs.response_b[k]])
        assert pairs.factor_diffs[k].tolist() == (za - zb).tolist()
        assert pairs.response_a[k] != pairs.response_b[k] and pairs.prompt[k] in ("Q1", "Q2")
    seen = {frozenset(p) for p in zip(pairs.response_a, pairs.response_b)}
    assert len(seen) == 4  # every pair of distinct answers, once
    assert set(np.unique(pairs.factor_diffs)) <= {-1.0, 0.0, 1.0}


def test_truthfulqa_cap_per_question_is_seeded(tmp_path):
    rows = [tqa("Q", f"answer {k}", k % 2, (k // 2) % 2) for k in range(8)]  # 28 pairs
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    first, again = (load_truthfulqa_dual(path, max_pairs_per_question=5, seed=3) for _ in range(2))
    assert len(first) == 5 and first.response_a == again.response_a and first.response_b == again.response_b
    assert first.skipped["pairs beyond the per-prompt cap"] == 23
    other = load_truthfulqa_dual(path, max_pairs_per_question=5, seed=4)
    assert (other.response_a, other.response_b) != (first.response_a, first.response_b)
    assert_names(error_of(load_truthfulqa_dual, path, max_pairs_per_question=0), "max_pairs_per_question")


def test_truthfulqa_errors(tmp_path):
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [TQA_ROWS[0], {"question": "Q1", "answer": "x", "truthful": 1}])
    assert_names(error_of(load_truthfulqa_dual, path), str(path), "line 2", "field 'informative'", "missing")
    write_jsonl(path, [TQA_ROWS[0], tqa("Q1", "x", 2, 0)])
    assert_names(error_of(load_truthfulqa_dual, path), "line 2", "field 'truthful'", "expected 0 or 1, got 2")
    write_jsonl(path, [tqa("Q1", "a", 1, 1), tqa("Q2", "b", 0, 1)])
    assert_names(error_of(load_truthfulqa_dual, path), str(path), "no usable pairs", "two distinct answers")


def test_truthfulqa_from_csv_with_missing_column(tmp_path):
    header = ["question", "answer", "truthful", "informative"]
    good = write_csv(
        tmp_path / "t.csv", header, [["Q", "a", "1", "0"], ["Q", "b\nwith a newline", "0", "1"], ["Q", "c", "1", "1"]]
    )
    assert len(load_truthfulqa_dual(good)) == 3
    bad = write_csv(tmp_path / "bad.csv", ["question", "answer", "truthful"], [["Q", "a", "1"]])
    message = error_of(load_truthfulqa_dual, bad)
    assert_names(
        message, str(bad), "line 1", "field 'informative'", "column missing", "['question', 'answer', 'truthful']"
    )
    lines = write_csv(tmp_path / "lines.csv", header, [["Q", "multi\nline\nanswer", "1", "0"], ["Q", "b", "1", "x"]])
    assert_names(error_of(load_truthfulqa_dual, lines), "line 5", "field 'informative'", "expected 0 or 1, got 'x'")


# ---------------------------------------------------------------------------------- UltraFeedback


def completion(text, truthfulness, following, honesty="5"):
    return {
        "model": "m",
        "response": text,
        "annotations": {
            "instruction_following": {"Rating": following, "Rationale": "..."},
            "honesty": {"Rating": honesty, "Rationale": "..."},
            "truthfulness": {"Type": ["0"], "Rating": truthfulness, "Rationale": "..."},
            "helpfulness": [{"Rating": "3", "Rationale": "..."}],
        },
    }


def uf_row(instruction, *completions):
    return {"source": "sharegpt", "instruction": instruction, "models": ["m"], "completions": list(completions)}


def test_ultrafeedback_ratings_pairs_and_na(tmp_path):
    rows = [
        uf_row(
            "P1",
            completion("r1", "4", "5"),
            completion("r2", 2, "N/A"),
            completion("r3", "1", 3),
            completion("r4", "5", "5"),
        ),
        uf_row("P2", completion("s1", "N/A", "N/A"), completion("s2", "3", "3")),
    ]
    path = write_jsonl(tmp_path / "uf.jsonl.gz", rows, gz=True)
    pairs = load_ultrafeedback(path)
    assert len(pairs) == 3 and pairs.label is None and pairs.factor_names == ("truthfulness", "instruction_following")
    assert pairs.group.tolist() == [0, 0, 0]
    assert pairs.skipped == {
        "completions with N/A (left out)": 2,
        "N/A in truthfulness": 1,
        "N/A in instruction_following": 2,
        "prompts with fewer than 2 responses": 1,
    }
    ratings = {"r1": (4, 5), "r3": (1, 3), "r4": (5, 5)}
    for k in range(3):
        expected = np.subtract(ratings[pairs.response_a[k]], ratings[pairs.response_b[k]])
        assert pairs.factor_diffs[k].tolist() == expected.tolist()
    honest = load_ultrafeedback(path, aspects=("honesty", "helpfulness"))
    assert len(honest) == 6 + 1 and honest.factor_names == ("honesty", "helpfulness")
    assert np.all(honest.factor_diffs[:, 1] == 0)


def test_ultrafeedback_rating_errors(tmp_path):
    path = tmp_path / "uf.jsonl"
    write_jsonl(path, [uf_row("P", completion("a", "4", "5"), completion("b", "6", "5"))])
    assert_names(
        error_of(load_ultrafeedback, path),
        str(path),
        "line 1",
        "field 'completions[1].annotations.truthfulness.Rating'",
        "expected a rating 1-5 or 'N/A', got '6'",
    )
    write_jsonl(path, [uf_row("P", completion("a", "good", "5"))])
    assert_names(error_of(load_ultrafeedback, path), "expected a rating 1-5 or 'N/A', got 'good'")
    broken = completion("b", "4", "4")
    del broken["annotations"]["truthfulness"]
    write_jsonl(path, [uf_row("P", completion("a", "4", "5")), uf_row("Q", broken)])
    assert_names(
        error_of(load_ultrafeedback, path), "line 2", "field 'completions[0].annotations.truthfulness'", "missing"
    )
    write_jsonl(
        path,
        [
            uf_row("P", completion("a", "N/A", "5"), completion("b", "3", "N/A")),
            uf_row("Q", completion("c", "N/A", "N/A")),
        ],
    )
    assert_names(
        error_of(load_ultrafeedback, path),
        str(path),
        "no usable pairs",
        "3 of 3 completions",
        "line 1",
        "field 'completions[0].annotations.truthfulness'",
    )
    write_jsonl(path, [{"instruction": "P"}])
    assert_names(error_of(load_ultrafeedback, path), "line 1", "field 'completions'", "missing")


def test_ultrafeedback_binarized_strings_and_messages(tmp_path):
    strings = [
        {
            "prompt": f"P{k}",
            "chosen": f"good {k}",
            "rejected": f"bad {k}",
            "source_index": k,
            "metadata": {"score_chosen": 9.0, "score_rejected": 7.0},
        }
        for k in range(30)
    ]
    pairs = load_ultrafeedback(write_jsonl(tmp_path / "b.jsonl.gz", strings, gz=True))
    assert len(pairs) == 30 and pairs.factor_diffs is None and 0 < pairs.label.sum() < 30
    for k in range(30):
        chosen = pairs.response_a[k] if pairs.label[k] == 1 else pairs.response_b[k]
        assert chosen == f"good {k}" and pairs.prompt[k] == f"P{k}"
    messages = [
        {
            "chosen": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello!"}],
            "rejected": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}],
            "score_chosen": 8,
            "score_rejected": 2,
        }
    ]
    path = write_jsonl(tmp_path / "m.jsonl", messages)
    one = load_ultrafeedback(path)
    assert one.prompt == ["hi"] and {one.response_a[0], one.response_b[0]} == {"hello!", "go away"}
    assert guess_kind(path) == "preference"
    messages[0]["rejected"][-1]["role"] = "user"
    write_jsonl(path, messages)
    assert_names(error_of(load_ultrafeedback, path), "line 1", "field 'rejected'", "assistant")


# ---------------------------------------------------------------------------------- generic tables


def test_response_table_csv_and_parquet(tmp_path):
    header = ["prompt", "response", "clarity", "accuracy"]
    rows = [
        ["p1", "x", "1", "0.5"],
        ["p1", "y", "3", "0"],
        ["p1", "z", "2", "1"],
        ["p2", "u", "0", "0"],
        ["p2", "v", "1", "1"],
        ["p3", "lonely", "1", "1"],
    ]
    path = write_csv(tmp_path / "resp.csv", header, rows)
    pairs = load_response_table(path, factors=["clarity", "accuracy"])
    assert len(pairs) == 4 and pairs.group.tolist() == [0, 0, 0, 1] and pairs.label is None
    assert pairs.skipped == {"prompts with fewer than 2 responses": 1}
    value = {r[1]: (float(r[2]), float(r[3])) for r in rows}
    for k in range(4):
        assert (
            pairs.factor_diffs[k].tolist()
            == np.subtract(value[pairs.response_a[k]], value[pairs.response_b[k]]).tolist()
        )
    pytest.importorskip("pyarrow")
    import pandas as pd

    frame = pd.DataFrame(rows, columns=header).astype({"clarity": float, "accuracy": float})
    frame.to_parquet(tmp_path / "resp.parquet")
    from_parquet = load_dataset(tmp_path / "resp.parquet", factors=["clarity", "accuracy"])
    assert from_parquet.response_a == pairs.response_a and np.array_equal(from_parquet.factor_diffs, pairs.factor_diffs)
    frame.loc[4, "accuracy"] = np.nan
    frame.to_parquet(tmp_path / "nan.parquet")
    assert_names(
        error_of(load_response_table, tmp_path / "nan.parquet", ["accuracy"]),
        "row 5",
        "field 'accuracy'",
        "finite number",
    )
    assert_names(
        error_of(load_response_table, tmp_path / "resp.parquet", ["depth"]),
        "field 'depth'",
        "column missing",
        "'clarity'",
    )


def test_response_table_errors(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["prompt", "response", "f"], [["p", "a", "1"], ["p", "b", "high"]])
    assert_names(
        error_of(load_response_table, path, ["f"]),
        str(path),
        "line 3",
        "field 'f'",
        "expected a finite number, got 'high'",
    )
    missing = write_csv(tmp_path / "m.csv", ["prompt", "answer", "f"], [["p", "a", "1"]])
    assert_names(
        error_of(load_response_table, missing, ["f"]),
        "field 'response'",
        "column missing",
        "the columns present are ['prompt', 'answer', 'f']",
    )
    (tmp_path / "empty.csv").write_text("")
    assert_names(error_of(load_response_table, tmp_path / "empty.csv", ["f"]), "empty.csv", "line 1", "empty")
    (tmp_path / "head.csv").write_text("prompt,response,f\n")
    assert_names(error_of(load_response_table, tmp_path / "head.csv", ["f"]), "head.csv", "no data rows")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("prompt,response,f\np,a,1\np,b\n")
    assert_names(error_of(load_response_table, ragged, ["f"]), "line 3", "2 values but the header has 3 columns")


def test_pair_table_json_list_with_words(tmp_path):
    rows = [
        {"prompt": "p", "response_a": "a", "response_b": "b", "label": 1, "objective": "helpful", "prompt_type": 1},
        {
            "prompt": "p",
            "response_a": "c",
            "response_b": "d",
            "label": 0,
            "objective": "harmless",
            "prompt_type": "harmless",
        },
        {"prompt": "q", "response_a": "e", "response_b": "f", "label": "1", "objective": 1, "prompt_type": 0},
    ]
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps(rows, indent=1))
    pairs = load_pair_table(path)
    assert pairs.label.tolist() == [1.0, 0.0, 1.0] and pairs.response_a == ["a", "c", "e"]
    assert pairs.objective.tolist() == [0, 1, 1] and pairs.prompt_type.tolist() == [1, 1, 0]
    assert pairs.group.tolist() == [0, 0, 1] and guess_kind(path) == "pairs"
    rows[2]["objective"] = "useful"
    path.write_text(json.dumps(rows, indent=1))
    line = 1 + json.dumps(rows, indent=1).split("\n").index(" {", 2 * 8)  # where the third object starts
    assert_names(error_of(load_pair_table, path), str(path), f"line {line}", "field 'objective'", "'useful'")
    path.write_text('[{"prompt": "p", "response_a": "a",\n "response_b": "b", "label": 1}\n {"prompt": "q"}]')
    assert_names(error_of(load_pair_table, path), "line 3", "not valid JSON")


def test_pair_table_csv_group_column_and_missing_label(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["prompt", "response_a", "response_b", "label", "group"],
        [["p", "a", "b", "1", "g1"], ["q", "c", "d", "0", "g1"], ["r", "e", "f", "1", "g2"]],
    )
    pairs = load_pair_table(path)
    assert pairs.group.tolist() == [0, 0, 1] and pairs.objective is None and pairs.prompt_type is None
    bad = write_csv(tmp_path / "b.csv", ["prompt", "response_a", "response_b"], [["p", "a", "b"]])
    assert_names(
        error_of(load_pair_table, bad),
        str(bad),
        "field 'label'",
        "column missing",
        "['prompt', 'response_a', 'response_b']",
    )


# ---------------------------------------------------------------------------------- dispatch


def test_load_dataset_guesses_kind_and_dispatches(tmp_path):
    hh = write_jsonl(tmp_path / "harmless-base" / "test.jsonl", [hh_row(0), hh_row(1)])
    assert guess_kind(hh) == "hh-rlhf" and load_dataset(hh).prompt_type.tolist() == [1, 1]
    rel = write_jsonl(tmp_path / "r.jsonl", [relabeled_row("p", 0)])
    assert guess_kind(rel) == "relabeled-hh" and load_dataset(str(rel)).label.tolist() == [1.0]
    tq = write_jsonl(tmp_path / "t.jsonl", TQA_ROWS)
    assert guess_kind(tq) == "truthfulqa" and len(load_dataset(tq, max_pairs_per_question=1)) == 2
    uf = write_jsonl(tmp_path / "u.jsonl", [uf_row("P", completion("a", "4", "5"), completion("b", "3", "5"))])
    assert guess_kind(uf) == "ultrafeedback" and len(load_dataset(uf, kind="ultrafeedback", aspects=["honesty"])) == 1
    assert len(load_dataset(hh, kind="hh_rlhf")) == 2  # underscores are accepted
    assert_names(error_of(load_dataset, hh, kind="hh-rlhf", factors=["x"]), "load_hh_rlhf", "factors")
    assert_names(error_of(load_dataset, hh, kind="reddit"), "unknown data kind 'reddit'")
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"text": "x"}])
    assert_names(error_of(load_dataset, odd), str(odd), "line 1", "cannot tell the shape", "['text']")


def test_a_display_name_replaces_the_path_in_every_error(tmp_path):
    """An upload is read from its saved copy (cache/uploads/<sha>.jsonl); its user knows it by its own name."""
    saved = write_jsonl(tmp_path / "uploads" / "3fa4c0.jsonl", [relabeled_row("p", 0), relabeled_row("q", 7)])
    message = error_of(load_dataset, saved, display_name="my_prefs.jsonl")  # kind guessed, then loaded
    assert message.startswith("my_prefs.jsonl, line 2, field 'label'") and "3fa4c0" not in message
    odd = write_jsonl(tmp_path / "uploads" / "9b1e.jsonl", [{"text": "x"}])
    message = error_of(guess_kind, odd, "notes.jsonl")
    assert message.startswith("notes.jsonl, line 1: cannot tell the shape") and "9b1e" not in message
    assert guess_kind(odd, "hh-rlhf-test.jsonl") == "hh-rlhf"  # the fallback reads the user's name
    with pytest.raises(CausalPrefError, match=r"^data file mine.csv is gone$"):
        with named_in_errors(tmp_path / "uploads" / "x.csv", "mine.csv"):
            raise CausalPrefError(f"data file {(tmp_path / 'uploads' / 'x.csv').resolve()} is gone")
    assert error_of(load_dataset, odd) == error_of(load_dataset, odd, display_name=None)  # no name: unchanged


def test_offline_only_and_bad_paths(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    message = error_of(load_dataset, "Anthropic/hh-rlhf")
    assert_names(message, "Anthropic/hh-rlhf", "hub name", "nothing is downloaded", "--download", "pass the path")
    assert_names(error_of(load_hh_rlhf, "someone/some-data"), "hub name", "nothing is downloaded")
    assert_names(error_of(load_dataset, tmp_path / "missing.jsonl"), "missing.jsonl", "no such file")
    (tmp_path / "data.txt").write_text("x")
    assert_names(
        error_of(load_dataset, tmp_path / "data.txt", kind="pairs"), "data.txt", "unknown file type '.txt'", ".jsonl"
    )
    assert_names(error_of(load_dataset, tmp_path), "is a folder")
    assert_names(error_of(load_hh_rlhf, write_jsonl(tmp_path / "h.jsonl", [hh_row(0)]), max_rows=0), "max_rows")


def test_max_rows_reads_only_the_first_records(tmp_path):
    rows = [hh_row(k) for k in range(10)] + ["{broken"]
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    assert len(load_hh_rlhf(path, max_rows=4)) == 4
    assert_names(error_of(load_hh_rlhf, path), "line 11", "not valid JSON")


GOOD_PAIR = '{"prompt": "p", "response_a": "x", "response_b": "y", "label": 1}'
BAD_JSON = {  # JSON that parses (or crashes the parser) but no loader should take silently
    "nesting": (
        '{"prompt": "q", "response_a": "x", "response_b": "y", "label": 0, "z": %s}' % ("[" * 100_000 + "]" * 100_000),
        None,
        "JSON nested too deeply",
    ),
    "surrogate": (
        '{"prompt": "q", "response_a": "ok \\ud800", "response_b": "y", "label": 0}',
        "response_a",
        "lone UTF-16 surrogate '\\ud800'",
    ),
    "duplicate key": (
        '{"prompt": "q", "response_a": "x", "response_b": "y", "label": 0, "label": 1}',
        "label",
        "key given twice",
    ),
}


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
@pytest.mark.parametrize("case", list(BAD_JSON))
def test_json_the_loaders_cannot_trust_is_one_line_naming_file_line_and_field(tmp_path, case, suffix):
    line, field, expected = BAD_JSON[case]
    path = tmp_path / f"pairs{suffix}"
    text = f"{GOOD_PAIR}\n{line}\n" if suffix == ".jsonl" else f"[{GOOD_PAIR},\n{line}]\n"
    path.write_text(text, encoding="utf-8")
    message = error_of(load_pair_table, path)
    where = f"pairs{suffix}, line 2" + ("" if field is None else f", field {field!r}")
    assert_names(message, where, expected)


# ---------------------------------------------------------------------------------- the real data


@needs_data
@pytest.mark.parametrize("split, t", [("helpful-base", 0), ("harmless-base", 1)])
def test_real_hh_rlhf_slice(split, t):
    pairs = load_dataset(DATA / "hh-rlhf" / split / "test.jsonl.gz", max_rows=200)
    assert len(pairs) == 200 and set(pairs.prompt_type.tolist()) == {t}
    assert 0.4 <= pairs.label.mean() <= 0.6
    assert all(p.startswith("Human:") for p in pairs.prompt)
    assert not any("\n\nHuman:" in r for r in pairs.response_a + pairs.response_b)


@needs_data
def test_real_relabeled_hh_cells():
    pairs = load_dataset(DATA / "relabeled-hh-rlhf" / "both" / "test.jsonl.gz")  # 4,043 rows: fast
    assert pairs.summary()["t_c_counts"] == {
        "helpful->helpful": 1105,
        "helpful->harmless": 882,
        "harmless->helpful": 1052,
        "harmless->harmless": 1004,
    }
    head = load_relabeled_hh(DATA / "relabeled-hh-rlhf" / "both" / "test.jsonl.gz", max_rows=200)
    assert len(head) == 200 and set(head.label.tolist()) == {0.0, 1.0}


@needs_data
def test_real_truthfulqa_slice():
    pairs = load_dataset(DATA / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz", max_rows=200)
    assert pairs.factor_names == ("truthful", "informative") and pairs.label is None
    assert set(np.unique(pairs.factor_diffs)) <= {-1.0, 0.0, 1.0}
    assert all(np.unique(pairs.factor_diffs[:, j]).size == 3 for j in range(2))
    assert pairs.n_groups >= 5
    for g in np.unique(pairs.group):  # one question per group
        assert len({pairs.prompt[i] for i in np.flatnonzero(pairs.group == g)}) == 1


@needs_data
def test_real_ultrafeedback_binarized():
    pairs = load_dataset(DATA / "ultrafeedback-binarized-sample" / "eval_clean.jsonl.gz")
    assert len(pairs) == 200 and 0.35 <= pairs.label.mean() <= 0.65 and pairs.factor_diffs is None


def test_other_containers_gzip_json_and_csv(tmp_path):
    rows = [relabeled_row("p", 0), relabeled_row("q", 1)]
    path = tmp_path / "r.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(rows, handle)
    assert load_relabeled_hh(path).label.tolist() == [1.0, 0.0]
    (tmp_path / "empty.json").write_text("[ ]")
    assert_names(error_of(load_relabeled_hh, tmp_path / "empty.json"), "empty.json", "line 1", "empty list")
    (tmp_path / "object.json").write_text('{"prompt": "p"}')
    assert_names(error_of(load_relabeled_hh, tmp_path / "object.json"), "expected a JSON list", ".jsonl")
    csv_gz = tmp_path / "pairs.csv.gz"
    with gzip.open(csv_gz, "wt", encoding="utf-8", newline="") as handle:
        handle.write('prompt,response_a,response_b,label,prompt_type\np,"a, with comma",b,1,helpful\nq,c,d,0,1\n')
    pairs = load_pair_table(csv_gz)
    assert pairs.response_a == ["a, with comma", "c"] and pairs.prompt_type.tolist() == [0, 1]


def test_split_dialogues_uses_the_last_shared_assistant_turn():
    chosen = dialogue("q", "short") + "\n\nAssistant: and more"
    rejected = dialogue("q", "different")
    assert split_dialogues(chosen, rejected) == ("Human: q", "short\n\nAssistant: and more", "different")
    assert split_dialogues(dialogue("q1", "a"), dialogue("q2", "a")) is None
    assert split_dialogues(dialogue("q", "a", "x", "b"), dialogue("q", "a", "y", "b")) is None
