"""causalpref.ui.views.data: examples, summaries, uploads, target pages — no streamlit."""

import json

import numpy as np
import pytest

from causalpref.data.loaders import TextPairs
from causalpref.errors import CausalPrefError
from causalpref.ui.views import data as dv


def test_example_discovery_with_and_without_the_shared_folder(tmp_path):
    assert dv.example_datasets(tmp_path / "absent") == {}
    assert dv.example_datasets(None) == {}
    (tmp_path / "truthfulqa").mkdir()
    (tmp_path / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz").write_bytes(b"x")
    found = dv.example_datasets(tmp_path)
    assert len(found) == 1
    ((kind, path),) = found.values()
    assert kind == "truthfulqa" and path.endswith("truthfulqa_dual_labels.jsonl.gz")


def test_the_real_shared_folder_lists_four_examples_when_present():
    if not dv.shared_data_root().is_dir():
        pytest.skip("../shared/data is absent")
    kinds = sorted(kind for kind, _ in dv.example_datasets(dv.shared_data_root()).values())
    assert kinds == ["hh-rlhf", "relabeled-hh", "truthfulqa", "ultrafeedback"]


def tiny_pairs(**extra):
    return TextPairs(
        prompt=["p1", "p1", "p2"],
        response_a=["a", "b", "c"],
        response_b=["b", "c", "d"],
        label=np.array([1, 0, 1], np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=np.array([0, 1, 1]),
        prompt_type=np.array([0, 0, 1]),
        group=np.array([0, 0, 1]),
        source="tiny",
        **extra,
    )


def test_describe_objective_data():
    table, reading = dv.describe(tiny_pairs())
    values = dict(zip(table["quantity"], table["value"]))
    assert values["pairs"] == "3" and values["groups (prompts/questions)"] == "2"
    assert values["response a preferred"] == "66.7 %"
    assert values["prompt type → objective: helpful->harmless"] == "1"
    assert "2 are consistent (t = c) and 1 inconsistent" in reading
    assert dv.problem(tiny_pairs(), "pairs") is None
    assert "feeds no experiment" in dv.problem(tiny_pairs(), "hh-rlhf")
    assert "two factor scores" in dv.problem(tiny_pairs(), "truthfulqa")


def test_describe_factor_data():
    pairs = TextPairs(
        prompt=["q"] * 3,
        response_a=["a", "a", "b"],
        response_b=["b", "c", "c"],
        label=None,
        factor_diffs=np.array([[1, -1], [1, 0], [0, 1]], float),
        factor_names=("truthful", "informative"),
        objective=None,
        prompt_type=None,
        group=np.zeros(3, int),
        source="tiny",
    )
    table, reading = dv.describe(pairs)
    values = dict(zip(table["quantity"], table["value"]))
    assert values["pairs where truthful and informative disagree"] == "1"
    assert "+1: 2" in values["Δ truthful (value: pairs)"]
    assert dv.problem(pairs, "truthfulqa") is None
    assert "objective" in dv.problem(pairs, "relabeled-hh")


def test_save_upload_is_content_addressed_and_atomic(tmp_path):
    first = dv.save_upload(b'{"a": 1}\n', "mine.jsonl", tmp_path)
    again = dv.save_upload(b'{"a": 1}\n', "other-name.jsonl", tmp_path)
    other = dv.save_upload(b'{"a": 2}\n', "mine.jsonl.gz", tmp_path)
    assert first == again and first.parent == tmp_path / "uploads" and first.suffix == ".jsonl"
    assert other != first and other.name.endswith(".jsonl.gz")
    assert first.read_bytes() == b'{"a": 1}\n'
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".upload-")]
    with pytest.raises(CausalPrefError, match="unsupported"):
        dv.save_upload(b"x", "notes.txt", tmp_path)
    with pytest.raises(CausalPrefError, match="empty"):
        dv.save_upload(b"", "empty.csv", tmp_path)


def test_target_page_and_world_label():
    assert dv.target_page("truthfulqa") == dv.CORRELATION_PAGE
    assert dv.target_page("responses") == dv.CORRELATION_PAGE
    assert dv.target_page("relabeled-hh") == dv.OBJECTIVES_PAGE
    with pytest.raises(CausalPrefError):
        dv.target_page("hh-rlhf")
    params = dv.choice_params("truthfulqa", "/x/tqa.jsonl")
    assert dv.world_label(params, dv.FACTOR_KINDS) == "Data: tqa.jsonl"
    assert dv.world_label(params, dv.OBJECTIVE_KINDS) is None
    assert dv.world_label(None, dv.FACTOR_KINDS) is None


def test_world_from_choice(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "a", "truthful": 1, "informative": 0}) + "\n")
    world = dv.world_from_choice("truthfulqa", str(path), "", ())
    assert world.kind == "truthfulqa" and world.model_dir is None and world.path == str(path.resolve())
    with pytest.raises(CausalPrefError, match="does not exist"):
        dv.world_from_choice("truthfulqa", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CausalPrefError, match="feeds no experiment"):
        dv.world_from_choice("hh-rlhf", str(path))
    with pytest.raises(CausalPrefError, match="at least 2 factor columns"):
        dv.world_from_choice("responses", str(path), None, ("truthful",))
