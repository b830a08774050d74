"""causalpref.ui.views.data: examples, how a file is read and mapped, summaries, uploads, the
pages a file feeds, the sizes and ρ it supplies — no streamlit."""

import json
import os
from dataclasses import replace

import numpy as np
import pytest
from apptest_helpers import FLAT_MAPPING, FLAT_OBJECTIVES, factor_table, flat_pairs, trl_conversational

from causalpref.data.columns import ColumnMap
from causalpref.data.loaders import SUFFIXES, TextPairs, load_dataset, recognise_file
from causalpref.draw.consistency import draw_objective_splits
from causalpref.draw.splits import check_exp2_sizes, sizes_text
from causalpref.errors import CausalPrefError
from causalpref.run.precheck import check_before_embedding
from causalpref.run.specs import SMALL_DATA_SIZES, Exp1Spec, Exp2Spec
from causalpref.ui.state import REAL_RHOS
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


def test_the_real_shared_folder_lists_its_examples_each_read_as_its_kind_when_present():
    if not dv.shared_data_root().is_dir():
        pytest.skip("../shared/data is absent")
    found = dv.example_datasets(dv.shared_data_root())
    kinds = sorted(kind for kind, _ in found.values())
    assert kinds == ["hh-rlhf", "hh-rlhf", "preference", "relabeled-hh", "truthfulqa"]
    assert not any("summary only" in label for label in found)
    folder = next(path for label, (_, path) in found.items() if label.startswith("HH-RLHF helpful + harmless"))
    assert os.path.isdir(folder) and "length bias" in next(label for label in found if "+ harmless" in label)
    for label, (kind, path) in found.items():  # the recognised kind is the example's: no kind to choose
        assert recognise_file(path)[0] == kind, label


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
    assert dv.problem(tiny_pairs(), "hh-rlhf") is None  # labelled pairs feed Correlation shift now
    assert "two factor scores" in dv.problem(tiny_pairs(), "truthfulqa")
    assert dv.pages_for("pairs", tiny_pairs()) == (dv.CORRELATION_PAGE, dv.OBJECTIVES_PAGE)
    assert dv.pages_for("hh-rlhf", tiny_pairs()) == (dv.CORRELATION_PAGE,)  # not an objective kind
    assert dv.pages_for("pairs", replace(tiny_pairs(), objective=None)) == (dv.CORRELATION_PAGE,)
    assert dv.pages_for("truthfulqa", tiny_pairs()) == ()


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
    assert dv.pages_for("truthfulqa", pairs) == (dv.CORRELATION_PAGE,)
    assert "no preference label" in dv.problem(pairs, "relabeled-hh")


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


def test_world_label_offers_every_kind_to_correlation_shift_and_objective_pairs_to_user_objectives():
    tqa = dv.choice_params("truthfulqa", "/x/tqa.jsonl")
    assert dv.world_label(tqa, "exp1") == "Data: tqa.jsonl"
    assert dv.world_label(tqa, "exp2") is None
    hh = dv.choice_params("hh-rlhf", "/x/hh", name="hh-rlhf")
    assert dv.world_label(hh, "exp1") == "Data: hh-rlhf" and dv.world_label(hh, "exp2") is None
    pairs = dv.choice_params("pairs", "/x/p.csv", objectives=True)
    assert dv.world_label(pairs, "exp1") == dv.world_label(pairs, "exp2") == "Data: p.csv"
    lacking = dv.choice_params("pairs", "/x/p.csv", objectives=False)  # the Data page found no objective
    assert dv.world_label(lacking, "exp1") == "Data: p.csv" and dv.world_label(lacking, "exp2") is None
    assert dv.world_label(None, "exp1") is None
    assert dv.world_label({"kind": "nope", "path": "/x"}, "exp1") is None


def test_world_from_choice(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "a", "truthful": 1, "informative": 0}) + "\n")
    world = dv.world_from_choice("truthfulqa", str(path), "", ())
    assert world.kind == "truthfulqa" and world.model_dir is None and world.path == str(path.resolve())
    assert world.a is None and world.rule == "true preference not stated"
    with pytest.raises(CausalPrefError, match="does not exist"):
        dv.world_from_choice("truthfulqa", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CausalPrefError, match="unknown kind"):
        dv.world_from_choice("nope", str(path))
    with pytest.raises(CausalPrefError, match="at least 2 factor columns"):
        dv.world_from_choice("responses", str(path), None, ("truthful",))


def test_the_world_carries_the_mapping_and_the_rule(tmp_path):
    flat = flat_pairs(tmp_path / "flat.csv", prompts=4, per=2)
    record = dv.choice_params("pairs", flat, columns=FLAT_MAPPING)
    world = dv.world_of(record, measure="length_words")
    assert world.columns == ColumnMap.parse(list(FLAT_MAPPING)) and world.measure == "length_words"
    assert world.a == 1.0 and "length (words), measured from the text" in world.rule
    assert world.factor_names == ("preferred", "length_words")
    assert dv.world_of(record, measure="length_words") is world  # built once per file and rule
    assert dv.world_of(record).measure is None  # the file as read, no rule
    tqa = dv.choice_params("truthfulqa", factor_table(tmp_path / "tqa.jsonl", 3, 3))
    names = dv.factor_names(dv.world_of(tqa))
    assert names == ("truthful", "informative")
    second = dv.world_of(tqa, **dv.preference_rule(dv.PREFER_SECOND, names))
    assert second.a == 1.0 and second.factor_names[:2] == ("informative", "truthful")
    assert second.rule.startswith("true preference = informative")
    weighted = dv.world_of(tqa, **dv.preference_rule(dv.PREFER_WEIGHTS, names, 0.3))
    assert weighted.a == 0.3 and weighted.rule == "true reward = 0.3·truthful + 0.7·informative"
    with pytest.raises(CausalPrefError, match="say which response is truly preferred"):
        dv.preference_rule(None, names)
    caption = dv.measure_caption("length_words")
    assert "d1 = preferred" in caption and "d2 = length (words) of a − length (words) of b" in caption
    assert "preferred response is the shorter one" in caption
    assert "less formatted" in dv.measure_caption("formatting")


# ---------------------------------------------------------------- the column mapping


def test_the_mapping_form_round_trips_through_the_url_and_the_record(tmp_path, monkeypatch):
    chosen = {"prompt": "question", "response_a": "out1", "response_b": "out 2", "label": "winner"}
    mapping = dv.mapping_from_form(chosen, {"label": "1=a,2=b,0=drop", "objective": ""})
    assert dv.mapping_items(mapping) == (
        "prompt=question",
        "response_a=out1",
        "response_b=out 2",  # a column name with a space survives (items, not one string)
        "label=winner:1=a,2=b,0=drop",
    )
    params = dv.mapping_params(mapping)
    assert params == {
        "map_prompt": "question",
        "map_response_a": "out1",
        "map_response_b": "out 2",
        "map_label": "winner",
        "values_label": "1=a,2=b,0=drop",
    }
    assert set(params) <= {*dv.MAP_KEYS.values(), *dv.VALUES_KEYS.values()}
    assert dv.mapping_from_params(params) == mapping
    assert dv.mapping_from_params({k: [v] for k, v in params.items()}) == mapping  # as st.query_params lists
    assert dv.as_column_map(dv.mapping_items(mapping)) == mapping
    assert dv.mapping_from_params({}) == ColumnMap() and not dv.mapping_items(None)
    # the record the experiment pages get, and their URL: the same mapping back, paths checked
    monkeypatch.setenv("CAUSALPREF_DATA_DIR", str(tmp_path))
    flat = flat_pairs(tmp_path / "flat.csv", prompts=3, per=2)
    record = dv.choice_params("pairs", flat, columns=FLAT_OBJECTIVES, objectives=True)
    url = dv.record_params(record)
    assert url["data"] == str(flat) and url["data_kind"] == "pairs" and url["data_columns"] == list(FLAT_OBJECTIVES)
    back = dv.record_from_params(url)
    assert back["columns"] == FLAT_OBJECTIVES and back["kind"] == "pairs" and dv.same_record(back, record)
    assert dv.world_of(back).columns == dv.world_of(record).columns == ColumnMap.parse(list(FLAT_OBJECTIVES))
    assert dv.record_params(dict(record, upload=True)) == {}  # no link carries an upload's bytes
    assert dv.record_from_params({"world": "data"}) is None
    with pytest.raises(CausalPrefError, match="^no data file at that path inside the data folders"):
        dv.record_from_params({**url, "data": "/etc/passwd"})


def test_a_bad_mapping_is_one_line_naming_the_field():
    with pytest.raises(CausalPrefError) as bad:
        dv.mapping_from_form({"label": "winner"}, {"label": "1=a,2=x"})
    assert str(bad.value).startswith("column mapping 'label=winner:1=a,2=x': 'x' is not a meaning of 'label'")
    assert "\n" not in str(bad.value)
    with pytest.raises(CausalPrefError, match="values of label are mapped .* but no column is"):
        dv.mapping_from_form({}, {"label": "1=a"})
    with pytest.raises(CausalPrefError, match="mapped to two fields"):
        dv.mapping_from_form({"response_a": "out1", "response_b": "out1"})


def test_the_preview_shows_the_first_rows_as_mapped_and_the_kept_count_what_was_dropped(tmp_path):
    flat = flat_pairs(tmp_path / "flat.csv", prompts=6, per=2, drop_every=3)
    assert dv.file_columns(flat) == ("question", "out1", "out2", "winner", "goal", "ptype")
    table = dv.preview(flat, FLAT_OBJECTIVES, rows=4)
    assert list(table.columns)[:6] == ["prompt", "response_a", "response_b", "label", "objective", "prompt_type"]
    raw = flat.read_text().splitlines()[1:]
    kept = [line.split(",") for line in raw if line.split(",")[3] != "0"][:4]  # rows with winner 0 are dropped
    assert list(table["prompt"]) == [row[0] for row in kept]
    assert list(table["label"]) == [{"1": "1 (a)", "2": "0 (b)"}[row[3]] for row in kept]
    assert list(table["objective"]) == [{"h": "0 (helpful)", "s": "1 (harmless)"}[row[4]] for row in kept]
    assert list(table["prompt_type"]) == [row[5] for row in kept]  # not value-mapped: as in the file
    text = dv.load_text(dv.RECOGNISED, flat, columns=FLAT_OBJECTIVES)
    assert len(text) == 8 and text.objective is not None and text.prompt_type is not None
    line = dv.kept_text(text)
    assert line.startswith("Kept 8 pairs; left out: 4 rows with winner = '0'")
    assert "column mapping" in line and "--" not in line
    assert dv.read_as(text, "pairs") == "Read as: a pair table (prompt, response_a, response_b, label)"


def test_a_trl_file_is_read_as_its_shape_and_a_folder_of_files_as_one(tmp_path):
    trl = trl_conversational(tmp_path / "trl.jsonl")
    assert dv.recognise(dv.RECOGNISED, trl) == "preference"
    text = dv.load_text(dv.RECOGNISED, trl)
    assert dv.read_as(text, "preference") == (
        "Read as: TRL preference data, explicit prompt, conversational (prompt, chosen, rejected)"
    )
    folder = tmp_path / "both"
    for part in ("a", "b"):
        (folder / part).mkdir(parents=True)
        trl_conversational(folder / part / "trl.jsonl", n=3)
    joined = dv.load_text(dv.RECOGNISED, folder)
    assert len(joined) == 6 and joined.shape.endswith("2 files")


def test_objectives_note_names_the_missing_field_and_how_to_map_it(tmp_path):
    flat = flat_pairs(tmp_path / "flat.csv", prompts=4, per=2)
    only_objective = dv.load_text(dv.RECOGNISED, flat, columns=FLAT_MAPPING + ("objective=goal:h=helpful,s=harmless",))
    note = dv.objectives_note(only_objective)
    assert "an objective per pair but no prompt type" in note and "prompt_type" in note
    assert dv.pages_for("pairs", only_objective) == (dv.CORRELATION_PAGE,)
    only_type = dv.load_text(dv.RECOGNISED, flat, columns=FLAT_MAPPING + ("prompt_type=ptype",))
    assert "a prompt type per pair but no objective" in dv.objectives_note(only_type)
    both = dv.load_text(dv.RECOGNISED, flat, columns=FLAT_OBJECTIVES)
    assert dv.objectives_note(both) is None and dv.OBJECTIVES_PAGE in dv.pages_for("pairs", both)
    assert dv.objectives_note(dv.load_text(dv.RECOGNISED, flat, columns=FLAT_MAPPING)) is None


# ---------------------------------------------------------------- what the pages draw from a file


def test_correlation_shift_fits_sizes_and_rhos_to_a_file_and_every_cell_then_draws(tmp_path):
    flat = flat_pairs(tmp_path / "flat.csv", prompts=40, per=5)
    world = dv.world_of(dv.choice_params("pairs", flat, columns=FLAT_MAPPING), measure="length_words")
    sizes, rhos, seeds = dv.page_settings(dv.CORRELATION_PAGE, "pairs")
    assert rhos == REAL_RHOS
    fit = dv.exp1_fit(world, sizes, rhos, seeds)
    assert not fit.fits and fit.sizes.train <= 60 and fit.wanted == sizes
    assert 0.9 not in fit.rhos and fit.rhos[:3] == (0.0, 0.3, 0.6)  # 0.9 is out of this file's reach
    assert any("ρ = 0.9 is out of this file's reach" in note for note in fit.notes)
    assert any("each ρ trains on" in note for note in fit.notes)
    spec = replace(Exp1Spec(), world=world, rhos=fit.rhos, sizes=fit.sizes)
    check_before_embedding("exp1", spec)  # every cell of the fitted grid draws
    dv.precheck("exp1", spec)
    with pytest.raises(CausalPrefError):  # the page's own grid at the fitted sizes does not
        check_before_embedding("exp1", replace(spec, rhos=REAL_RHOS))
    with pytest.raises(CausalPrefError, match="cannot draw"):  # nor the page's usual sizes
        dv.precheck("exp1", replace(spec, sizes=sizes, rhos=(0.0,)))


def test_a_file_big_enough_keeps_the_pages_sizes_and_rhos(tmp_path):
    world = dv.world_of(dv.choice_params("truthfulqa", truthfulqa_file(tmp_path / "big.jsonl", 400, 20)))
    sizes, rhos, seeds = dv.page_settings(dv.CORRELATION_PAGE, "truthfulqa")
    fit = dv.exp1_fit(world, sizes, rhos, seeds)
    assert fit.fits and fit.sizes == sizes and fit.rhos == REAL_RHOS and not fit.notes


def test_user_objectives_fits_sizes_to_a_mapped_pair_file(tmp_path):
    flat = flat_pairs(tmp_path / "flat.csv", prompts=60, per=2)
    world = dv.world_of(dv.choice_params("pairs", flat, columns=FLAT_OBJECTIVES))
    sizes, rhos, seeds = dv.page_settings(dv.OBJECTIVES_PAGE, "pairs")
    fit = dv.exp2_fit(world, sizes, Exp2Spec().rhos, seeds)
    assert not fit.fits and fit.sizes.train < sizes.train and fit.notes
    dv.precheck("exp2", replace(Exp2Spec(), world=world, sizes=fit.sizes))
    lacking = dv.world_of(dv.choice_params("pairs", flat, columns=FLAT_MAPPING + ("prompt_type=ptype",)))
    with pytest.raises(CausalPrefError, match="no objective; map the column") as missing:
        dv.exp2_fit(lacking, sizes, Exp2Spec().rhos, seeds)
    assert "--" not in str(missing.value)


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
    with pytest.raises(CausalPrefError, match=r"^uf.jsonl: Correlation shift needs two factor scores"):
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


def test_size_verdicts_say_what_each_page_draws_from_a_file(tmp_path):
    tiny = dv.choice_params("pairs", pair_table(tmp_path / "tiny.jsonl", 6), objectives=True)
    (exp1, exp2) = dv.size_verdicts(tiny, (dv.CORRELATION_PAGE, dv.OBJECTIVES_PAGE))
    assert not exp1[0] and exp1[1].startswith("Too small for Correlation shift: cannot draw")
    assert "6 pairs over 6 questions, too few for splits of any size" in exp1[1]
    assert "(with length (words) as the measured factor)" in exp1[1]
    assert not exp2[0] and exp2[1].startswith("Too small for User objectives: cannot draw")
    path = tmp_path / "random.jsonl"
    pairs = random_objective_pairs(3000)
    rows = [
        {"prompt": p, "response_a": "a", "response_b": "b", "label": 1, "objective": int(c), "prompt_type": int(t)}
        for p, c, t in zip(pairs.prompt, pairs.objective, pairs.prompt_type)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ((fits, line),) = dv.size_verdicts(dv.choice_params("pairs", path), (dv.OBJECTIVES_PAGE,))
    sizes, rhos, _ = dv.page_settings(dv.OBJECTIVES_PAGE, "pairs")
    largest = check_exp2_sizes(pairs.prompt_type, pairs.objective, sizes, rhos).largest
    assert not fits and line == (
        f"User objectives will draw {sizes_text(largest)} at each ρ: less than its usual {sizes_text(sizes)}."
    )
    for rho in rhos:  # what it says fits does fit
        draw_objective_splits(pairs.prompt_type, pairs.objective, largest.as_dict(), rho, seed=0)
    assert dv.page_settings(dv.OBJECTIVES_PAGE, "relabeled-hh")[0] == SMALL_DATA_SIZES[("exp2", "relabeled-hh")]


def test_the_start_sizes_for_the_bundled_relabelled_file_fit_it_at_every_rho_and_seed():
    """The CLI's and the page's start sizes for relabelled HH-RLHF must be drawable from the
    bundled file, split by prompt, at the rhos a user can pick (checked before embedding)."""
    path = dv.shared_data_root() / "relabeled-hh-rlhf" / "both" / "test.jsonl.gz"
    if not path.is_file():
        pytest.skip("../shared/data is absent")
    data = load_dataset(str(path))
    sizes = SMALL_DATA_SIZES[("exp2", "relabeled-hh")]
    rhos = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
    check = check_exp2_sizes(data.prompt_type, data.objective, sizes, rhos, data.group, tuple(range(10)))
    assert check.fits, check.too_few("from the bundled file")


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


def test_size_verdicts_for_factor_data(tmp_path):
    tiny = dv.choice_params("truthfulqa", truthfulqa_file(tmp_path / "tiny.jsonl", 5, 5))
    ((fits, line),) = dv.size_verdicts(tiny, (dv.CORRELATION_PAGE,))  # 5 questions: none left to validate on
    assert not fits and line == (
        "Too small for Correlation shift: cannot draw Correlation shift's splits from tiny.jsonl: the data has "
        "50 pairs over 5 questions, too few for splits of any size."
    )
    mid = dv.choice_params("truthfulqa", truthfulqa_file(tmp_path / "mid.jsonl", 60, 8))
    ((fits, line),) = dv.size_verdicts(mid, (dv.CORRELATION_PAGE,))
    assert not fits and line.startswith("Correlation shift will draw ") and "at ρ = " in line
    big = dv.choice_params("truthfulqa", truthfulqa_file(tmp_path / "big.jsonl", 400, 20))
    assert dv.size_verdicts(big, (dv.CORRELATION_PAGE,)) == [
        (
            True,
            "Big enough for Correlation shift, which draws 2,000 training, 500 validation, 2,000 ID and 2,000 OOD "
            "pairs at each ρ.",
        )
    ]


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
        str(outside),  # a folder outside (holding a data file)
        str(first / "folder"),  # a folder inside with no data files
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


def test_a_folder_of_data_files_inside_a_root_is_accepted(rooted):
    first, _, outside = rooted
    for part in ("helpful-base", "harmless-base"):
        (first / "hh" / part).mkdir(parents=True)
        (first / "hh" / part / "test.jsonl").write_text("{}\n")
        (outside / "hh" / part).mkdir(parents=True)
        (outside / "hh" / part / "test.jsonl").write_text("{}\n")
    (first / "notes").mkdir()
    (first / "notes" / "readme.txt").write_text("no data here\n")
    assert dv.path_in_roots(str(first / "hh")) == (first / "hh").resolve()
    assert dv.path_in_roots("hh") == (first / "hh").resolve()
    missing = refused_message(str(first / "missing.jsonl"))
    assert refused_message(str(outside / "hh")) == missing  # a data folder outside: the one message
    assert refused_message(str(first / "notes")) == missing  # a folder with no data files
