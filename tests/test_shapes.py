"""The ecosystem's preference shapes, column mapping, folders and measured factors, at library level.

Tiny fixtures are written to tmp_path; nothing is embedded.
"""

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from causalpref import CausalPrefError
from causalpref.data.columns import ColumnMap, DataSource
from causalpref.data.loaders import data_files, load_dataset, recognise_file
from causalpref.data.worlds.real import RealDataWorld
from causalpref.draw.splits import draw_exp2_splits
from causalpref.run.specs import Exp2Sizes

# ---------------------------------------------------------------------------------- helpers


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, header, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
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


def chosen_of(pairs, i):
    """(preferred, other) response of pair i, read through its label."""
    if pairs.label[i] == 1.0:
        return pairs.response_a[i], pairs.response_b[i]
    return pairs.response_b[i], pairs.response_a[i]


def assert_seeded_order(pairs):
    """a/b is not always the chosen one first (nor always second)."""
    n = len(pairs)
    assert n >= 30
    assert 0 < pairs.label.sum() < n, pairs.label


def assert_groups_follow(pairs, keys):
    """Pairs share a group id exactly when they share a key (the prompt)."""
    keys = list(keys)
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            assert (pairs.group[i] == pairs.group[j]) == (keys[i] == keys[j]), (i, j, keys[i], keys[j])


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# ------------------------------------------------------------------------- 1. TRL shapes


def test_explicit_prompt_strings(tmp_path):
    rows = [{"prompt": f"question {i // 3}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(36)]
    path = write_jsonl(tmp_path / "explicit.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "preference"
    assert_names(shape, "explicit prompt", "plain strings")
    pairs = load_dataset(path)
    assert len(pairs) == 36 and "explicit prompt" in pairs.shape
    for i in range(36):
        assert pairs.prompt[i] == f"question {i // 3}"
        assert chosen_of(pairs, i) == (f"good {i}", f"bad {i}")
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, pairs.prompt)
    assert pairs.n_groups == 12


def test_order_of_a_and_b_is_seeded(tmp_path):
    rows = [{"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(40)]
    path = write_jsonl(tmp_path / "explicit.jsonl", rows)
    same = load_dataset(path, seed=0).label
    np.testing.assert_array_equal(same, load_dataset(path, seed=0).label)
    assert not np.array_equal(same, load_dataset(path, seed=1).label)


def test_explicit_prompt_conversational(tmp_path):
    rows = [
        {
            "prompt": [user(f"question {i // 3}")],
            "chosen": [assistant(f"good {i}")],
            "rejected": [assistant(f"bad {i}")],
        }
        for i in range(36)
    ]
    path = write_jsonl(tmp_path / "conv.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "preference"
    assert_names(shape, "explicit prompt", "conversational")
    pairs = load_dataset(path)
    for i in range(36):
        assert pairs.prompt[i] == f"question {i // 3}"
        assert chosen_of(pairs, i) == (f"good {i}", f"bad {i}")
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, [i // 3 for i in range(36)])


def test_implicit_prompt_strings_share_their_beginning(tmp_path):
    rows = [{"chosen": "The sky is blue.", "rejected": "The sky is green."}]
    rows += [
        {"chosen": f"The sky {i // 3} is blue {i}.", "rejected": f"The sky {i // 3} is green {i}."} for i in range(35)
    ]
    path = write_jsonl(tmp_path / "implicit.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "preference"
    assert_names(shape, "implicit prompt", "plain strings")
    pairs = load_dataset(path)
    assert pairs.prompt[0] == "The sky is"
    assert chosen_of(pairs, 0) == ("blue.", "green.")
    for k in range(1, 36):
        i = k - 1
        assert pairs.prompt[k] == f"The sky {i // 3} is"
        assert chosen_of(pairs, k) == (f"blue {i}.", f"green {i}.")
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, pairs.prompt)


def test_implicit_prompt_conversational(tmp_path):
    def dialogue(i, reply):
        return [user(f"question {i // 3}"), assistant("earlier answer"), user("and then?"), assistant(reply)]

    rows = [{"chosen": dialogue(i, f"good {i}"), "rejected": dialogue(i, f"bad {i}")} for i in range(36)]
    path = write_jsonl(tmp_path / "implicit_conv.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "preference"
    assert_names(shape, "implicit prompt", "conversational")
    pairs = load_dataset(path)
    for i in range(36):
        # the prompt is every message before the final assistant message
        assert_names(pairs.prompt[i], f"question {i // 3}", "earlier answer", "and then?")
        assert "good" not in pairs.prompt[i] and "bad" not in pairs.prompt[i]
        assert chosen_of(pairs, i) == (f"good {i}", f"bad {i}")
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, [i // 3 for i in range(36)])


def test_hh_dialogue_strings(tmp_path):
    def dialogue(i, reply):
        return f"\n\nHuman: question {i // 3}\n\nAssistant: {reply}"

    rows = [{"chosen": dialogue(i, f"good {i}"), "rejected": dialogue(i, f"bad {i}")} for i in range(36)]
    path = write_jsonl(tmp_path / "dialogues.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "hh-rlhf"
    assert "HH-RLHF" in shape
    pairs = load_dataset(path)
    assert "HH-RLHF" in pairs.shape
    for i in range(36):
        assert f"question {i // 3}" in pairs.prompt[i]
        assert chosen_of(pairs, i) == (f"good {i}", f"bad {i}")
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, [i // 3 for i in range(36)])


def test_unpaired_every_desirable_undesirable_completion_is_a_pair(tmp_path):
    rows, good, bad = [], {}, {}
    for q in range(10):
        prompt = f"question {q}"
        good[prompt] = [f"good {q}.{k}" for k in range(3)]
        bad[prompt] = [f"bad {q}.{k}" for k in range(2)]
        rows += [{"prompt": prompt, "completion": c, "label": True} for c in good[prompt]]
        rows += [{"prompt": prompt, "completion": c, "label": False} for c in bad[prompt]]
    path = write_jsonl(tmp_path / "unpaired.jsonl", rows)
    kind, shape = recognise_file(path)
    assert kind == "unpaired"
    assert "unpaired" in shape
    pairs = load_dataset(path)
    assert len(pairs) == 10 * 3 * 2
    seen = set()
    for i in range(len(pairs)):
        preferred, other = chosen_of(pairs, i)
        assert preferred in good[pairs.prompt[i]] and other in bad[pairs.prompt[i]]
        seen.add((pairs.prompt[i], preferred, other))
    assert len(seen) == 60  # every desirable x undesirable combination, once
    # per prompt 3 pairs of two desirable and 1 of two undesirable completions: no preference
    tie_counts = [k for why, k in pairs.skipped.items() if "two desirable" in why]
    assert tie_counts == [10 * (3 + 1)], pairs.skipped
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, pairs.prompt)
    assert pairs.n_groups == 10


def test_rating_table_csv_higher_score_preferred(tmp_path):
    scores = {0: 1.0, 1: 2.0, 2: 2.0, 3: 5.0}
    rows = [[f"question {q}", f"response {q}.{k}", s] for q in range(10) for k, s in scores.items()]
    path = write_csv(tmp_path / "ratings.csv", ["prompt", "response", "score"], rows)
    kind, shape = recognise_file(path)
    assert kind == "ratings"
    assert_names(shape, "rating table", "score")
    pairs = load_dataset(path)
    assert len(pairs) == 10 * 5  # 6 pairs per prompt, one of them a tie
    for i in range(len(pairs)):
        preferred, other = chosen_of(pairs, i)
        assert scores[int(preferred.split(".")[-1])] > scores[int(other.split(".")[-1])]
    ties = [k for why, k in pairs.skipped.items() if "equal" in why]
    assert ties == [10], pairs.skipped
    assert_seeded_order(pairs)
    assert_groups_follow(pairs, pairs.prompt)


# ----------------------------------------------------------------------- 2. column mapping

MAPPING = (
    "prompt=input response_a=output_1 response_b=output_2 label=pref:1=a,2=b,0=drop "
    "objective=obj:h=helpful,s=harmless prompt_type=ptype"
).split()
FLAT_FIELDS = ["input", "output_1", "output_2", "pref", "obj", "ptype"]


def flat_rows(n=30):
    return [
        {
            "input": f"prompt {i // 2}",
            "output_1": f"first {i}",
            "output_2": f"second {i}",
            "pref": [1, 2, 0][i % 3],
            "obj": "hs"[i % 2],
            "ptype": ["helpful", "harmless"][(i // 2) % 2],
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_column_mapping_reads_the_right_fields(tmp_path, suffix):
    rows = flat_rows()
    if suffix == "jsonl":
        path = write_jsonl(tmp_path / "flat.jsonl", rows)
    else:
        path = write_csv(tmp_path / "flat.csv", FLAT_FIELDS, [[r[f] for f in FLAT_FIELDS] for r in rows])
    source = DataSource(str(path), ColumnMap.parse(MAPPING))
    assert recognise_file(source)[0] == "pairs"
    pairs = load_dataset(source)
    kept = [r for r in rows if r["pref"] != 0]
    assert len(pairs) == len(kept) == 20
    assert pairs.prompt == [r["input"] for r in kept]
    assert pairs.response_a == [r["output_1"] for r in kept]
    assert pairs.response_b == [r["output_2"] for r in kept]
    assert pairs.label.tolist() == [1.0 if r["pref"] == 1 else 0.0 for r in kept]
    assert pairs.objective.tolist() == [0 if r["obj"] == "h" else 1 for r in kept]
    assert pairs.prompt_type.tolist() == [0 if r["ptype"] == "helpful" else 1 for r in kept]
    dropped = {why: k for why, k in pairs.skipped.items() if "dropped by --columns" in why}
    assert list(dropped.values()) == [10], pairs.skipped
    assert "pref" in next(iter(dropped))
    assert_groups_follow(pairs, pairs.prompt)


def test_column_mapping_accepts_a_list_or_one_string():
    assert ColumnMap.parse(MAPPING) == ColumnMap.parse(" ".join(MAPPING))
    assert ColumnMap.parse(MAPPING).describe() == " ".join(MAPPING)
    assert not ColumnMap.parse(None)


def test_value_not_in_the_map_names_line_field_value_and_suggests_drop(tmp_path):
    rows = flat_rows(6) + [dict(flat_rows(1)[0], pref=3)]
    path = write_jsonl(tmp_path / "flat.jsonl", rows)
    message = error_of(load_dataset, DataSource(str(path), ColumnMap.parse(MAPPING)))
    assert_names(message, "flat.jsonl", "line 7", "'pref'", "'3'", "pref:3=drop")


def test_mapped_column_missing_from_a_csv_header_fails_before_any_row(tmp_path):
    # row 2 is malformed (one value too many): reading it would give another error
    path = tmp_path / "flat.csv"
    path.write_text("input,output_1,output_2,pref\nq,a,b,1,EXTRA\n", encoding="utf-8")
    mapping = ColumnMap.parse(["prompt=question", "response_a=output_1", "response_b=output_2", "label=pref:1=a,2=b"])
    for call in (recognise_file, load_dataset):
        message = error_of(call, DataSource(str(path), mapping))
        assert_names(message, "flat.csv", "'question'", "['input', 'output_1', 'output_2', 'pref']", "--columns")
        assert "values but the header" not in message
    message = error_of(load_dataset, DataSource(str(path), mapping), kind="pairs")
    assert_names(message, "'question'", "['input', 'output_1', 'output_2', 'pref']")


def test_mapped_field_missing_from_a_json_line_names_the_line(tmp_path):
    rows = flat_rows(4)
    del rows[2]["output_2"]
    path = write_jsonl(tmp_path / "flat.jsonl", rows)
    message = error_of(load_dataset, DataSource(str(path), ColumnMap.parse(MAPPING)), kind="pairs")
    assert_names(message, "flat.jsonl", "line 3", "'output_2'", "missing", "'response_b'")


@pytest.mark.parametrize(
    "items, expected",
    [
        (["prompt"], "expected FIELD=COLUMN"),
        (["=x"], "expected FIELD=COLUMN"),
        (["label=pref:1"], "VALUE=MEANING"),
        (["label=pref:1=z"], "'z' is not a meaning of 'label'"),
        (["prompt=a", "prompt=b"], "'prompt' is mapped twice"),
        (["prompt=a", "response=a"], "column 'a' is mapped to two fields"),
        (["prompt=input:1=a"], "values of 'prompt' cannot be mapped"),
        (["label=pref:1=a,1=b"], "mapped twice"),
    ],
)
def test_malformed_columns_items_are_one_line_errors(items, expected):
    message = error_of(ColumnMap.parse, items)
    assert_names(message, "--columns", expected)


def test_first_row_dropped_by_the_mapping_is_not_fatal(tmp_path):
    rows = flat_rows(12)
    rows[0]["pref"] = 0
    path = write_jsonl(tmp_path / "flat.jsonl", rows)
    source = DataSource(str(path), ColumnMap.parse(MAPPING))
    assert recognise_file(source)[0] == "pairs"
    pairs = load_dataset(DataSource(str(path), ColumnMap.parse(MAPPING)))
    assert sum(k for why, k in pairs.skipped.items() if "dropped" in why) == 5


def test_loading_the_same_mapped_source_twice_counts_drops_once(tmp_path):
    path = write_jsonl(tmp_path / "flat.jsonl", flat_rows())
    source = DataSource(str(path), ColumnMap.parse(MAPPING))
    first = load_dataset(source, kind="pairs").skipped
    second = load_dataset(source, kind="pairs").skipped
    assert first == second


# ---------------------------------------------------------------------------------- 3. folders


def hh_rows(offset, n):
    return [
        {
            "chosen": f"\n\nHuman: question {i // 2}\n\nAssistant: good {offset + i}",
            "rejected": f"\n\nHuman: question {i // 2}\n\nAssistant: bad {offset + i}",
        }
        for i in range(n)
    ]


def test_folder_of_files_is_read_and_joined_with_groups_per_file(tmp_path):
    folder = tmp_path / "data"
    write_jsonl(folder / "one.jsonl", hh_rows(0, 8))
    write_jsonl(folder / "part" / "two.jsonl", hh_rows(100, 6))  # the same prompts as one.jsonl
    (folder / "notes.txt").write_text("not data")
    assert [Path(f).name for f in data_files(folder)] == ["one.jsonl", "two.jsonl"]
    assert recognise_file(folder)[0] == "hh-rlhf"
    pairs = load_dataset(folder)
    assert len(pairs) == 14
    assert "2 files" in pairs.shape
    assert pairs.source == str(folder)
    first, second = set(pairs.group[:8].tolist()), set(pairs.group[8:].tolist())
    assert not first & second  # the same prompt in two files is two groups
    assert len(first) == 4 and len(second) == 3
    for i in range(14):
        assert chosen_of(pairs, i)[0].startswith("good")


@pytest.fixture
def offline_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    return datasets


def saved_preference_folder(datasets, folder: Path) -> Path:
    rows = [{"prompt": f"question {i // 2}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(32)]
    datasets.Dataset.from_list(rows).save_to_disk(str(folder))
    return folder


def test_saved_datasets_folder_loads(tmp_path, offline_datasets):
    folder = saved_preference_folder(offline_datasets, tmp_path / "saved")
    assert data_files(folder) == []
    kind, shape = recognise_file(folder)
    assert kind == "preference" and "explicit prompt" in shape
    pairs = load_dataset(folder)
    assert len(pairs) == 32
    for i in range(32):
        assert chosen_of(pairs, i) == (f"good {i}", f"bad {i}")
    assert_seeded_order(pairs)
    assert pairs.n_groups == 16


def test_saved_datasets_folder_loads_from_a_string_path(tmp_path, offline_datasets):
    folder = saved_preference_folder(offline_datasets, tmp_path / "saved")
    assert recognise_file(str(folder))[0] == "preference"
    assert len(load_dataset(str(folder))) == 32


# ------------------------------------------------------------- 4. the guessed shape does not fit


def test_a_file_that_does_not_fit_its_guessed_shape_says_what_it_was_read_as(tmp_path):
    rows = [{"prompt": "p", "chosen": ["a", "b"], "rejected": ["c", "d"]}]
    path = write_jsonl(tmp_path / "lists.jsonl", rows)
    message = error_of(load_dataset, path)
    assert_names(message, "lists.jsonl", "line 1", "'chosen", "read as", "TRL preference data", "--columns")


def test_a_file_of_no_known_shape_suggests_columns(tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", [{"x": 1, "y": 2}])
    message = error_of(load_dataset, path)
    assert_names(message, "odd.jsonl", "line 1", "['x', 'y']", "--columns", "--world")


# ---------------------------------------------------------------------- 5. measured factors


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def length_pairs(tmp_path):
    """120 labelled pairs; the preferred response is the longer one in ~80 %."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(120):
        short = " ".join(["short"] * int(rng.integers(2, 6)))
        long = " ".join(["long"] * int(rng.integers(7, 14)))
        preferred, other = (long, short) if rng.random() < 0.8 else (short, long)
        a_preferred = bool(rng.random() < 0.5)
        a, b = (preferred, other) if a_preferred else (other, preferred)
        rows.append([f"prompt {i // 2}", f"{a} {i}", f"{b} x", int(a_preferred)])
    return write_csv(tmp_path / "pairs.csv", ["prompt", "response_a", "response_b", "label"], rows), rows


def test_measured_length_is_the_second_factor_of_a_pair_table(length_pairs):
    path, rows = length_pairs
    world = RealDataWorld.from_path("pairs", path, measure="length_words")
    pool = world.text_pool()
    assert pool.factor_names == ("preferred", "length_words")
    labels = np.array([r[3] for r in rows])
    np.testing.assert_array_equal(pool.label, labels)
    np.testing.assert_array_equal(pool.factor_diffs[:, 0], np.where(labels == 1, 1.0, -1.0))
    np.testing.assert_array_equal(pool.factor_diffs[:, 1], [words(r[1]) - words(r[2]) for r in rows])
    longer_preferred = np.mean(pool.factor_diffs[:, 0] * pool.factor_diffs[:, 1] > 0)
    assert 0.65 < longer_preferred < 0.95
    assert_names(world.rule, "label", "length (words)")


def test_unknown_measure_fails_when_the_world_is_made(length_pairs):
    path, _ = length_pairs
    message = error_of(RealDataWorld.from_path, "pairs", path, measure="loudness")
    assert_names(message, "loudness", "length_words")


@pytest.fixture
def response_table(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for q in range(20):
        for k in range(4):
            text = " ".join(["w"] * int(rng.integers(1, 9))) + f" r{q}.{k}"
            rows.append([f"question {q}", text, int(rng.integers(0, 3)), int(rng.integers(0, 3))])
    return write_csv(tmp_path / "responses.csv", ["prompt", "response", "correctness", "style"], rows)


def test_factor_data_labels_follow_the_preferred_factor_only(response_table):
    world = RealDataWorld.from_path("responses", response_table, factors=("correctness", "style"), a=1.0)
    pool = world.text_pool()
    assert pool.factor_names == ("correctness", "style")
    d1, d2 = pool.factor_diffs[:, 0], pool.factor_diffs[:, 1]
    disagree = d1 * d2 < 0
    assert disagree.sum() >= 10
    np.testing.assert_array_equal(pool.label[disagree], (d1[disagree] > 0).astype(np.float32))
    decided = d1 != 0
    np.testing.assert_array_equal(pool.label[decided], (d1[decided] > 0).astype(np.float32))
    assert_names(world.rule, "correctness", "style is spurious")


def test_factor_data_without_a_rule_names_prefer_and_weights(response_table):
    world = RealDataWorld.from_path("responses", response_table, factors=("correctness", "style"))
    message = error_of(world.text_pool)
    assert_names(message, "--prefer", "--weights", "correctness", "style")


def test_factor_order_follows_the_rule(response_table):
    forward = RealDataWorld.from_path("responses", response_table, factors=("correctness", "style"), a=1.0)
    backward = RealDataWorld.from_path("responses", response_table, factors=("style", "correctness"), a=1.0)
    assert backward.text_pool().factor_names == ("style", "correctness")
    np.testing.assert_array_equal(backward.text_pool().factor_diffs, forward.text_pool().factor_diffs[:, ::-1])


def test_response_table_with_a_measured_factor_beside_two_columns(response_table):
    world = RealDataWorld.from_path(
        "responses", response_table, factors=("correctness", "length_words", "style"), a=1.0
    )
    pool = world.text_pool()
    text = world.text
    assert pool.factor_names[:2] == ("correctness", "length_words")
    np.testing.assert_array_equal(
        pool.factor_diffs[:, 1], [words(a) - words(b) for a, b in zip(text.response_a, text.response_b)]
    )


def test_response_table_with_one_column_and_one_measured_factor(response_table):
    world = RealDataWorld.from_path("responses", response_table, factors=("correctness", "length_words"), a=1.0)
    pool = world.text_pool()
    text = world.text
    assert pool.factor_names == ("correctness", "length_words")
    np.testing.assert_array_equal(
        pool.factor_diffs[:, 1], [words(a) - words(b) for a, b in zip(text.response_a, text.response_b)]
    )


# ------------------------------------------------------------ 6. Experiment 2 by prompt group


@pytest.fixture
def grouped_objective_pairs(tmp_path):
    """100 prompts x 4 pairs: the prompt type per prompt, objectives alternating within it."""
    rows = []
    for i in range(400):
        q = i // 4
        rows.append(
            {
                "input": f"prompt {q}",
                "output_1": f"first {i}",
                "output_2": f"second {i}",
                "pref": [1, 2][(i * 7 // 3) % 2],
                "obj": "hs"[i % 2],
                "ptype": ["helpful", "harmless"][q % 2],
                "other": (i // 2) % 2,
            }
        )
    return write_jsonl(tmp_path / "grouped.jsonl", rows), rows


def test_exp2_splits_keep_prompt_groups_whole(grouped_objective_pairs):
    path, rows = grouped_objective_pairs
    columns = ColumnMap.parse(MAPPING + ["label_other=other"])
    world = RealDataWorld.from_path("pairs", path, columns=columns)
    pool = world.text_pool()
    assert len(pool) == 400 and np.unique(pool.group).size == 100
    np.testing.assert_array_equal(pool.counterfactual_label, [r["other"] for r in rows])
    for seed in range(3):
        splits = draw_exp2_splits(pool, seed, 0.7, Exp2Sizes(train=60, val=16, test=16))
        groups = {name: set(pool.group[idx].tolist()) for name, idx in splits.indices.items()}
        test = groups["consistent"] | groups["inconsistent"]
        assert not groups["train"] & groups["val"]
        assert not groups["train"] & test
        assert not groups["val"] & test
        counts = Counter(len(idx) for idx in splits.indices.values())
        assert counts == Counter({60: 1, 16: 3})
