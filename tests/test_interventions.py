"""The interventions lab's engine (issue 15): each strategy's draw, the paired design, the
checks before training, stacked = one by one, the cache, and the summaries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from causalpref.cli import build_parser, intervention_spec_from_args, main
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.errors import CausalPrefError
from causalpref.interventions import report, summary
from causalpref.interventions.draws import split_indices
from causalpref.interventions.plan import check, plan_seed
from causalpref.interventions.run import (
    ActiveRun,
    next_active_job,
    portions,
    run_interventions,
    run_interventions_cached,
)
from causalpref.interventions.spec import InterventionSpec, default_spec
from causalpref.interventions.strategies import availability, strategy_names
from causalpref.models import build_model
from causalpref.models.config import ModelConfig
from causalpref.run.cache import ResultCache
from causalpref.run.specs import Exp1Spec, Exp2Sizes, Exp2Spec, SplitSizes
from causalpref.run.sweep import EXPERIMENTS
from causalpref.train.config import TrainConfig
from causalpref.train.loop import reward_margins, train_reward_model
from causalpref.train.ragged import train_ragged

SMALL = dict(
    seeds=(0, 1),
    model=ModelConfig(hidden=16, latent=8),
    train=TrainConfig(lr=1e-3, epochs=2, batch_size=64),
    device="cpu",
)


def exp1_spec(**changes) -> InterventionSpec:
    base = Exp1Spec(
        world=CorrelatedFactorsWorld(pool_size=6000),
        rhos=(0.9,),
        sizes=SplitSizes(train=200, val=100, id=200, ood=200),
        **SMALL,
    )
    return replace(default_spec("exp1", base=base, budgets=(0, 20, 60), rounds=2), **changes)


def exp2_spec(**changes) -> InterventionSpec:
    base = Exp2Spec(
        world=UserObjectivesWorld(pool_size=6000),
        rhos=(0.9,),
        sizes=Exp2Sizes(train=200, val=100, test=100),
        models=("base",),
        **SMALL,
    )
    return replace(default_spec("exp2", base=base, budgets=(0, 20, 60), rounds=2), **changes)


def plan_of(spec, seed=0):
    experiment = EXPERIMENTS[spec.experiment](spec.base, torch.device("cpu"))
    return experiment, plan_seed(experiment, spec, seed)


@pytest.fixture(scope="module")
def exp1_sweep():
    return run_interventions(exp1_spec())


# ------------------------------------------------------------------ each strategy's draw


@pytest.mark.parametrize("make", [exp1_spec, exp2_spec])
def test_budget_exact_and_extra_pairs_disjoint_from_every_split(make):
    spec = make()
    experiment, plan = plan_of(spec)
    splits = split_indices(experiment.pool, spec, 0)
    held_out = np.concatenate([splits[k] for k in splits if k != "train"])
    assert set(plan.extras) == {(s, b) for s in spec.strategies if s != "active" for b in (20, 60)}
    for (name, budget), extra in plan.extras.items():
        assert len(extra.pairs) == budget, name
        if name == "counterfactual":  # relabels of base training rows
            assert extra.indices.max() < len(plan.cell.train)
        elif extra.indices is not None:
            assert not np.isin(extra.indices, held_out).any(), name
            assert not np.isin(extra.indices, splits["train"]).any(), name
            np.testing.assert_array_equal(extra.pairs.emb_a, experiment.pool.pairs(extra.indices).emb_a)
        else:  # generated pairs: no embedding equals a test pair's
            test_rows = {row.tobytes() for _, (pairs, _) in plan.cell.evaluate.items() for row in pairs.emb_a}
            assert not any(row.tobytes() in test_rows for row in extra.pairs.emb_a)


def test_isolated_pairs_differ_in_exactly_one_causal_factor():
    world = CorrelatedFactorsWorld()
    pairs = world.isolated_pairs(400, seed=5, share=0.25)
    causal = pairs.factor_diffs[:, :2]
    assert ((causal != 0).sum(axis=1) == 1).all()  # one factor changed, never zero, never both
    assert np.all(pairs.factor_diffs[:, 2:] == 0)  # nuisance factors identical
    assert (causal[:, 0] != 0).sum() == 100  # the share changes the first factor
    np.testing.assert_array_equal(pairs.label, (pairs.true_margin > 0).astype(np.float32))
    again = world.isolated_pairs(400, seed=5, share=0.25)
    np.testing.assert_array_equal(pairs.emb_a, again.emb_a)


def test_targeted_pairs_lie_where_the_factors_disagree():
    _, plan = plan_of(exp1_spec())
    d = plan.extras["targeted", 60].pairs.factor_diffs
    assert np.all(d[:, 0] * d[:, 1] < 0)


def test_observational_pairs_keep_the_base_sets_rho():
    _, plan = plan_of(exp1_spec())
    d = plan.extras["observational", 60].pairs.factor_diffs
    assert np.corrcoef(d[:, 0], d[:, 1])[0, 1] == pytest.approx(0.9, abs=0.03)


def test_randomised_prompts_have_t_independent_of_c():
    spec = exp2_spec(budgets=(0, 1000), strategies=("observational", "randomised"))
    _, plan = plan_of(spec)
    extra = plan.extras["randomised", 1000].pairs
    t, c = extra.prompt_type, extra.objective
    assert abs(np.mean(t == c) - 0.5) < 0.03
    assert abs(np.mean(t[c == 0]) - np.mean(t[c == 1])) < 0.06  # P(t=1 | c) does not depend on c
    base = plan.extras["observational", 1000].pairs  # the base set's way: t follows c
    assert np.mean(base.prompt_type == base.objective) == pytest.approx(0.9, abs=0.01)


def test_counterfactual_relabels_flip_where_the_objectives_disagree():
    _, plan = plan_of(exp2_spec())
    extra = plan.extras["counterfactual", 60]
    original = plan.cell.train.subset(extra.indices)
    np.testing.assert_array_equal(extra.pairs.emb_a, original.emb_a)
    np.testing.assert_array_equal(extra.pairs.objective, 1 - original.objective)
    np.testing.assert_array_equal(extra.pairs.label, original.counterfactual_label)
    disagree = original.label != original.counterfactual_label
    assert disagree.any() and (~disagree).any()
    np.testing.assert_array_equal(extra.pairs.label != original.label, disagree)


def test_active_asks_for_the_pairs_the_model_is_least_sure_about():
    spec = exp1_spec()
    experiment, plan = plan_of(spec)
    base = spec.base
    model = build_model("base", plan.cell.train.dim, base.model, 0, base.params_of("base"), False)
    model = train_reward_model(model, plan.cell.train, plan.cell.val, base.train, 0, torch.device("cpu")).model
    run = ActiveRun(0, "base", 60, portions(60, 2), [])
    job = next_active_job(run, {(0, "base", "base"): model}, {0: plan}, spec, experiment, torch.device("cpu"))
    candidates = np.flatnonzero(plan.allowed)
    margins = np.abs(reward_margins(model, experiment.pool.pairs(candidates), torch.device("cpu")))
    chosen = run.picked[0]
    assert len(chosen) == 30 and len(job.added) == 30 and not job.final
    assert margins[np.isin(candidates, chosen)].max() <= margins[~np.isin(candidates, chosen)].min()
    assert portions(50, 4) == [13, 13, 12, 12] and portions(2, 4) == [1, 1]


# ------------------------------------------------------------------ the sweep


def test_every_strategy_gets_the_same_base_set_tests_and_weights(exp1_sweep):
    results = exp1_sweep.results
    for split in ("ood", "id"):
        at0 = results[(results["budget"] == 0) & (results["split"] == split)]
        at0 = at0[at0["strategy"].isin(exp1_spec().strategies)]
        assert at0.groupby("seed")["accuracy"].nunique().eq(1).all()  # one base model per seed
    assert results.groupby(["strategy", "budget", "seed", "split"])["n"].nunique().eq(1).all()
    added = exp1_sweep.details["added"]
    counts = added.groupby(["strategy", "budget", "seed"]).size()
    assert (counts.index.get_level_values("budget") == counts.to_numpy()).all()  # exactly B labels
    assert set(added["strategy"]) == set(exp1_spec().strategies)
    assert len(exp1_sweep.details["base"]) == 2 * 200


def test_every_model_of_a_seed_starts_from_the_same_weights(monkeypatch):
    from causalpref.interventions import run as run_module

    built = {}

    def recording(*args, **kwargs):
        model = build_model(*args, **kwargs)
        seed = args[3]
        state = torch.cat([p.detach().flatten() for p in model.parameters()])
        built.setdefault(seed, []).append(state)
        return model

    monkeypatch.setattr(run_module, "build_model", recording)
    run_interventions(exp1_spec(budgets=(0, 20), rounds=1))
    assert sorted(built) == [0, 1] and all(len(states) >= 6 for states in built.values())
    for states in built.values():
        assert all(torch.equal(states[0], state) for state in states)
    assert not torch.equal(built[0][0], built[1][0])


def test_a_strategys_numbers_do_not_depend_on_which_others_run(exp1_sweep):
    alone = run_interventions(exp1_spec(strategies=("observational", "targeted")))
    keys = ["strategy", "budget", "seed", "split"]
    both = exp1_sweep.results.merge(alone.results, on=keys, suffixes=("", "_alone"))
    assert set(both["strategy"]) == {"observational", "targeted", "reweighting", "rho0"}
    np.testing.assert_array_equal(both["accuracy"], both["accuracy_alone"])


def test_extra_labels_change_the_trained_model(exp1_sweep):
    ood = exp1_sweep.results.query("split == 'ood'")
    assert (
        ood.query("strategy == 'targeted' and budget == 60")["accuracy"]
        .ne(ood.query("strategy == 'targeted' and budget == 0")["accuracy"].to_numpy())
        .all()
    )
    history = exp1_sweep.details["history"]  # the extra pairs were trained on: the loss path differs
    losses = history.query("seed == 0 and epoch == 1").set_index(["strategy", "budget"])["train_loss"]
    assert losses["targeted", 60] != losses["targeted", 0]


def test_stacked_run_equals_one_by_one(exp1_sweep):
    one_by_one = run_interventions(exp1_spec(), sequential=True)
    pd.testing.assert_frame_equal(
        exp1_sweep.results.drop(columns="accuracy").drop(columns=["margin"]),
        one_by_one.results.drop(columns="accuracy").drop(columns=["margin"]),
        check_exact=False,
        atol=1e-6,
        check_dtype=False,
    )
    np.testing.assert_allclose(exp1_sweep.results["accuracy"], one_by_one.results["accuracy"], atol=0.011)
    pd.testing.assert_frame_equal(exp1_sweep.details["added"], one_by_one.details["added"])


def test_exp2_sweep_runs_every_strategy_with_any_weighting():
    spec = exp2_spec(budgets=(0, 20), base=replace(exp2_spec().base, weighting="ipw", seeds=(0,)))
    sweep = run_interventions(spec)
    names = set(sweep.results["strategy"])
    assert names == set(strategy_names("exp2")) | {"reweighting", "rho0"}
    assert set(sweep.results["weighting"]) == {"ipw"}
    assert {"inconsistent", "consistent", "inconsistent t=0 c=1"} <= set(sweep.results["split"])


def test_cache_round_trip(tmp_path):
    spec = exp1_spec(strategies=("observational",), budgets=(0, 20))
    cache = ResultCache(tmp_path)
    first, was_cached = run_interventions_cached(spec, cache)
    again, was_cached_again = run_interventions_cached(spec, cache)
    assert (was_cached, was_cached_again) == (False, True)
    pd.testing.assert_frame_equal(first.results, again.results, check_dtype=False)
    for name in ("added", "base", "history"):
        pd.testing.assert_frame_equal(first.details[name], again.details[name], check_dtype=False)


def test_two_sessions_asking_for_one_uncached_intervention_sweep_train_it_once(tmp_path, monkeypatch):
    import threading

    from causalpref.interventions import run as runs

    calls, real = [], runs.run_interventions

    def counting(spec, progress=None, **kwargs):
        calls.append(spec)
        return real(spec, progress=progress, **kwargs)

    monkeypatch.setattr(runs, "run_interventions", counting)
    spec, cache, got = exp1_spec(strategies=("observational",), budgets=(0, 20)), ResultCache(tmp_path), []
    sessions = [threading.Thread(target=lambda: got.append(run_interventions_cached(spec, cache))) for _ in range(2)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join(timeout=300)
    assert len(calls) == 1 and sorted(cached for _, cached in got) == [False, True]
    pd.testing.assert_frame_equal(got[0][0].results, got[1][0].results, check_dtype=False)


def test_a_sweep_that_cannot_fit_in_memory_is_refused_before_anything_is_drawn():
    from causalpref.interventions.run import check_intervention_memory

    spec = exp1_spec()
    with pytest.raises(CausalPrefError, match=r"needs about .* GB of memory"):
        check_intervention_memory(spec, available=1_000_000)
    check_intervention_memory(spec, available=10**12)  # the default size fits a machine like this


def test_ragged_stack_trains_each_model_as_it_trains_alone():
    spec = exp1_spec()
    _, plan = plan_of(spec)
    base, cpu = spec.base, torch.device("cpu")
    train = plan.cell.train
    sets = [train.subset(np.arange(n)) for n in (200, 130, 64, 65)]  # full, partial, exact, one over
    sets[1] = replace(sets[1], weight=np.linspace(0.5, 1.5, 130).astype(np.float32))
    sets = [s if s.weight is not None else replace(s, weight=np.ones(len(s), np.float32)) for s in sets]

    def model(seed):
        return build_model("base", train.dim, base.model, seed, base.params_of("base"), False)

    config = replace(base.train, epochs=3)
    ragged = train_ragged([model(s) for s in range(4)], sets, [plan.cell.val] * 4, config, [0, 1, 2, 3], cpu)
    for seed, (pairs, result) in enumerate(zip(sets, ragged)):
        alone = train_reward_model(model(seed), pairs, plan.cell.val, config, seed, cpu)
        assert result.best_epoch == alone.best_epoch
        for key, value in alone.model.state_dict().items():
            torch.testing.assert_close(result.model.state_dict()[key], value, atol=1e-5, rtol=1e-5)
        for ours, theirs in zip(result.history, alone.history):
            assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-5)


# ------------------------------------------------------------------ bad input, before training


def test_bad_input_is_refused_with_one_line():
    with pytest.raises(CausalPrefError, match=r"strategy 'targeted': budget 3,000 asked, but at most [\d,]+ pairs"):
        check(exp1_spec(budgets=(0, 3000)))
    with pytest.raises(CausalPrefError, match=r"unknown strategy 'nope' for exp1; choose from \['observational'"):
        exp1_spec(strategies=("nope",))
    with pytest.raises(CausalPrefError, match="budget is a whole number"):
        exp1_spec(budgets=(0, -5))
    with pytest.raises(CausalPrefError, match="one training rho"):
        InterventionSpec(base=Exp1Spec(rhos=(0.5, 0.9)))


def test_a_strategy_the_world_cannot_run_says_why():
    class NoGenerator(CorrelatedFactorsWorld):
        can_isolate = False

    base = replace(exp1_spec().base, world=NoGenerator(pool_size=6000))
    assert availability(base)["isolated"] == "isolated pairs need a generator; a data file has none"
    assert "isolated" not in default_spec("exp1", base=base).strategies
    with pytest.raises(CausalPrefError, match="cannot run on .*: isolated pairs need a generator"):
        check(InterventionSpec(base=base, strategies=("isolated",)))


def test_cli_errors_before_training(capsys, tmp_path):
    assert main(["interventions", "exp1", "--budget", "0", "100000"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: strategy 'observational': budget 100,000")
    assert main(["interventions", "exp2", "--strategies", "isolated"]) == 2
    assert "choose from ['observational', 'randomised', 'counterfactual', 'active']" in capsys.readouterr().err


def test_cli_prints_the_report_and_writes_a_tidy_csv(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "iv.csv"
    argv = "interventions exp1 --seeds 1 --budget 0 20 --strategies observational targeted --pool-size 6000"
    argv += " --n-train 200 --n-val 100 --n-id 200 --n-ood 200 --epochs 1 --hidden 16 --latent 8 --device cpu"
    assert main(argv.split() + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired difference against observational" in printed and "half the loss" in printed
    table = pd.read_csv(out)
    assert {"strategy", "budget", "split", "accuracy"} <= set(table.columns)
    assert set(table["budget"]) == {0, 20}


@pytest.mark.parametrize("section", report.sections(), ids=lambda s: s.name)
def test_each_results_section_is_the_spec_its_cli_command_builds(section, monkeypatch):
    specs = {}
    monkeypatch.setattr(report, "run_interventions_cached", lambda spec, cache: (specs.update(spec=spec), 0)[1])
    with pytest.raises(TypeError):  # stops after the spec: nothing is trained
        section.build(None)
    command = {
        "interventions-exp1": "interventions exp1 --device cpu",
        "interventions-exp2": "interventions exp2 --device cpu",
        "interventions-hh-length": report.HH_COMMAND,
    }[section.name]
    assert intervention_spec_from_args(build_parser().parse_args(command.split())) == specs["spec"]
    assert section.name in report.SECTION_NAMES


# ------------------------------------------------------------------ summaries on a hand-made frame


def hand_made() -> pd.DataFrame:
    rows = []
    grid = {  # strategy -> accuracy (share) per budget, for seeds 0 and 1 (+1 point on seed 1)
        "observational": {0: 0.60, 100: 0.61, 200: 0.62},
        "targeted": {0: 0.60, 100: 0.66, 200: 0.72},
        "uniform": {0: 0.60, 100: 0.62, 200: 0.63},
    }
    for seed, shift in ((0, 0.0), (1, 0.01)):
        for name, curve in grid.items():
            for budget, acc in curve.items():
                rows.append({"strategy": name, "budget": budget, "seed": seed, "accuracy": acc + shift})
        rows.append({"strategy": "rho0", "budget": 0, "seed": seed, "accuracy": 0.80 + shift})
        rows.append({"strategy": "reweighting", "budget": 0, "seed": seed, "accuracy": 0.63 + shift})
    frame = pd.DataFrame(rows)
    return frame.assign(split="ood", experiment="exp1", model="base", architecture="base")


def test_curves_and_paired_differences():
    results = hand_made()
    curves = summary.curves(results, "ood")
    row = curves.query("strategy == 'targeted' and budget == 200").iloc[0]
    assert row["mean"] == pytest.approx(72.5) and row["n"] == 2 and row["sd"] == pytest.approx(np.sqrt(0.5))
    paired = summary.paired_differences(results, "ood")
    row = paired.query("strategy == 'targeted' and budget == 200").iloc[0]
    assert row["diff"] == pytest.approx(10.0) and row["se"] == pytest.approx(0.0, abs=1e-9)
    assert "observational" not in set(paired["strategy"])


def test_labels_to_half_interpolates_and_says_not_reached():
    half = summary.labels_to_half(hand_made(), "ood").set_index("strategy")
    # base 60.5, rho0 80.5: target 70.5; targeted 66.5 at 100, 72.5 at 200 -> 100 + 4/6 * 100
    assert half.loc["targeted", "target"] == pytest.approx(70.5)
    assert half.loc["targeted", "labels"] == pytest.approx(100 + 400 / 6)
    assert np.isnan(half.loc["uniform", "labels"]) and np.isnan(half.loc["observational", "labels"])
    assert "uniform          not reached" in summary.half_table(hand_made(), "ood")


def test_reading_names_the_winner_with_its_paired_difference():
    text = summary.reading(hand_made(), "ood")
    assert text.startswith("With 200 extra labels, Targeted reaches the highest OOD accuracy, 72.5%")
    assert "+10.0 ± 0.0 points against observational" in text
    flipped = hand_made()
    flipped.loc[(flipped["strategy"] == "observational") & (flipped["budget"] > 0), "accuracy"] += 0.2
    assert "Observational reaches the highest" in summary.reading(flipped, "ood")
    assert "Targeted, is -10.0 ± 0.0 points against it; the base set alone scores 60.5%" in summary.reading(
        flipped, "ood"
    )
