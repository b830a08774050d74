from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from causalpref import CausalPrefError
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.models import ModelConfig
from causalpref.run.specs import Exp1Spec, Exp2Sizes, Exp2Spec, SplitSizes
from causalpref.run.sweep import RESULT_COLUMNS, run_sweep
from causalpref.train.loop import TrainConfig
from causalpref.ui.views.correlation import reading_of_curve


def test_results_are_tidy_and_complete(tiny_spec):
    results = run_sweep(tiny_spec).results
    assert list(results.columns) == RESULT_COLUMNS
    assert len(results) == len(tiny_spec.rhos) * len(tiny_spec.seeds) * 4
    assert set(results["split"]) == {"train", "val", "id", "ood"}
    assert results["accuracy"].between(0, 1).all()
    sizes = tiny_spec.sizes.as_dict()
    assert all(results["n"] == results["split"].map(sizes))
    targeted = results[results.split.isin(["train", "val", "id"])]
    assert (targeted["rho_achieved"] - targeted["rho"]).abs().max() <= 0.02
    assert (results[results.split == "ood"]["rho_achieved"] < 0).all()


def test_same_spec_same_numbers(tiny_spec):
    pd.testing.assert_frame_equal(run_sweep(tiny_spec).results, run_sweep(tiny_spec).results)


def test_progress_reports_every_model(tiny_spec):
    calls = []
    run_sweep(tiny_spec, progress=lambda done, total, msg: calls.append((done, total, msg)))
    assert calls[-1][:2] == (2, 2) and "rho 0, 0.9" in calls[-1][2]
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_correlated_training_hurts_out_of_distribution_accuracy():
    """The paper's Experiment-1 effect, at a size that trains in a few seconds."""
    spec = Exp1Spec(
        rhos=(0.0, 0.9),
        seeds=(0, 1),
        sizes=SplitSizes(train=1500, val=400, id=1000, ood=1000),
        model=ModelConfig(hidden=64, latent=16),
        train=TrainConfig(lr=1e-3, epochs=6),
        device="cpu",
    )
    results = run_sweep(spec).results
    acc = 100 * results.groupby(["split", "rho"])["accuracy"].mean()
    assert acc["ood", 0.9] < acc["ood", 0.0] - 5
    assert acc["id", 0.9] - acc["ood", 0.9] > acc["id", 0.0] - acc["ood", 0.0] + 5
    assert abs(acc["id", 0.9] - acc["id", 0.0]) < 5
    assert f"{acc['ood', 0.0]:.1f}% → {acc['ood', 0.9]:.1f}%" in reading_of_curve(results)


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"rhos": (1.5,)}, r"rho must be a number in \[-1, 1\], got 1.5"),
        ({"rhos": (float("nan"),)}, "rho must be a number"),
        ({"rhos": ()}, "at least one rho"),
        ({"models": ("multihead",)}, "unknown model"),
    ],
)
def test_bad_specs_are_refused(tiny_spec, changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        replace(tiny_spec, **changes)


def test_split_larger_than_pool_is_refused(tiny_spec):
    spec = replace(tiny_spec, sizes=SplitSizes(train=10_000, val=100, id=100, ood=100))
    with pytest.raises(CausalPrefError, match="pool has only 6000"):
        run_sweep(spec)


def test_paper_size_spec_has_the_papers_numbers():
    spec = Exp1Spec.paper_size()
    assert spec.sizes == SplitSizes(train=15_000, val=2_000, id=15_000, ood=15_000)
    assert (spec.model.hidden, spec.model.latent, spec.model.n_layers) == (512, 64, 3)
    assert (spec.train.lr, spec.train.epochs) == (1e-4, 10)
    assert spec.world.dim == 4096


def small_exp2(**changes):
    spec = Exp2Spec(
        world=UserObjectivesWorld(dim=16, pool_size=8000),
        rhos=(0.5, 1.0),
        seeds=(0,),
        sizes=Exp2Sizes(train=600, val=200, test=400),
        model=ModelConfig(hidden=32, latent=16),
        train=TrainConfig(lr=1e-3, epochs=3),
        device="cpu",
    )
    return replace(spec, **changes)


def test_exp2_results_have_consistency_splits_and_discriminator_rows():
    results = run_sweep(small_exp2()).results
    assert list(results.columns) == RESULT_COLUMNS
    splits = set(results["split"])
    assert {"train_consistent", "train_inconsistent", "val", "consistent", "inconsistent"} <= splits
    assert set(results[results.split.str.startswith("discriminator")]["model"]) == {"adversarial"}
    at_one = results[results.rho == 1.0]
    assert "train_inconsistent" not in set(at_one["split"])  # rho = 1 has no inconsistent pair
    train = results[results.split.isin(["train_consistent", "train_inconsistent"]) & (results.rho == 0.5)]
    assert train.groupby("model")["n"].sum().eq(600).all()
    test = results[results.split.isin(["consistent", "inconsistent"])]
    assert test["n"].eq(400).all() and test["spurious_accuracy"].notna().all()
    pd.testing.assert_frame_equal(results, run_sweep(small_exp2()).results)


def test_confounding_hurts_base_on_inconsistent_pairs():
    """The paper's Experiment-2 effect at a few-second size: Base fails on t != c as rho -> 1."""
    spec = small_exp2(
        rhos=(0.5, 1.0),
        seeds=(0, 1),
        models=("base",),
        world=UserObjectivesWorld(),
        sizes=Exp2Sizes(train=2000, val=400, test=1000),
        model=Exp2Spec().model,
        train=TrainConfig(lr=1e-3, epochs=8),
    )
    results = run_sweep(spec).results
    inconsistent = results[results.split == "inconsistent"].groupby("rho")["accuracy"].mean()
    assert inconsistent[1.0] < inconsistent[0.5] - 0.07
    assert abs(inconsistent[1.0] - 0.5) < 0.06


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"rhos": (0.4,)}, r"must be a number in \[0.5, 1\], got 0.4"),
        ({"rhos": (1.1,)}, r"must be a number in \[0.5, 1\]"),
        ({"models": ("base", "ensemble")}, r"unknown model\(s\) \['ensemble'\] for exp2"),
    ],
)
def test_bad_exp2_specs(changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        small_exp2(**changes)


def test_exp2_paper_size():
    spec = Exp2Spec.paper_size()
    assert (spec.sizes.train, spec.sizes.val, 2 * spec.sizes.test) == (30_000, 6_000, 46_518)
    assert (spec.model.hidden, spec.model.latent) == (512, 512)
    assert spec.params_of("multihead").head_hidden == 512
    assert (spec.params_of("adversarial").head_hidden, spec.params_of("adversarial").adversary_lambda) == (512, 1.0)
    assert len(spec.seeds) == 5 and spec.rhos == (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def test_sweep_details_for_the_dashboard(tiny_spec):
    sweep = run_sweep(tiny_spec)
    history, boundary, implied = (sweep.details[k] for k in ("history", "boundary", "implied"))
    assert len(history) == 2 * tiny_spec.train.epochs and history["val_accuracy"].between(0, 1).all()
    assert set(boundary.groupby(["rho", "seed", "model"]).size()) == {21 * 21}
    assert boundary["p_prefer_a"].between(0, 1).all()
    assert list(implied["rho"]) == [0.0, 0.9] and implied["a_hat"].notna().all()
    latent = run_sweep(small_exp2()).details["latent"]
    assert set(latent["model"]) == {"base", "multihead", "adversarial"}


def test_weighted_models_train_on_weighted_pairs_and_report_their_ess(tiny_spec):
    sweep = run_sweep(replace(tiny_spec, weighting="balanced"))
    assert set(sweep.results["model"]) == {"base+balanced"}
    assert set(sweep.results["architecture"]) == {"base"} and set(sweep.results["weighting"]) == {"balanced"}
    weights = sweep.details["weights"].set_index("rho")["ess_share"]
    assert 0.9 < weights[0.0] <= 1.0 and weights[0.9] < weights[0.0]  # balancing costs more at high rho
    exp2 = run_sweep(small_exp2(models=("base",), weighting="ipw")).details["weights"].set_index("rho")["ess_share"]
    assert exp2[0.5] > 0.8 and exp2.between(0, 1).all()


def test_any_architecture_combines_with_a_weighting():
    results = run_sweep(small_exp2(models=("multihead",), weighting="ipw")).results
    assert set(results["model"]) == {"multihead+ipw"}
    with pytest.raises(CausalPrefError, match="does not apply to exp1"):
        Exp1Spec(weighting="ipw")
    with pytest.raises(CausalPrefError, match="unknown weighting"):
        Exp2Spec(weighting="magic")


def test_all_zero_weight_pairs_do_not_move_the_model():
    import torch

    from causalpref.models import build_model
    from causalpref.train.loop import train_reward_model

    pool = CorrelatedFactorsWorld(dim=8, pool_size=600).pool()
    train, val = pool.pairs(np.arange(400), "train"), pool.pairs(np.arange(400, 600), "val")
    silent = replace(train, weight=np.zeros(len(train), np.float32))
    model = build_model("base", 8, ModelConfig(hidden=8, latent=4), 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_reward_model(model, silent, val, TrainConfig(epochs=1, lr=1e-2), 0, torch.device("cpu"))
    assert all(torch.equal(before[k], v) for k, v in result.model.state_dict().items())


def test_negative_or_nan_weights_are_refused():
    pool = CorrelatedFactorsWorld(dim=8, pool_size=50).pool()
    pairs = pool.pairs(np.arange(10))
    with pytest.raises(CausalPrefError, match="weight at row"):
        replace(pairs, weight=-np.ones(10, np.float32))
    with pytest.raises(CausalPrefError, match="weight contains NaN"):
        replace(pairs, weight=np.full(10, np.nan, np.float32))


# --------------------------------------------------------------------------- sanity-check variants


def test_default_check_is_the_plain_run(tiny_spec):
    """check='none' (the default) is the experiment as it always was: the cell is not touched."""
    from causalpref.run.cells import Cell, apply_check

    assert tiny_spec.check == "none"
    pd.testing.assert_frame_equal(run_sweep(tiny_spec).results, run_sweep(replace(tiny_spec, check="none")).results)
    pool = CorrelatedFactorsWorld(dim=8, pool_size=50).pool()
    cell = Cell(train=pool.pairs(np.arange(20)), val=pool.pairs(np.arange(20, 30)), evaluate={})
    assert apply_check(cell, "none", 0) is cell


def test_check_variants_train_and_keep_the_tables(tiny_spec):
    plain = run_sweep(tiny_spec)
    for check in ("placebo", "random_feature", "half_data"):
        sweep = run_sweep(replace(tiny_spec, check=check))
        assert sweep.results[["model", "rho", "seed", "split"]].equals(plain.results[["model", "rho", "seed", "split"]])
        assert set(sweep.details) == set(plain.details)  # the boundary probe follows the extra column
        assert not sweep.results["accuracy"].equals(plain.results["accuracy"])
        n_train = sweep.results.set_index("split").loc["train", "n"]
        assert (n_train == (200 if check == "half_data" else 400)).all()
    pd.testing.assert_frame_equal(sweep.results, run_sweep(replace(tiny_spec, check="half_data")).results)  # seeded
    exp2 = run_sweep(small_exp2(rhos=(0.8,), check="random_feature"))
    assert {"base", "multihead", "adversarial"} == set(exp2.results["model"])


# --------------------------------------------------------------------------- spurious-reliance read-out


def test_factor_table_has_one_row_per_model_rho_seed_factor(tiny_spec):
    from causalpref.run.sweep import FACTOR_COLUMNS

    spec = tiny_spec
    factors = run_sweep(spec).details["factors"]
    names = spec.world.all_factor_names
    assert list(factors.columns) == FACTOR_COLUMNS
    assert len(factors) == len(spec.rhos) * len(spec.seeds) * len(names)
    assert not factors.duplicated(["model", "rho", "seed", "factor"]).any()
    assert list(factors["factor"][: len(names)]) == list(names)
    assert factors["correlation"].between(-1, 1).all()
    exp2 = run_sweep(small_exp2()).details["factors"]
    assert set(exp2["factor"]) >= {"helpfulness", "harmlessness"}
    assert len(exp2) == 3 * 2 * len(small_exp2().world.factor_names)


def test_factor_correlations_show_causal_reliance_and_its_loss_under_correlation():
    """On OOD pairs the factors disagree, so even the true reward correlates negatively with
    the light factor (truthfulness, a = 0.25). A model trained at rho = 0 follows the truth;
    at rho = 0.9 it cannot tell the factors apart and its truthfulness correlation drifts."""
    spec = Exp1Spec(
        world=CorrelatedFactorsWorld(pool_size=10000),
        rhos=(0.0, 0.9),
        seeds=(0,),
        sizes=SplitSizes(train=1500, val=400, id=300, ood=1000),
        model=ModelConfig(hidden=64, latent=16),
        train=TrainConfig(lr=1e-3, epochs=6),
        device="cpu",
    )
    factors = run_sweep(spec).details["factors"].set_index(["rho", "factor"])
    nuisance = list(spec.world.nuisance_names)
    at0 = factors.loc[0.0]
    assert (at0.loc[nuisance, "true_correlation"].abs() < 0.1).all()
    assert at0.loc["instruction_following", "correlation"] > 0.5
    assert at0.loc["instruction_following", "correlation"] > at0.loc[nuisance, "correlation"].abs().max() + 0.2
    assert at0.loc["truthfulness", "true_correlation"] < -0.5 and at0.loc["truthfulness", "correlation"] < -0.3
    drift = (factors["correlation"] - factors["true_correlation"]).abs().xs("truthfulness", level="factor")
    assert drift[0.9] > drift[0.0] + 0.2


def test_an_empty_factor_table_survives_the_cache(tmp_path):
    """Worlds without named factors (real objective data) give an empty table with its columns."""
    from causalpref.run.cache import ResultCache
    from causalpref.run.sweep import FACTOR_COLUMNS

    cache = ResultCache(tmp_path)
    key = "0" * 64
    cache.store(key, pd.DataFrame(columns=FACTOR_COLUMNS), {"kind": "exp2/factors"})
    loaded = cache.load(key)
    assert list(loaded.columns) == FACTOR_COLUMNS and loaded.empty


def test_a_cached_sweep_missing_its_factor_table_is_recomputed(tiny_spec, tmp_path):
    """An entry stored before the factor table existed is a miss, not a crash."""
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import _keys, run_cached

    cache = ResultCache(tmp_path / "c")
    first, _ = run_cached("exp1", tiny_spec, cache)
    cache.path_for(_keys("exp1", tiny_spec)["factors"]).unlink()
    again, hit = run_cached("exp1", tiny_spec, cache)
    assert not hit
    pd.testing.assert_frame_equal(first.details["factors"], again.details["factors"])
