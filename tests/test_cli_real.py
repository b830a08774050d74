"""Real data through the command line: --columns, --dry-run, measured factors and every check
that must fail before the first text is embedded.

Nothing is embedded here: `causalpref.data.worlds.real.embed_pairs` is replaced by one that
fails the test (or, for `embed`, by a stand-in that records the world).
"""

import csv
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import causalpref.data.loaders as loaders
import causalpref.data.worlds.real as real
from causalpref.cli import main
from causalpref.data.columns import ColumnMap

MAPPING = [
    "prompt=input",
    "response_a=output_1",
    "response_b=output_2",
    "label=pref:1=a,2=b,0=drop",
    "objective=obj:h=helpful,s=harmless",
    "prompt_type=ptype",
]
WORDS = ("helpful", "harmless")


# ---------------------------------------------------------------------------------- fixtures


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def flat_rows(n_prompts=100):
    """4 pairs per prompt; pref 0 (dropped) on every 5th row; prompt type per prompt."""
    rows = []
    for i in range(4 * n_prompts):
        q = i // 4
        rows.append(
            {
                "input": f"prompt {q}",
                "output_1": f"first {i}",
                "output_2": f"second {i}",
                "pref": [1, 2, 1, 2, 0][i % 5],
                "obj": "hs"[i % 2],
                "ptype": WORDS[q % 2],
            }
        )
    return rows


@pytest.fixture
def flat(tmp_path):
    rows = flat_rows()
    return write_jsonl(tmp_path / "flat.jsonl", rows), rows


@pytest.fixture
def length_pairs(tmp_path):
    """100 labelled pairs over 50 prompts; the preferred response is the longer in ~80 %."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(100):
        short = " ".join(["short"] * int(rng.integers(2, 5)))
        long = " ".join(["long"] * int(rng.integers(6, 12)))
        preferred, other = (long, short) if rng.random() < 0.8 else (short, long)
        a_preferred = bool(rng.random() < 0.5)
        a, b = (preferred, other) if a_preferred else (other, preferred)
        rows.append([f"prompt {i // 2}", f"{a} {i}", f"{b} x{i}", int(a_preferred)])
    return write_csv(tmp_path / "pairs.csv", ["prompt", "response_a", "response_b", "label"], rows), rows


@pytest.fixture
def responses(tmp_path):
    rng = np.random.default_rng(1)
    rows = [
        [f"question {q}", f"answer {q}.{k}", int(rng.integers(0, 3)), int(rng.integers(0, 3))]
        for q in range(20)
        for k in range(4)
    ]
    return write_csv(tmp_path / "responses.csv", ["prompt", "response", "correctness", "style"], rows)


@pytest.fixture
def no_embedding(monkeypatch):
    """Any embedding fails the test."""

    def embed_pairs(*args, **kw):
        pytest.fail("embed_pairs was called: the command should have stopped before embedding")

    monkeypatch.setattr(real, "embed_pairs", embed_pairs)


@pytest.fixture
def no_download_env(monkeypatch):
    """The CLI sets CAUSALPREF_ALLOW_DOWNLOAD for --download: restore it after the test."""
    monkeypatch.setenv("CAUSALPREF_ALLOW_DOWNLOAD", "0")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: "), err
    return err[0]


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ------------------------------------------------------------------------- 1. exp2 dry run


def test_exp2_dry_run_on_a_mapped_flat_file(flat, capsys, no_embedding):
    path, rows = flat
    argv = ["exp2", "--data", str(path), "--columns", *MAPPING, "--dry-run"]
    argv += ["--n-train", "60", "--n-val", "10", "--n-test", "10", "--rho", "0.5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    kept = [r for r in rows if r["pref"] != 0]
    assert_names(
        out,
        "read as",
        "columns mapped: " + " ".join(MAPPING),
        f"{len(kept):,} pairs over 100 prompt groups",
        f"left out: {len(rows) - len(kept)} rows with pref = '0'",
        "dry run: nothing embedded or trained",
    )
    cells = Counter((WORDS.index(r["ptype"]), "hs".index(r["obj"])) for r in kept)
    assert len(cells) == 4
    for (t, c), count in cells.items():
        kind = "consistent" if t == c else "inconsistent"
        assert f"t = {WORDS[t]}, c = {WORDS[c]} ({kind}): {count:,}" in out


@pytest.mark.parametrize(
    "experiment, kind, data, extra",
    [
        ("exp2", "relabeled-hh", "relabeled-hh-rlhf/both/test.jsonl.gz", ["--seeds", "3"]),
        ("exp1", "hh-rlhf", "hh-rlhf", ["--factors", "length_words", "--rho", "0", "0.3", "0.6", "0.8"]),
    ],
)
def test_a_bundled_file_starts_from_sizes_it_can_supply(experiment, kind, data, extra, capsys, no_embedding):
    """`exp1|exp2 --data <bundled file>` with no sizes given runs at its small-data sizes and
    every cell draws (the lookup once keyed on --world, 'synthetic' when only --data is given;
    the exp1 line is the README's length-bias example)."""
    from causalpref.run.specs import SMALL_DATA_SIZES
    from causalpref.ui.views.data import shared_data_root

    path = shared_data_root() / data
    if not path.exists():
        pytest.skip("../shared/data is absent")
    assert main([experiment, "--data", str(path), *extra, "--dry-run"]) == 0
    sizes = SMALL_DATA_SIZES[(experiment, kind)]
    out = capsys.readouterr().out
    assert f"split sizes: {sizes.train:,} training, {sizes.val:,} validation" in out
    assert "draws: checked" in out


# ------------------------------------------------------------------------- 2. exp1 dry run


def test_exp1_dry_run_with_a_measured_factor(length_pairs, capsys, no_embedding):
    path, rows = length_pairs
    argv = ["exp1", "--data", str(path), "--factors", "length_words", "--dry-run", "--seeds", "1", "--rho", "0.3"]
    argv += ["--n-train", "20", "--n-val", "4", "--n-id", "10", "--n-ood", "5", "--split-shares", "0.5", "0.1", "0.4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert_names(out, "read as", "length (words)", "d1 = preferred, d2 = length_words", "dry run: nothing embedded")
    d1 = [1 if r[3] == 1 else -1 for r in rows]
    d2 = [int(np.sign(len(r[1].split()) - len(r[2].split()))) for r in rows]
    sign = {1: "+", -1: "−", 0: "0"}
    for (s1, s2), count in Counter(zip(d1, d2)).items():
        assert f"d1 {sign[s1]}, d2 {sign[s2]}: {count:,}" in out, out
    disagree = sum(a * b < 0 for a, b in zip(d1, d2))
    assert f"factors disagree (the OOD test's pairs): {disagree:,}" in out
    found = re.search(r"feasible training rho for 20 pairs from the training groups: \[([-+.\d]+), ([-+.\d]+)\]", out)
    assert found, out
    lo, hi = float(found.group(1)), float(found.group(2))
    assert -1.0 <= lo < 0.3 < hi <= 1.0


# ------------------------------------------------------------ 3. checks before embedding

EXP1_SMALL = ["--seeds", "1", "--n-train", "20", "--n-val", "4", "--n-id", "10", "--n-ood", "5"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["exp1", "--data", "PAIRS", "--factors", "length_words", "--seeds", "1", "--n-train", "5000"],
            ["cannot draw 5,000 training", "--n-train", "--split-shares"],
        ),
        (
            ["exp2", "--data", "FLAT", "--columns", *MAPPING, "--seeds", "1", "--n-train", "5000", "--rho", "0.5"],
            ["cannot draw 5,000 training", "--n-train"],
        ),
        (
            ["exp2", "--data", "PAIRS", "--seeds", "1", "--n-train", "20", "--n-val", "4", "--n-test", "4"],
            ["objective=COLUMN", "prompt_type=COLUMN", "--columns"],
        ),
        (["exp1", "--data", "PAIRS", "--seeds", "1"], ["--factors", "length_words", "length_tokens", "refusal"]),
        (
            ["exp1", "--data", "RESPONSES", "--factors", "correctness", "style", *EXP1_SMALL],
            ["--prefer", "--weights"],
        ),
        (
            ["exp1", "--data", "PAIRS", "--factors", "length_words", "--a", "0.3"],
            ["--a sets the synthetic world", "--prefer", "--weights"],
        ),
        (
            ["exp1", "--data", "RESPONSES", "--factors", "correctness", "style", "--prefer", "x"]
            + ["--weights", "a=1", "b=1"],
            ["--prefer and --weights both given"],
        ),
        (["exp1", "--data", "RESPONSES", "--weights", "a=-1", "b=1"], ["--weights 'a=-1'", "W >= 0"]),
        (["exp1", "--data", "RESPONSES", "--weights", "a=nan", "b=1"], ["--weights 'a=nan'", "finite"]),
        (["exp1", "--data", "RESPONSES", "--weights", "a=1", "a=2"], ["--weights", "two different factors"]),
        (["exp1", "--data", "PAIRS", "--factors", "length_words", "--prefer", "x"], ["--prefer", "labelled"]),
        (
            ["exp1", "--data", "PAIRS", "--factors", "length_words", "--split-shares", "0", "0.5", "0.5"],
            ["--split-shares TRAIN"],
        ),
        (["exp1", "--data", "PAIRS", "--factors", "length_words", "--tol", "0"], ["--tol"]),
        (["exp1", "--data", "PAIRS", "--factors", "length_words", "--tol", "nan"], ["--tol", "nan"]),
        (["exp2", "--data", "FLAT", "--columns", "prompt"], ["--columns 'prompt'", "FIELD=COLUMN"]),
        (["exp1", "--dry-run"], ["--dry-run", "--data"]),
        (["exp2", "--columns", *MAPPING], ["--columns", "--data"]),
        (["exp1", "--factors", "length_words"], ["--factors", "--data"]),
        (["exp2", "--data", "FLAT"], ["cannot tell the shape", "--columns"]),
    ],
)
def test_checks_before_embedding_are_one_line(argv, expected, flat, length_pairs, responses, capsys, no_embedding):
    files = {"FLAT": str(flat[0]), "PAIRS": str(length_pairs[0]), "RESPONSES": str(responses)}
    assert main([files.get(a, a) for a in argv]) == 2
    assert_names(one_error_line(capsys), *expected)


def test_rho_outside_the_feasible_range_names_the_range(length_pairs, capsys, no_embedding):
    argv = ["exp1", "--data", str(length_pairs[0]), "--factors", "length_words", "--rho", "-0.9", *EXP1_SMALL]
    assert main(argv + ["--split-shares", "0.5", "0.1", "0.4"]) == 2
    message = one_error_line(capsys)
    assert_names(message, "-0.9", "feasible range is")
    found = re.search(r"feasible range is \[([-.\d]+), ([-.\d]+)\]", message)
    lo, hi = float(found.group(1)), float(found.group(2))
    assert lo > -0.9 and lo < hi


def test_the_sizes_a_too_large_request_suggests_can_be_drawn(flat, capsys, no_embedding):
    argv = ["exp2", "--data", str(flat[0]), "--columns", *MAPPING, "--seeds", "1", "--rho", "0.5", "--dry-run"]
    assert main(argv + ["--n-train", "5000", "--n-val", "10", "--n-test", "10"]) == 2
    found = re.search(
        r"enough for at most ([\d,]+) training, ([\d,]+) validation and 2 × ([\d,]+) test", one_error_line(capsys)
    )
    train, val, test = (g.replace(",", "") for g in found.groups())
    assert main(argv + ["--n-train", train, "--n-val", val, "--n-test", test]) == 0, capsys.readouterr().err


def test_first_row_dropped_by_columns(tmp_path, capsys, no_embedding):
    rows = flat_rows()
    rows[0]["pref"] = 0
    path = write_jsonl(tmp_path / "flat.jsonl", rows)
    argv = ["exp2", "--data", str(path), "--columns", *MAPPING, "--dry-run"]
    assert main(argv + ["--n-train", "60", "--n-val", "10", "--n-test", "10", "--rho", "0.5", "--seeds", "1"]) == 0


# ------------------------------------------------------------------------------ 4. --out


def test_out_under_a_file_fails_before_the_data_is_loaded(length_pairs, capsys, monkeypatch, no_embedding):
    def load_dataset(*args, **kw):
        pytest.fail("the data file was loaded before --out was checked")

    monkeypatch.setattr(loaders, "load_dataset", load_dataset)
    path = length_pairs[0]
    argv = ["exp1", "--data", str(path), "--factors", "length_words", "--out", str(path / "results.csv")]
    assert main(argv + EXP1_SMALL) == 2
    assert_names(one_error_line(capsys), "--out", "is a file")


def test_out_under_a_file_fails_before_a_hub_download(tmp_path, capsys, monkeypatch, no_embedding, no_download_env):
    datasets = pytest.importorskip("datasets")
    downloads = []

    def load_dataset(*args, **kw):
        downloads.append(args)
        raise ConnectionError("no network in tests")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    argv = ["exp2", "--data", "someone/some-data", "--download", "--out", str(blocker / "results.csv")]
    assert main(argv) == 2
    message = one_error_line(capsys)
    assert downloads == [], f"the hub was asked for the data before --out was checked ({message})"
    assert_names(message, "--out", "is a file")


# ---------------------------------------------------------------------------- 5. hub names


def test_hub_name_without_download_downloads_nothing(capsys, monkeypatch, no_embedding):
    monkeypatch.delenv("CAUSALPREF_ALLOW_DOWNLOAD", raising=False)
    assert main(["exp2", "--data", "someone/some-data"]) == 2
    assert_names(one_error_line(capsys), "someone/some-data", "nothing is downloaded", "--download")


def test_hub_name_with_download_and_no_network_is_one_line(capsys, monkeypatch, no_embedding, no_download_env):
    datasets = pytest.importorskip("datasets")

    def load_dataset(*args, **kw):
        raise ConnectionError("Couldn't reach the hub\nsecond line of the message")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    assert main(["exp2", "--data", "someone/some-data", "--download"]) == 2
    assert_names(one_error_line(capsys), "someone/some-data", "ConnectionError")


# ---------------------------------------------------------------------------------- 6. embed


def test_embed_accepts_a_column_mapping(flat, capsys, monkeypatch):
    path, rows = flat
    seen = {}

    def embed_pairs(world, progress=None):
        seen["world"] = world
        n = len(world.text)
        return np.zeros((n, 4), np.float32), np.zeros((n, 4), np.float32)

    monkeypatch.setattr(real, "embed_pairs", embed_pairs)
    assert main(["embed", "--data", str(path), "--columns", *MAPPING]) == 0
    captured = capsys.readouterr()
    world = seen["world"]
    kept = [r for r in rows if r["pref"] != 0]
    assert world.kind == "pairs"
    assert world.columns == ColumnMap.parse(MAPPING)
    assert world.text.response_a == [r["output_1"] for r in kept]
    assert f"{len(kept)} pairs of {world.path} embedded" in captured.out
    assert_names(captured.err, "columns mapped: " + " ".join(MAPPING), "rows with pref = '0'")


def test_embed_with_a_malformed_mapping_is_one_line(flat, capsys, no_embedding):
    assert main(["embed", "--data", str(flat[0]), "--columns", "label=pref:1=z"]) == 2
    assert_names(one_error_line(capsys), "--columns", "'z' is not a meaning of 'label'")


# ------------------------------------------------------------ 7. the rule travels with the results


def test_results_csv_names_the_data_its_mapping_and_the_preference_rule(length_pairs, tmp_path, capsys, monkeypatch):
    """Runs with different rules must not be indistinguishable in the CSV (a = 0.25 vs 1 once were)."""
    import pandas as pd

    path, rows = length_pairs
    rng = np.random.default_rng(0)

    def fake_vectors(world, progress=None):  # a real training run on stand-in vectors: no encoder
        n = len(world.text)
        return rng.normal(size=(n, 8)).astype(np.float32), rng.normal(size=(n, 8)).astype(np.float32)

    monkeypatch.setattr(real, "embed_pairs", fake_vectors)
    out = tmp_path / "results.csv"
    argv = ["exp1", "--data", str(path), "--factors", "length_words", "--seeds", "1", "--rho", "0.3", "--epochs", "1"]
    argv += ["--n-train", "20", "--n-val", "4", "--n-id", "10", "--n-ood", "5", "--split-shares", "0.5", "0.1", "0.4"]
    argv += ["--device", "cpu", "--no-cache", "--out", str(out)]
    assert main(argv) == 0
    world = set(pd.read_csv(out)["world"])
    assert len(world) == 1
    (text,) = world
    assert_names(text, "pairs.csv", "the file's label", "length (words)")
    assert "true preference = the file's label" in capsys.readouterr().out  # printed after the tables too
