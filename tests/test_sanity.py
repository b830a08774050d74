"""Sanity checks: the cell transforms, the verdict rules and the report end to end."""

import numpy as np
import pandas as pd
import pytest

from causalpref import CausalPrefError
from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.models import ModelConfig
from causalpref.run.cache import ResultCache
from causalpref.run.cells import Cell, apply_check
from causalpref.run.sanity import COLUMNS, _judge, format_sanity, run_sanity_checks
from causalpref.run.specs import CHECKS, Exp1Spec, Exp2Spec, SplitSizes
from causalpref.train.loop import TrainConfig


@pytest.fixture(scope="module")
def cell():
    """An Experiment-1-shaped cell: its train and val sets are also evaluated, as run_sweep does."""
    pool = CorrelatedFactorsWorld(dim=8, pool_size=700).pool()
    train, val, ood = (
        pool.pairs(np.arange(a, b), name) for name, a, b in (("train", 0, 400), ("val", 400, 500), ("ood", 500, 700))
    )
    return Cell(train=train, val=val, evaluate={"train": (train, 0.0), "val": (val, 0.0), "ood": (ood, -0.5)})


def test_none_is_the_cell_itself(cell):
    assert apply_check(cell, "none", 7) is cell


def test_placebo_shuffles_all_supervision_but_never_the_evaluation(cell):
    placebo = apply_check(cell, "placebo", 7)
    for new, old in ((placebo.train, cell.train), (placebo.val, cell.val)):
        assert sorted(new.label) == sorted(old.label) and not np.array_equal(new.label, old.label)
        np.testing.assert_array_equal(new.emb_a, old.emb_a)
    assert all(placebo.evaluate[k][0] is cell.evaluate[k][0] for k in cell.evaluate)  # real labels


def test_random_feature_adds_one_column_everywhere_consistently(cell):
    changed = apply_check(cell, "random_feature", 7)
    pairs = [changed.train, changed.val] + [p for p, _ in changed.evaluate.values()]
    assert {p.dim for p in pairs} == {cell.train.dim + 1}
    np.testing.assert_array_equal(changed.train.emb_b[:, :-1], cell.train.emb_b)
    assert changed.evaluate["train"][0] is changed.train  # evaluated as it was trained on
    extra = changed.train.emb_a[:, -1]
    assert abs(extra.mean()) < 0.2 and 0.8 < extra.std() < 1.2
    assert not np.allclose(extra, changed.train.emb_b[:, -1])  # a and b draw their own noise


def test_half_data_halves_training_only(cell):
    half = apply_check(cell, "half_data", 7)
    assert len(half.train) == 200 and half.val is cell.val
    assert half.evaluate["train"][0] is half.train and half.evaluate["ood"][0] is cell.evaluate["ood"][0]


def test_checks_are_seeded(cell):
    for check in CHECKS[1:]:
        first, again, other = (apply_check(cell, check, seed) for seed in (7, 7, 8))
        np.testing.assert_array_equal(first.train.emb_a, again.train.emb_a)
        np.testing.assert_array_equal(first.train.label, again.train.label)
        assert not (
            np.array_equal(first.train.label, other.train.label)
            and np.array_equal(first.train.emb_a, other.train.emb_a)
        )


@pytest.mark.parametrize("spec_class", [Exp1Spec, Exp2Spec])
def test_unknown_check_is_refused(spec_class):
    with pytest.raises(CausalPrefError, match=r"check must be one of \['none', 'placebo', .*got 'shuffle'"):
        spec_class(check="shuffle")


def _per_seed(reference, checked, check, n=2000):
    rows = [
        {"check": name, "model": "base", "split": "ood", "seed": seed, "accuracy": acc, "n": n}
        for name, values in (("none", reference), (check, checked))
        for seed, acc in enumerate(values)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "check, reference, checked, n, verdict",
    [
        # 3 seeds: tol = 3 * sigma / sqrt(3), sigma floored at 3 (placebo) or 2 (a difference)
        ("placebo", [70, 71, 72], [52, 53, 54], 2000, "as expected"),  # 3 off chance, tol 5.2
        ("placebo", [70, 71, 72], [55, 56, 57], 2000, "unexpected"),  # 6 off chance
        ("placebo", [70, 71, 72], [50, 56, 62], 2000, "as expected"),  # seed SD 6 widens tol to 10.4
        ("placebo", [70, 71, 72], [57, 57, 57], 100, "as expected"),  # 100 test pairs: sigma 5, tol 8.7
        ("random_feature", [70, 71, 72], [71, 72, 73], 2000, "as expected"),
        ("random_feature", [70, 71, 72], [66, 67, 68], 2000, "unexpected"),  # -4, tol 3.5
        ("random_feature", [60, 70, 80], [65, 75, 85], 2000, "unexpected"),  # +5 on every seed: paired
        ("half_data", [70, 71, 72], [62, 63, 64], 2000, "as expected"),  # -8 >= -(5 + 3.5)
        ("half_data", [70, 71, 72], [60, 61, 62], 2000, "unexpected"),  # -10
        ("half_data", [70, 71, 72], [74, 75, 76], 2000, "unexpected"),  # +4 with half the data
    ],
)
def test_verdict_rules(check, reference, checked, n, verdict):
    table = _judge(_per_seed(reference, checked, check, n))
    assert list(table.columns) == COLUMNS and list(table["check"]) == ["none", check]
    row = table.iloc[1]
    assert row["verdict"] == verdict
    assert row["difference"] == pytest.approx(np.mean(checked) - np.mean(reference))
    assert table.iloc[0]["verdict"] == "reference" and table.iloc[0]["difference"] == 0


def test_report_on_a_trainable_spec_reads_placebo_at_chance(tmp_path):
    """A spec that learns (reference well above chance): placebo falls to chance, the random
    feature barely moves accuracy, half the data costs some — and a rerun is all cached."""
    spec = Exp1Spec(
        world=CorrelatedFactorsWorld(pool_size=6000),
        seeds=(0,),
        sizes=SplitSizes(train=1000, val=300, id=500, ood=500),
        train=TrainConfig(lr=1e-3, epochs=5),
        model=ModelConfig(hidden=64, latent=16),
        device="cpu",
    )
    cache = ResultCache(tmp_path / "c")
    calls = []
    report = run_sanity_checks("exp1", spec, 0.0, cache, progress=lambda *a: calls.append(a))
    table = report.table.set_index(["check", "split"])
    assert list(report.table.columns) == COLUMNS and len(report.table) == 4 * 2
    assert (table.loc["none", "accuracy"] > 70).all()
    assert (table.loc["placebo", "verdict"] == "as expected").all() and (table.loc["placebo", "accuracy"] < 56).all()
    assert (table.loc["random_feature", "difference"].abs() < 4).all()
    assert (table.loc["half_data", "verdict"] == "as expected").all() and table.loc[
        ("half_data", "id"), "difference"
    ] < 0
    assert calls[-1][:2] == (4, 4) and calls[-1][2].startswith("half_data: ")
    text = format_sanity(report)
    assert f"base id {table.loc[('placebo', 'id'), 'accuracy']:.1f} %" in report.readings["placebo"]
    assert "500 of 1000 training pairs" in text and "as expected" in text and not any(report.cached.values())
    again = run_sanity_checks("exp1", spec, 0.0, cache)
    assert all(again.cached.values())
    pd.testing.assert_frame_equal(report.table, again.table)


def test_bad_kind_spec_or_rho(tiny_spec):
    with pytest.raises(CausalPrefError, match="unknown experiment 'exp3'"):
        run_sanity_checks("exp3", tiny_spec, 0.0)
    with pytest.raises(CausalPrefError, match="exp2 needs a Exp2Spec"):
        run_sanity_checks("exp2", tiny_spec, 0.9)
    with pytest.raises(CausalPrefError, match=r"rho must be a number in \[-1, 1\], got 1.5"):
        run_sanity_checks("exp1", tiny_spec, 1.5)


def test_the_reference_is_read_from_the_specs_own_sweep_when_it_is_cached(tmp_path, tiny_spec, monkeypatch):
    """The sanity checks' reference models are the sweep's own: never trained twice."""
    import causalpref.run.cached as cached

    cache = ResultCache(tmp_path / "c")
    full, _ = cached.run_cached("exp1", tiny_spec, cache)
    trained = []
    real = cached.run_sweep
    monkeypatch.setattr(
        cached,
        "run_sweep",
        lambda spec, progress=None, **kwargs: trained.append(spec.check) or real(spec, progress, **kwargs),
    )
    report = run_sanity_checks("exp1", tiny_spec, 0.9, cache)
    assert trained == ["placebo", "random_feature", "half_data"] and report.cached["none"]
    reference = report.table[report.table.check == "none"].set_index("split")["accuracy"]
    rows = full.results[(full.results.rho == 0.9) & full.results.split.isin(["id", "ood"])]
    assert reference.to_dict() == pytest.approx((100 * rows.set_index("split")["accuracy"]).to_dict(), abs=0.05)
