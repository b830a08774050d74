"""causalpref.ui.views.data: examples, summaries, uploads, target pages — no streamlit."""

import json
import os

import numpy as np
import pytest

from causalpref.data.loaders import SUFFIXES, TextPairs
from causalpref.draw.consistency import draw_objective_splits
from causalpref.draw.splits import check_exp2_sizes, sizes_text
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


# ---------------------------------------------------------------- issue 13, item 9


def pair_table(path, n, bad_line=None):
    rows = [
        {
            "prompt": f"p{i}",
            "response_a": f"a{i}",
            "response_b": f"b{i}",
            "label": "maybe" if i + 1 == bad_line else i % 2,
            "objective": i % 2,
            "prompt_type": (i // 2) % 2,
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_upload_suffixes_are_exactly_what_the_loaders_read(tmp_path):
    assert dv.UPLOAD_SUFFIXES == SUFFIXES
    for suffix in SUFFIXES:
        saved = dv.save_upload(b"x", f"mine{suffix.upper()}", tmp_path)
        assert saved.name.endswith(suffix)
        assert (suffix.removesuffix(".gz") + ("[.gz]" if suffix.endswith(".gz") else "")) in dv.SUFFIX_TEXT
    with pytest.raises(CausalPrefError, match="unsupported"):
        dv.save_upload(b"x", "mine.parquet.gz", tmp_path)  # the readers cannot take it, nor can an upload


def test_errors_about_an_upload_name_its_own_file(tmp_path):
    saved = dv.save_upload(pair_table(tmp_path / "x.jsonl", 6, bad_line=3).read_bytes(), "my_prefs.jsonl", tmp_path)
    with pytest.raises(CausalPrefError) as info:
        dv.load_text("pairs", saved, name="my_prefs.jsonl")
    assert str(info.value).startswith("my_prefs.jsonl, line 3, field 'label'") and saved.stem not in str(info.value)
    # the world carries the name to the experiment pages; its errors name the file too
    good = dv.save_upload(pair_table(tmp_path / "y.jsonl", 6).read_bytes(), "my_prefs.jsonl", tmp_path)
    params = dv.choice_params("pairs", good, name="my_prefs.jsonl")
    assert dv.world_of(params).name == "pairs:my_prefs.jsonl"
    good.unlink()
    with pytest.raises(CausalPrefError, match=r"^data file my_prefs.jsonl does not exist"):
        dv.world_of(params)
    # building the pool: a binarized UltraFeedback upload has no factor scores
    row = {"prompt": "p", "chosen": "c", "rejected": "r"}
    binarized = dv.save_upload((json.dumps(row) + "\n").encode(), "uf.jsonl", tmp_path)
    world = dv.world_from_choice("ultrafeedback", binarized, name="uf.jsonl")
    with pytest.raises(CausalPrefError, match=r"^uf.jsonl: Experiment 1 needs two factor scores"):
        dv.embed(world, "uf.jsonl")


def random_objective_pairs(n):
    rng = np.random.default_rng(0)
    return TextPairs(
        prompt=[f"p{i}" for i in range(n)],
        response_a=["a"] * n,
        response_b=["b"] * n,
        label=np.ones(n, np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=rng.integers(0, 2, n),
        prompt_type=rng.integers(0, 2, n),
        group=np.arange(n),
        source="random",
    )


def test_size_verdict_says_whether_a_file_is_big_enough(tmp_path):
    tiny = dv.load_text("pairs", pair_table(tmp_path / "tiny.jsonl", 6))
    fits, line = dv.size_verdict(tiny, "pairs")
    assert not fits and line.startswith("Too small for User objectives, which draws 2,000 training")
    assert "its 6 pairs are too few for splits of any size" in line
    pairs = random_objective_pairs(3000)
    fits, line = dv.size_verdict(pairs, "pairs")
    assert not fits and "its 3,000 pairs hold at most" in line
    sizes, rhos, _ = dv.page_settings("pairs")
    largest = check_exp2_sizes(pairs.prompt_type, pairs.objective, sizes, rhos).largest
    assert sizes_text(largest) in line
    for rho in rhos:  # what it says fits does fit
        draw_objective_splits(pairs.prompt_type, pairs.objective, largest.as_dict(), rho, seed=0)
    fits, line = dv.size_verdict(random_objective_pairs(5000), "relabeled-hh")  # smaller sizes for that kind
    assert fits and line.startswith("Big enough for User objectives, which draws 1,200 training")


def test_embed_clock_shows_done_elapsed_and_time_left():
    times = iter([0.0, 2.0, 12.0, 13.0])
    clock = dv.EmbedClock(now=lambda: next(times))
    assert clock(20, 100) == (0.2, "Embedding 20 / 100 texts · 2 s")  # 20 were cached: no rate yet
    fraction, text = clock(60, 100)  # 40 texts in 10 s
    assert fraction == 0.6 and text == "Embedding 60 / 100 texts · 12 s · about 10 s left"
    assert clock(100, 100) == (1.0, "Embedding 100 / 100 texts · 13 s")
    assert dv.stopped_text((60, 100)).startswith("Embedding stopped at 60 of 100 texts.")


def truthfulqa_file(path, questions, answers):
    rng = np.random.default_rng(0)
    rows = [
        {
            "question": f"q{q}",
            "answer": f"a{k}",
            "truthful": int(rng.random() < 0.5),
            "informative": int(rng.random() < 0.6),
        }
        for q in range(questions)
        for k in range(answers)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_size_verdict_for_factor_data(tmp_path):
    tiny = dv.load_text("truthfulqa", truthfulqa_file(tmp_path / "tiny.jsonl", 5, 5))
    fits, line = dv.size_verdict(tiny, "truthfulqa")  # 5 questions: none left to validate on
    assert not fits and line.startswith("Too small for Correlation shift, which draws 2,000 training, 500 validation")
    assert line.endswith("its 50 pairs over 5 questions are too few for splits of any size.")
    mid = dv.load_text("truthfulqa", truthfulqa_file(tmp_path / "mid.jsonl", 60, 8))
    fits, line = dv.size_verdict(mid, "truthfulqa")
    assert not fits and "its 1,680 pairs over 60 questions hold at most" in line
    big = dv.load_text("truthfulqa", truthfulqa_file(tmp_path / "big.jsonl", 400, 20))
    assert dv.size_verdict(big, "truthfulqa") == (
        True,
        "Big enough for Correlation shift, which draws 2,000 training, 500 validation, 2,000 ID and 2,000 OOD "
        "pairs at each ρ.",
    )


# ---------------------------------------------------------------- data roots: typed paths stay inside them


@pytest.fixture
def rooted(tmp_path, monkeypatch):
    """Two data roots set through CAUSALPREF_DATA_DIR, and a folder outside them."""
    first, second, outside = tmp_path / "first", tmp_path / "second", tmp_path / "outside"
    for folder in (first, second, outside):
        folder.mkdir()
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", os.pathsep.join([str(first), f"  {second}  ", ""]))
    return first, second, outside


def refused_message(text, **kw) -> str:
    with pytest.raises(CausalPrefError) as caught:
        dv.path_in_roots(text, **kw)
    return str(caught.value)


def test_data_roots_come_from_the_environment_or_default_to_the_cwd_and_examples(tmp_path, monkeypatch):
    monkeypatch.delenv("CAUSALPREF_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    roots = dv.data_roots()
    assert roots.paths == (tmp_path.resolve(), dv.shared_data_root().resolve()) and not roots.from_env
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", "")  # empty: as unset
    assert dv.data_roots().paths == roots.paths
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", os.pathsep.join(["/srv/a", "/srv/b"]))
    roots = dv.data_roots()
    assert roots.given == ("/srv/a", "/srv/b") and roots.from_env
    caption = dv.roots_caption(roots)
    assert "/srv/a, /srv/b" in caption and "CAUSALPREF_DATA_DIR" in caption


def test_a_file_inside_a_root_is_resolved(rooted, monkeypatch):
    first, second, _ = rooted
    (first / "a.jsonl").write_text("{}\n")
    (second / "sub").mkdir()
    (second / "sub" / "b.csv").write_text("x\n")
    assert dv.path_in_roots(str(first / "a.jsonl")) == (first / "a.jsonl").resolve()
    assert dv.path_in_roots(f"  {second / 'sub' / 'b.csv'} ") == (second / "sub" / "b.csv").resolve()
    assert dv.path_in_roots("a.jsonl") == (first / "a.jsonl").resolve()  # relative: from the first root
    assert dv.path_in_roots("../second/sub/b.csv") == (second / "sub" / "b.csv").resolve()  # lands in a root
    (first / "inner.jsonl").symlink_to(second / "sub" / "b.csv")  # a link between roots is fine
    assert dv.path_in_roots(str(first / "inner.jsonl")) == (second / "sub" / "b.csv").resolve()
    monkeypatch.setenv("HOME", str(first))
    assert dv.path_in_roots("~/a.jsonl") == (first / "a.jsonl").resolve()


def test_every_path_refused_gets_one_message_that_names_none_of_them(rooted, monkeypatch):
    first, _, outside = rooted
    (outside / "real.jsonl").write_text("{}\n")
    (outside / "notes.txt").write_text("secret\n")
    (first / "folder").mkdir()
    (first / "link.jsonl").symlink_to(outside / "real.jsonl")  # inside a root, pointing out of it
    (first / "out").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("HOME", str(outside))
    refused = [
        str(outside / "real.jsonl"),  # exists, outside
        str(outside / "notes.txt"),  # exists, unknown type, outside
        str(outside / "missing.jsonl"),  # missing, outside
        str(first / "missing.jsonl"),  # missing, inside
        str(outside),  # a folder outside
        str(first / "folder"),  # a folder inside
        str(first / "link.jsonl"),  # a symlink out of a root
        str(first / "out" / "real.jsonl"),  # through a linked folder
        str(first / ".." / "outside" / "real.jsonl"),  # climbing out
        "../outside/real.jsonl",  # relative, climbing out
        "~/real.jsonl",  # home is outside
        "/etc/hostname",
        "/etc/passwd",
        "/nowhere/missing.jsonl",
        "bad\x00name.jsonl",
        "",
    ]
    messages = {text: refused_message(text) for text in refused}
    assert len(set(messages.values())) == 1, messages
    (message,) = set(messages.values())
    assert message.startswith("no data file at that path inside the data folders (")
    assert "CAUSALPREF_DATA_DIR" in message
    for word in ("real.jsonl", "notes", "missing", "hostname", "exist", "folder/"):
        assert word not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_inside_a_root_is_refused_alike(rooted):
    first, _, outside = rooted
    locked = first / "locked.jsonl"
    locked.write_text("{}\n")
    locked.chmod(0)
    try:
        assert refused_message(str(locked)) == refused_message(str(outside / "missing.jsonl"))
    finally:
        locked.chmod(0o600)


def test_a_model_folder_is_checked_against_the_same_roots(rooted):
    first, _, outside = rooted
    for folder in (first / "model", outside / "model"):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    (first / "file").write_text("x")
    assert dv.model_dir_in_roots(str(first / "model")) == (first / "model").resolve()
    messages = set()
    for text in (outside / "model", outside / "absent", first / "file", first / "absent", "/etc"):
        with pytest.raises(CausalPrefError) as caught:
            dv.model_dir_in_roots(str(text))
        messages.add(str(caught.value))
    assert len(messages) == 1 and next(iter(messages)).startswith("no model folder at that path")


def test_examples_are_offered_only_inside_the_roots(tmp_path, monkeypatch):
    (tmp_path / "truthfulqa").mkdir()
    (tmp_path / "truthfulqa" / "truthfulqa_dual_labels.jsonl.gz").write_bytes(b"x")
    found = dv.example_datasets(tmp_path)
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", str(tmp_path))
    assert dv.examples_in_roots(found) == found
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", str(tmp_path / "elsewhere"))
    assert dv.examples_in_roots(found) == {}
