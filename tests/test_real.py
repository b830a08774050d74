"""Real data through the whole engine: loaders -> packaged MiniLM embeddings -> experiments.

Uses tiny files written here (so it runs without ../shared), and the packaged encoder.
"""

import json
from dataclasses import replace

import numpy as np
import pytest

from causalpref.cli import main
from causalpref.data.worlds.real import RealDataWorld
from causalpref.draw.splits import (
    check_exp1_sizes,
    check_exp2_sizes,
    draw_exp1_splits,
    draw_exp2_splits,
    group_split,
    sizes_text,
)
from causalpref.errors import CausalPrefError
from causalpref.models import ModelConfig
from causalpref.run.specs import Exp1Spec, Exp2Sizes, Exp2Spec, SplitSizes
from causalpref.run.sweep import detail_tables, run_sweep
from causalpref.train.loop import TrainConfig

FAST = dict(seeds=(0,), model=ModelConfig(hidden=16, latent=8), train=TrainConfig(lr=1e-3, epochs=2), device="cpu")


@pytest.fixture(scope="module")
def truthfulqa_file(tmp_path_factory):
    """60 questions x 8 answers with both labels varying: plenty of pairs of every kind."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("tqa") / "dual.jsonl"
    with open(path, "w") as handle:
        for q in range(60):
            for k in range(8):
                handle.write(
                    json.dumps(
                        {
                            "question": f"Question {q} about topic {q % 7}?",
                            "answer": f"Answer {k} to {q}: " + " ".join(rng.choice(list("abcdefgh"), 5)),
                            "truthful": int(rng.random() < 0.5),
                            "informative": int(rng.random() < 0.6),
                            "category": "x",
                            "type": "y",
                        }
                    )
                    + "\n"
                )
    return path


@pytest.fixture(scope="module")
def relabeled_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rhh") / "relabeled.jsonl"
    rng = np.random.default_rng(1)
    with open(path, "w") as handle:
        for i in range(400):
            t, c = ("helpful", "harmless")[i % 2], ("helpful", "harmless")[(i // 2) % 2]
            prompt = f"\n\nHuman: request {i} of kind {t}"
            handle.write(
                json.dumps(
                    {
                        "prompt": prompt,
                        "responses": [f" reply A{i}", f" reply B{i}"],
                        "chosen": prompt + f"\n\nAssistant: reply A{i}",
                        "rejected": prompt + f"\n\nAssistant: reply B{i}",
                        "Index": i,
                        "data_subset": t,
                        "objective": c,
                        "original_label": 0,
                        "label": int(rng.random() < 0.5),
                    }
                )
                + "\n"
            )
    return path


def test_truthfulqa_world_splits_by_question_and_trains(truthfulqa_file):
    world = RealDataWorld.from_path("truthfulqa", truthfulqa_file, a=0.25)
    pool = world.pool()
    assert world.factor_names == ("truthful", "informative") and world.dim == 384
    sizes = SplitSizes(train=150, val=30, id=80, ood=40)
    splits = draw_exp1_splits(pool, 0, 0.3, sizes)
    train_q = set(pool.group[splits.indices["train"]])
    for name in ("val", "id", "ood"):
        assert not train_q & set(pool.group[splits.indices[name]]), f"{name} shares a question with train"
    assert abs(splits.achieved_rho["train"] - 0.3) <= 0.02
    sweep = run_sweep(replace(Exp1Spec(world=world, rhos=(0.0, 0.6), sizes=sizes), **FAST))
    assert set(sweep.results["split"]) == {"train", "val", "id", "ood"}
    assert "boundary" not in sweep.details and "boundary" not in detail_tables(Exp1Spec(world=world))
    labels = pool.label[pool.factor_diffs[:, 1] > 0]
    assert labels.mean() > 0.7  # informative (weight 0.75) mostly decides


def test_relabeled_world_runs_experiment_2(relabeled_file):
    world = RealDataWorld.from_path("relabeled-hh", relabeled_file)
    spec = replace(Exp2Spec(world=world, rhos=(0.5, 1.0), sizes=Exp2Sizes(train=120, val=40, test=40)), **FAST)
    results = run_sweep(spec).results
    assert {"consistent", "inconsistent", "train_consistent"} <= set(results["split"])


def test_group_split_keeps_groups_whole():
    group = np.repeat(np.arange(50), 4)
    masks = group_split(group, {"train": 0.6, "val": 0.1, "test": 0.3}, seed=3)
    assert sum(m.sum() for m in masks.values()) == group.size
    owners = [{int(g) for g in group[m]} for m in masks.values()]
    assert not (owners[0] & owners[1]) and not (owners[0] & owners[2]) and not (owners[1] & owners[2])


def test_splits_too_large_for_the_data_say_what_fits(truthfulqa_file, relabeled_file):
    pool = RealDataWorld.from_path("truthfulqa", truthfulqa_file, a=0.25).pool()
    with pytest.raises(CausalPrefError) as info:
        draw_exp1_splits(pool, 0, 0.3, SplitSizes())
    message = str(info.value)
    assert message.startswith(
        "cannot draw 2,000 training, 500 validation, 2,000 ID and 2,000 OOD pairs at ρ = 0.3: "
        f"the data has {len(pool):,} pairs over 60 questions, enough for at most "
    )
    d1, d2 = pool.factor_diffs.T
    largest = check_exp1_sizes(d1, d2, pool.group, SplitSizes(), (0.3,), (0,)).largest
    assert sizes_text(largest) in message and largest.train > 100
    assert message.endswith(
        "set smaller sizes (--n-train --n-val --n-id --n-ood) or other group shares (--split-shares TRAIN VAL TEST)"
    )
    # Experiment 2: what the message says fits, draws
    pool = RealDataWorld.from_path("relabeled-hh", relabeled_file).pool()
    with pytest.raises(CausalPrefError, match=r"^cannot draw 2,000 training, .* the data has 400 pairs, enough"):
        draw_exp2_splits(pool, 0, 0.5, Exp2Sizes())
    largest = check_exp2_sizes(pool.prompt_type, pool.objective, Exp2Sizes(), (0.5,)).largest
    draw_exp2_splits(pool, 0, 0.5, largest)


@pytest.mark.parametrize("a", [float("nan"), 7.5, -2.0, "0.3"])
def test_true_reward_weight_a_must_be_a_number_in_0_1(truthfulqa_file, a):
    with pytest.raises(CausalPrefError, match=r"^a \(true reward .*\) must be a number in \[0, 1\], got"):
        RealDataWorld.from_path("truthfulqa", truthfulqa_file, a=a)


def test_same_file_same_fingerprint_changed_file_new_world(truthfulqa_file, tmp_path):
    first = RealDataWorld.from_path("truthfulqa", truthfulqa_file)
    assert first == RealDataWorld.from_path("truthfulqa", truthfulqa_file)
    copy = tmp_path / "copy.jsonl"
    copy.write_text(truthfulqa_file.read_text() + truthfulqa_file.read_text().splitlines()[0] + "\n")
    assert RealDataWorld.from_path("truthfulqa", copy).fingerprint != first.fingerprint


@pytest.mark.parametrize(
    "args, expected",
    [
        (["exp1", "--world", "truthfulqa"], "needs --data PATH"),
        (["exp1", "--world", "truthfulqa", "--data", "/nonexistent/x.jsonl"], "does not exist"),
        (["exp1", "--world", "wikipedia", "--data", "x"], "--world must be synthetic or one of"),
        (["exp2", "--world", "truthfulqa", "--data", "PLACEHOLDER", "--seeds", "1"], "feeds exp1"),
    ],
)
def test_cli_real_data_errors(args, expected, capsys, truthfulqa_file):
    args = [str(truthfulqa_file) if a == "PLACEHOLDER" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the 'embedding ...' notice
    assert err.startswith("error: ") and expected in err


def test_cli_embed_then_exp1_on_real_file(truthfulqa_file, capsys):
    assert main(["embed", "--data", str(truthfulqa_file), "--kind", "truthfulqa"]) == 0
    assert "pairs of" in capsys.readouterr().out
    assert (
        main(
            [
                "exp1",
                "--world",
                "truthfulqa",
                "--data",
                str(truthfulqa_file),
                "--prefer",
                "informative",
                "--rho",
                "0.3",
                "--seeds",
                "1",
                "--n-train",
                "150",
                "--n-val",
                "30",
                "--n-id",
                "80",
                "--n-ood",
                "40",
                "--epochs",
                "2",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert "Experiment 1" in capsys.readouterr().out


def test_world_file_with_factors_guesses_a_response_table(tmp_path, capsys):
    rows = ["prompt,response,truthfulness,instruction_following"]
    rng = np.random.default_rng(2)
    for p in range(60):
        for r in range(6):
            rows.append(f"prompt {p},response {p}-{r} {rng.integers(1000)},{rng.integers(1, 6)},{rng.integers(1, 6)}")
    table = tmp_path / "ratings.csv"
    table.write_text("\n".join(rows) + "\n")
    assert main(["embed", "--data", str(table), "--factors", "truthfulness", "instruction_following"]) == 0
    assert (
        main(
            [
                "exp1",
                "--world",
                str(table),
                "--factors",
                "truthfulness",
                "instruction_following",
                "--weights",
                "truthfulness=0.25",
                "instruction_following=0.75",
                "--rho",
                "0.3",
                "--seeds",
                "1",
                "--n-train",
                "200",
                "--n-val",
                "40",
                "--n-id",
                "100",
                "--n-ood",
                "40",
                "--epochs",
                "2",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert "Experiment 1" in capsys.readouterr().out
