"""The User-objectives view (Experiment 2) without streamlit, on a small real sweep."""

import numpy as np
import pytest

from causalpref import paper
from causalpref.data.worlds import UserObjectivesWorld
from causalpref.errors import CausalPrefError
from causalpref.models import ModelConfig
from causalpref.run.specs import Exp2Sizes, Exp2Spec
from causalpref.run.sweep import run_sweep
from causalpref.train.loop import TrainConfig
from causalpref.ui.views import objectives as ov

ALL = ("base", "multihead", "adversarial")


@pytest.fixture(scope="module")
def sweep():
    spec = Exp2Spec(
        world=UserObjectivesWorld(dim=16, pool_size=8000),
        rhos=(0.5, 1.0),
        seeds=(0, 1),
        sizes=Exp2Sizes(train=600, val=200, test=400),
        model=ModelConfig(hidden=32, latent=8),
        train=TrainConfig(lr=1e-3, epochs=2, batch_size=64),
        device="cpu",
    )
    return run_sweep(spec)


def mean_pct(results, model, rho, split, column="accuracy"):
    rows = results[(results.model == model) & np.isclose(results.rho, rho) & (results.split == split)]
    return 100 * rows[column].mean()


@pytest.mark.parametrize("rho", [0.5, 1.0])
def test_metric_values_are_the_sweeps_means_over_seeds(sweep, rho):
    view = ov.objectives_view(sweep, rho, ALL)
    assert view.models == ALL and view.seeds == (0, 1) and view.rho == rho
    for model in ALL:
        numbers = view.model(model)
        for split in ("inconsistent", "consistent", "train_consistent"):
            number = getattr(numbers, split)
            assert number.ours == pytest.approx(mean_pct(sweep.results, model, rho, split))
            assert number.seeds == 2
    base = view.baselines
    assert base.chance == 50
    assert base.prompt_type_inconsistent == pytest.approx(
        mean_pct(sweep.results, "base", rho, "inconsistent", "spurious_accuracy")
    )
    assert base.prompt_type_consistent == pytest.approx(100)


def test_no_inconsistent_training_pairs_at_rho_one(sweep):
    view = ov.objectives_view(sweep, 1.0, ALL)
    assert view.model("base").train_inconsistent.ours is None
    assert view.overfitting_table["train inc. % (ours)"].isna().all()
    assert "no inconsistent training pair" in view.overfitting_reading


def test_paper_values_come_from_tables_2_and_3(sweep):
    for rho in (0.5, 1.0):
        view = ov.objectives_view(sweep, rho, ALL)
        for model in ALL:
            numbers = view.model(model)
            assert (numbers.inconsistent.paper, numbers.consistent.paper) == paper.TABLE2[rho][model]
            assert (numbers.train_inconsistent.paper, numbers.train_consistent.paper) == paper.TABLE3[rho][model]
            table = view.overfitting_table.set_index("model").loc[ov.label(model)]
            assert table["test inc. % (paper, Table 2)"] == paper.TABLE2[rho][model][0]
    number = ov.objectives_view(sweep, 0.5, ["base"]).model("base").inconsistent
    assert number.paper_text() == f"paper (reference): {paper.TABLE2[0.5]['base'][0]:.1f} %"  # never a delta


def test_no_paper_reference_for_what_the_paper_did_not_run(sweep):
    real = type(sweep)(results=sweep.results.assign(world="real"), details=sweep.details)
    view = ov.objectives_view(real, 0.5, ALL)
    assert all(v.inconsistent.paper is None and v.inconsistent.paper_text() is None for v in view.per_model)
    assert not any(t.name.startswith("paper") for t in view.accuracy_figure.data)


def test_readings_name_the_baselines(sweep):
    view = ov.objectives_view(sweep, 1.0, ALL)
    base = view.model("base")
    assert base.reading.startswith("At ρ = 1, Base ranks")
    assert "a model that reads the prompt type" in base.reading and "chance 50 %" in base.reading
    assert f"the paper: {paper.TABLE2[1.0]['base'][0]:.1f} %" in base.reading
    assert "chance 50 %" in view.baselines.text("inconsistent")
    assert "reads the prompt type" in view.baselines.text("consistent")
    for text in (view.reading, view.accuracy_reading, view.overfitting_reading, view.latent_reading):
        assert isinstance(text, str) and text and "\n" not in text
    assert "(the paper:" in view.reading


def test_discriminator_only_with_the_adversarial_model(sweep):
    assert ov.objectives_view(sweep, 0.5, ["base", "multihead"]).discriminator is None
    view = ov.objectives_view(sweep, 1.0, ["adversarial"])
    d = view.discriminator
    assert d.val == pytest.approx(mean_pct(sweep.results, "adversarial", 1.0, "discriminator_val"))
    assert d.train == pytest.approx(mean_pct(sweep.results, "adversarial", 1.0, "discriminator_train"))
    assert ov.DISCRIMINATOR_MEANING in d.reading
    assert "near 50 %" in d.reading and "near ρ" in d.reading
    assert "coincide" in ov.objectives_view(sweep, 0.5, ["adversarial"]).discriminator.reading


def test_the_game_trace_and_whether_the_adversary_won(sweep):
    assert ov.objectives_view(sweep, 1.0, ["base", "multihead"]).game is None
    game = ov.objectives_view(sweep, 1.0, ["multihead", "adversarial"]).game
    disc = mean_pct(sweep.results, "adversarial", 1.0, "discriminator_val")
    probe = mean_pct(sweep.results, "adversarial", 1.0, "probe_val")
    assert f"{disc:.1f} %" in game.reading and f"{probe:.1f} %" in game.reading
    verdict = "adversary won" if abs(disc - 50) <= ov.WON_WITHIN else ("overshot" if disc < 50 else "adversary lost")
    assert verdict in game.reading and "ρ = 1, λ = 1:" in game.reading  # the λ it trained with
    clean = "c is gone from z_hat" if probe <= ov.PROBE_CLEAN else "not that c is gone"
    assert clean in game.reading  # the discriminator's verdict is not taken for c's removal
    names = {trace.name for trace in game.figure.data}
    assert {"discriminator accuracy [%]", "gradient from BTL", "gradient from the adversary"} <= names
    steps = len(sweep.details["game"].query("seed == 0 and rho == 1.0"))
    assert len(game.figure.data[0].x) == steps  # one point per training step


def test_the_lambda_curve_over_the_lambdas_trained(sweep):
    from dataclasses import replace

    from causalpref.run.adversary import best_lambda, lambda_curve_rows

    zero = replace(sweep, results=sweep.results.assign(accuracy=sweep.results["accuracy"] * 0.5))
    assert ov.lambda_curve_view({1.0: sweep}, 1.0, "adversarial") is None  # one point is no curve
    curve = ov.lambda_curve_view({1.0: sweep, 0.0: zero}, 1.0, "adversarial")
    assert list(curve.table["lambda"]) == [0.0, 1.0]
    rows = lambda_curve_rows({0.0: zero.results, 1.0: sweep.results})
    best, gain, cost = best_lambda(rows[rows["rho"] == 1.0], 1.0)
    assert best == 1.0 and f"best λ on inconsistent pairs is 1, {gain:+.1f} points over λ = 0" in curve.reading
    assert f"{cost:+.1f} points on consistent pairs" in curve.reading and "fresh probe" in curve.reading
    names = {trace.name for trace in curve.figure.data}
    assert {"inconsistent pairs", "consistent pairs", "discriminator reads c", "fresh probe reads c"} <= names
    model, specs = ov.lambda_curve_specs([ov.objectives_spec(1.0, "adversarial")], ["adversarial"])
    assert model == "adversarial" and sorted(specs) == sorted(ov.LAMBDA_OPTIONS)
    assert specs[0.0].params_of("adversarial").adversary_lambda == 0.0
    assert ov.lambda_curve_specs([ov.objectives_spec(1.0, "base")], ["base"]) == (None, {})


def test_latent_figure_has_one_trace_group_per_model(sweep):
    for models in (ALL, ("multihead",), ("base", "adversarial")):
        view = ov.objectives_view(sweep, 1.0, models)
        groups = {trace.legendgroup for trace in view.latent_figure.data}
        assert groups == set(models)
        assert len(view.latent_figure.data) == 4 * len(models)  # 2 panels x 2 classes
        assert list(view.latent_table["model"]) == [ov.label(m) for m in models]
        assert view.latent_seed == 0


def test_figures_and_download_follow_the_chosen_models(sweep):
    view = ov.objectives_view(sweep, 0.5, ["adversarial", "base"], lam=0.3)
    assert view.models == ("base", "adversarial")  # canonical order
    assert set(view.results["model"]) == {"base", "adversarial"}
    assert set(view.results["rho"]) == {0.5, 1.0}  # every ρ, not just the chosen one
    assert (view.results["adversary_lambda"] == 0.3).all()
    names = " ".join(t.name for t in view.accuracy_figure.data)
    assert "Base" in names and "Adversarial" in names and "Multihead" not in names
    assert any(s.type == "line" and s.x0 == 0.5 for s in view.accuracy_figure.layout.shapes)


def test_bad_choices_are_plain_errors(sweep):
    with pytest.raises(CausalPrefError, match="was not trained"):
        ov.objectives_view(sweep, 0.7, ALL)
    with pytest.raises(CausalPrefError, match="at least one"):
        ov.objectives_view(sweep, 0.5, [])
    with pytest.raises(CausalPrefError, match="unknown architecture"):
        ov.objectives_view(sweep, 0.5, ["resnet"])
    with pytest.raises(CausalPrefError, match="ρ must be a number"):
        ov.objectives_view(sweep, "abc", ALL)
    with pytest.raises(CausalPrefError, match="Sweep"):
        ov.objectives_view(sweep.results, 0.5, ALL)


def test_the_pages_spec_has_every_rho_three_seeds_and_lambda_only_for_the_adversary():
    spec = ov.objectives_spec(0.3, "adversarial")
    default = Exp2Spec()
    assert spec.rhos == ov.RHO_OPTIONS == default.rhos  # ρ is not in the spec: no retraining
    assert spec.seeds == (0, 1, 2) and spec.sizes == default.sizes and spec.train == default.train
    assert spec.models == ("adversarial",) and spec.weighting == "none"
    assert spec.params_of("adversarial").adversary_lambda == 0.3
    assert ov.objectives_spec(0.3, "adversarial") != ov.objectives_spec(1.0, "adversarial")
    # without the adversary λ is not part of the spec, so it does not split the cache
    assert ov.objectives_spec(0.3, "base") == ov.objectives_spec(3.0, "base")
    assert "adversary_lambda" not in repr(ov.objectives_spec(0.3, "base"))
    weighted = ov.objectives_spec(1.0, "multihead+ipw")
    assert (weighted.models, weighted.weighting) == (("multihead",), "ipw")
    assert "λ = 0.3" in ov.spec_description([spec])
    with pytest.raises(CausalPrefError):
        ov.objectives_spec(-1.0, "adversarial")
    with pytest.raises(CausalPrefError, match="unknown architecture"):
        ov.objectives_spec(1.0, "transformer")


def test_centroid_separability():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    apart = rng.normal(size=(400, 2)) + np.where(labels[:, None] == 1, 10.0, 0.0)
    assert ov.centroid_separability(apart[:, 0], apart[:, 1], labels) == 100
    same = rng.normal(size=(400, 2))
    assert 35 < ov.centroid_separability(same[:, 0], same[:, 1], labels) < 65
    assert np.isnan(ov.centroid_separability(same[:, 0], same[:, 1], np.zeros(400)))


def test_each_test_cell_is_scored_apart_and_the_pooled_number_is_their_mean(sweep):
    """Inconsistent = (t=0, c=1) and (t=1, c=0); a pooled number can hide two opposite failures."""
    results = sweep.results
    for _, rows in results.groupby(["model", "rho", "seed"]):
        by_split = rows.set_index("split")
        for pooled in ("consistent", "inconsistent"):
            cells = by_split[by_split.index.str.startswith(f"{pooled} t=")]
            assert len(cells) == 2 and cells["n"].sum() == by_split.loc[pooled, "n"]
            weighted = (cells["accuracy"] * cells["n"]).sum() / cells["n"].sum()
            assert weighted == pytest.approx(by_split.loc[pooled, "accuracy"])
    view = ov.objectives_view(sweep, 1.0, ["base", "multihead"])
    assert list(view.cell_table["model"]) == ["Base", "Multihead"]
    assert {"inconsistent t=0 c=1", "inconsistent t=1 c=0"} <= set(view.cell_table.columns)
