import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from causalpref.cli import main

TINY = [
    "--seeds",
    "1",
    "--n-train",
    "300",
    "--n-val",
    "100",
    "--n-id",
    "200",
    "--n-ood",
    "200",
    "--pool-size",
    "5000",
    "--dim",
    "12",
    "--hidden",
    "16",
    "--latent",
    "4",
    "--epochs",
    "2",
    "--device",
    "cpu",
]


def test_exp1_prints_table_beside_paper_and_writes_tidy_csv(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["exp1", "--rho", "0", "0.6", "--out", str(out)] + TINY) == 0
    printed = capsys.readouterr().out
    assert "paper" in printed and "64.5 ± 0.2" in printed and "59.7 ± 0.2" in printed
    assert "Achieved training rho" in printed and "largest |achieved - target|" in printed
    frame = pd.read_csv(out)
    required = {"experiment", "world", "model", "rho", "seed", "split", "accuracy", "n"}
    assert required <= set(frame.columns)
    assert set(frame["split"]) == {"train", "val", "id", "ood"}
    assert set(frame["model"]) == {"base"} and set(frame["experiment"]) == {"exp1"}
    assert frame["accuracy"].between(0, 1).all()


def test_same_command_same_csv(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    main(["exp1", "--rho", "0.3", "--out", str(first)] + TINY)
    main(["exp1", "--rho", "0.3", "--out", str(second)] + TINY)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--rho", "1.5"], "rho must be a number in [-1, 1], got 1.5"),
        (["--rho", "nan"], "rho must be a number in [-1, 1], got nan"),
        (["--rho", "0.99", "--pool-size", "2000", "--n-train", "1500"], "feasible range"),
        (["--n-train", "100000"], "pool has only 5000"),
        (["--pool-size", "0"], "pool_size must be at least 1"),
        (["--noise", "nan"], "noise must be >= 0"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--world-seed", "-1"], "--world-seed must be a non-negative integer, got -1"),
        (["--label-mode", "btl", "--temperature", "inf"], "--temperature must be a finite number > 0, got inf"),
        (["--temperature", "nan"], "--temperature must be a finite number > 0, got nan"),
        (["--temperature", "0"], "--temperature must be a finite number > 0"),
        (["--temperature", "-1"], "--temperature must be a finite number > 0"),
        (["--a", "nan"], "--a must be a number in [0, 1], got nan"),
        (["--a", "7.5"], "--a must be a number in [0, 1], got 7.5"),
        (["--a", "-2"], "--a must be a number in [0, 1], got -2"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, expected, capsys, tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("precious")
    assert main(["exp1"] + TINY + args + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and expected in err
    assert out.read_text() == "precious"  # nothing already written is lost


def test_out_into_missing_folder_is_refused_before_training(tmp_path, capsys):
    assert main(["exp1", "--out", str(tmp_path / "nope" / "r.csv")] + TINY) == 2
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and "[1/" not in captured.err  # no model was trained


def _unwritable_folder(tmp_path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores modes: /proc takes no new files from anyone
        folder = Path("/proc")
        if not folder.is_dir():
            pytest.skip("no folder this user cannot write in")
    return folder


@pytest.mark.parametrize("where", ["under a file", "unwritable folder"])
def test_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys, where):
    if where == "under a file":
        (tmp_path / "somefile.csv").write_text("precious")
        out, expected = tmp_path / "somefile.csv" / "results.csv", "somefile.csv is a file"
    else:
        out, expected = _unwritable_folder(tmp_path) / "results.csv", "cannot write in folder"
    assert main(["exp1", "--out", str(out)] + TINY) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --out ") and "\n" not in err and expected in err  # before any model trained
    if where == "under a file":
        assert (tmp_path / "somefile.csv").read_text() == "precious"


def test_unwritable_cache_is_said_once_and_the_run_goes_on_uncached(tmp_path, capsys, monkeypatch):
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(not_a_folder))
    assert main(["exp1"] + TINY + ["--rho", "0"]) == 0  # the result cache
    table = tmp_path / "ratings.csv"
    table.write_text("prompt,response,f1,f2\np,r1,1,2\np,r2,2,1\n")
    assert main(["embed", "--data", str(table), "--factors", "f1", "f2"]) == 0  # the embedding cache
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and f"cache {not_a_folder} is not writable" in warned[0], warned
    assert not_a_folder.read_text() == "x"


def test_repeated_rows_of_a_data_file_are_counted_not_dropped_silently(tmp_path, capsys):
    table = tmp_path / "ratings.csv"
    table.write_text("prompt,response,f1,f2\np,r1,1,2\np,r2,2,1\np,r2,2,1\np,r2,2,1\n")
    assert main(["embed", "--data", str(table), "--factors", "f1", "f2"]) == 0
    assert "left out: 2 repeated responses" in capsys.readouterr().err


def test_module_entry_point_help_and_exit_status():
    help_text = subprocess.run(
        [sys.executable, "-m", "causalpref", "exp1", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--rho", "--seeds", "--out", "--device", "--models", "--paper-size", "--scale"):
        assert option in help_text
    bad = subprocess.run([sys.executable, "-m", "causalpref", "exp1", "--rho", "2"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: rho must be")


TINY2 = [
    "--seeds",
    "1",
    "--n-train",
    "300",
    "--n-val",
    "100",
    "--n-test",
    "200",
    "--pool-size",
    "4000",
    "--dim",
    "12",
    "--hidden",
    "16",
    "--latent",
    "8",
    "--head-hidden",
    "8",
    "--epochs",
    "2",
    "--device",
    "cpu",
]


def test_exp2_prints_tables_2_and_3_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "r2.csv"
    assert main(["exp2", "--rho", "0.5", "1.0", "--lambda", "0.5", "--out", str(out)] + TINY2) == 0
    printed = capsys.readouterr().out
    assert "Experiment 2 — test accuracy" in printed and "training accuracy [%] at the selected checkpoint" in printed
    assert "60.0" in printed and "68.4" in printed and "79.6" in printed  # the paper's Table 2/3 values
    assert "adversary reads c" in printed and "achieved P(t = c) = 1.0000" in printed
    assert "fresh probe reads c" in printed
    frame = pd.read_csv(out)
    disc = frame[(frame["model"] == "adversarial") & (frame["split"] == "discriminator_val") & (frame["rho"] == 1.0)]
    header, row = [line for line in printed.splitlines() if line.startswith(("rho ", "1    ours"))][:2]  # test table
    assert header.split("  ")[-1].strip() == "Adv disc"  # beside every Adversarial number
    assert row.split("  ")[-1].strip() == f"{100 * disc['accuracy'].mean():.1f} ± 0.0"
    assert set(frame["model"]) == {"base", "multihead", "adversarial"}
    assert {"train_consistent", "train_inconsistent", "consistent", "inconsistent", "discriminator_train"} <= set(
        frame["split"]
    )


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--rho", "0.3"], "must be a number in [0.5, 1], got 0.3"),
        (["--models", "base", "ensemble"], "unknown model(s) ['ensemble'] for exp2"),
        (["--rho", "1.0", "--pool-size", "700"], "the data has 700 pairs, enough for at most"),
        (["--lambda", "-1"], "lambda must be a finite number >= 0"),
    ],
)
def test_exp2_bad_input_exit_2(args, expected, capsys):
    assert main(["exp2"] + TINY2 + args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and expected in err


def test_second_run_loads_from_cache_and_no_cache_recomputes(capsys, private_cache):
    args = ["exp1", "--rho", "0.3"] + TINY
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "trained in" in first and "loaded from the result cache" in second
    assert first.split("\n\n")[0] == second.split("\n\n")[0]  # the same table
    assert main(args + ["--no-cache"]) == 0
    assert "trained in" in capsys.readouterr().out


def test_cache_info_and_clear(capsys, private_cache):
    main(["exp1", "--rho", "0.3"] + TINY)
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    info = capsys.readouterr().out
    assert str(private_cache) in info and "entries: 5" in info and "exp1 5" in info
    assert main(["cache", "clear"]) == 0
    assert "removed 5 file(s)" in capsys.readouterr().out
    main(["cache", "info"])
    assert "entries: 0" in capsys.readouterr().out


def test_precision_needs_cuda(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["exp1", "--rho", "0", "--precision", "bf16"] + TINY) == 2
    assert "needs a CUDA device" in capsys.readouterr().err


def test_diagnose_exp1_warns_at_high_rho_only(capsys):
    assert main(["diagnose", "exp1", "--rho", "0", "0.9", "--scale", "continuous", "--pool-size", "20000"]) == 0
    report = capsys.readouterr().out
    low, high = report.split("training rho = 0.9")
    assert "ESS of train->test importance weights" in low and "warning: Poor overlap" not in low
    assert "warning: Poor overlap" in high


def test_diagnose_exp2_warns_when_prompt_gives_away_the_objective(capsys):
    assert main(["diagnose", "exp2", "--rho", "0.5", "1.0", "--pool-size", "20000"]) == 0
    report = capsys.readouterr().out
    low, high = report.split("training rho = 1 ")
    assert "overlap OK" in low and "WARNING: POOR OVERLAP" not in low
    assert "WARNING: POOR OVERLAP" in high and "does NOT clip" in high


def test_diagnose_bad_epsilon_is_one_line(capsys):
    assert main(["diagnose", "exp2", "--rho", "0.5", "--epsilon", "0.7", "--pool-size", "20000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "epsilon" in err


def test_sanity_prints_each_check_with_verdict_and_reading(tmp_path, capsys):
    out = tmp_path / "sanity.csv"
    assert main(["sanity", "exp1", "--rho", "0.6", "--out", str(out)] + TINY) == 0
    printed = capsys.readouterr().out
    assert "Sanity checks — exp1 on synthetic, training rho = 0.6, 1 seed, models base" in printed
    for check in ("none", "placebo", "random_feature", "half_data"):
        assert f"\n  {check:<15}base" in printed
    assert "- Placebo (training and validation labels shuffled): accuracy base id" in printed
    assert "150 of 300 training pairs" in printed and "4 variants trained in" in printed
    frame = pd.read_csv(out)
    assert len(frame) == 4 * 2 and set(frame["split"]) == {"id", "ood"} and set(frame["rho"]) == {0.6}
    assert set(frame["verdict"]) <= {"reference", "as expected", "unexpected"}
    assert main(["sanity", "exp1", "--rho", "0.6"] + TINY) == 0
    assert "4 variants all loaded from the result cache" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["sanity", "exp1", "--rho", "1.5"] + TINY, "rho must be a number in [-1, 1], got 1.5"),
        (["sanity", "exp2", "--rho", "0.3"] + TINY2, "must be a number in [0.5, 1], got 0.3"),
        (["sanity", "exp1", "--models", "multihead"] + TINY, "unknown model(s) ['multihead'] for exp1"),
    ],
)
def test_sanity_bad_input_exit_2(args, expected, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and expected in err


def test_weighted_models_get_columns_and_their_weights_price(capsys):
    assert main(["exp2", "--rho", "0.5", "0.9", "--models", "base", "--weighting", "ipw"] + TINY2) == 0
    printed = capsys.readouterr().out
    assert "Base+ipw inc" in printed and "Base+ipw con" in printed
    assert "paper" not in printed.split("Baselines")[0]  # the paper never ran weighted models
    lines = printed.split("effective sample size of the weights")[1].splitlines()
    shares = [float(line.split(": ")[1].split("%")[0]) for line in lines[1:3]]
    assert shares[1] < shares[0] <= 100  # rho 0.9 costs more of the sample than rho 0.5
    assert main(["exp1", "--rho", "0.9", "--weighting", "balanced"] + TINY) == 0
    assert "rho=0.9:" in capsys.readouterr().out.split("effective sample size")[1]


def test_architecture_parameters_from_the_command_line(capsys):
    args = ["exp2", "--rho", "0.9", "--models", "adversarial", "--param", "adversarial.adversary_lambda=0.5"]
    assert main(args + TINY2) == 0
    capsys.readouterr()
    assert main(["exp2", "--rho", "0.9", "--models", "base", "--lambda", "0.5"] + TINY2) == 0
    assert "--lambda is ignored: none of the chosen models ['base'] has a parameter" in capsys.readouterr().err
    assert main(["exp2", "--models", "multihead", "--param", "multihead.head_hidden=x"] + TINY2) == 2
    assert "head_hidden must be of type int, got 'x'" in capsys.readouterr().err


def test_training_progress_prints_every_finished_model_and_otherwise_every_few_seconds(monkeypatch, capsys):
    from causalpref import cli

    clock = {"now": 1000.0}
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(cli, "_printed", {"done": 0.0, "at": 0.0})
    for step, (done, wait) in enumerate([(0, 0), (0, 1), (0.5, 1), (1.0, 1), (1.5, 6), (1.7, 1), (2.0, 1)]):
        clock["now"] += wait
        cli._progress(done, 4, f"step {step}")
    lines = capsys.readouterr().err.splitlines()
    # the first drawing line; epochs inside 5 s stay quiet; each finished model; an epoch after 6 s
    assert [line.split("] ")[1] for line in lines] == ["step 0", "step 3", "step 4", "step 6"]
    assert lines[2].startswith("  [1.5/4]")


def test_the_embedding_bar_says_what_came_from_the_cache_and_times_only_the_rest(capsys):
    from causalpref.cli import tqdm_progress

    all_cached = tqdm_progress("embedding")
    all_cached(3877, 3877)
    assert capsys.readouterr().err.strip() == "embedding: 3,877 of 3,877 from cache"  # no bar, no it/s

    partly = tqdm_progress("embedding")
    partly(100, 400)
    partly(400, 400)
    err = capsys.readouterr().err
    assert "embedding (100 from cache)" in err and "400/400" in err


def test_diagnose_on_a_data_file_says_it_is_too_small_before_embedding(tmp_path, capsys, monkeypatch):
    from apptest_helpers import tiny_truthfulqa

    import causalpref.data.worlds.real as real

    path = tmp_path / "tq.jsonl"
    tiny_truthfulqa(path)
    monkeypatch.setattr(real, "embed_pairs", lambda *a, **k: pytest.fail("embedded before the size check"))
    assert main(["diagnose", "exp1", "--world", "truthfulqa", "--data", str(path), "--prefer", "truthful"]) == 2
    err = capsys.readouterr().err
    assert "embedding" not in err
    assert "too few for splits of any size" in err.splitlines()[-1]


def test_help_loads_neither_torch_nor_pandas():
    """--help must answer at once: the parser is built from registries that need no torch."""
    code = (
        "import sys; from causalpref.cli import build_parser; "
        "p = build_parser(); p.parse_args(['exp1', '--rho', '0.3']); "
        "print(sorted(m for m in ('torch', 'pandas', 'transformers', 'datasets') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
