"""Training progress: the estimate before the start, the bar's time left, the speed log, and the
states a page's training always ends in (done, stopped, failed with its reason)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from apptest_helpers import shown
from streamlit.testing.v1 import AppTest

from causalpref.run import progress as p
from causalpref.run.specs import Exp2Spec

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "2_Correlation_shift.py")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_tracker_counts_down_the_estimate_then_trusts_the_measured_throughput():
    clock = Clock()
    tracker = p.Tracker(total_units=100.0, speed=10.0, clock=clock)  # estimated 10 s
    assert tracker.estimate() == 10.0 and tracker.remaining() == 10.0
    clock.now += 4
    assert tracker.remaining() == 6.0  # nothing reported yet: the estimate counts down
    tracker.update(50.0)  # half done after 4 s: the run is faster than estimated
    assert tracker.remaining() == pytest.approx(4.0)
    assert tracker.text() == "50% · 4 s elapsed · about 4 s left"
    tracker.update(20.0)  # progress never goes back
    assert tracker.fraction == 0.5


def test_without_a_speed_the_tracker_says_it_is_estimating():
    tracker = p.Tracker(total_units=10.0, speed=None, clock=Clock())
    assert tracker.estimate() is None and "estimating" in tracker.text()


def test_time_texts():
    assert p.seconds_text(0.4) == "under a second"
    assert p.seconds_text(8.4) == "about 8 s"
    assert p.seconds_text(300) == "about 5 min"
    assert p.clock_text(65) == "1 min 05 s"


def test_the_speed_log_moves_halfway_in_log_space_and_survives_a_damaged_file(tmp_path):
    log = p.SpeedLog(tmp_path)
    assert log.speed("cpu", "exp2", ("base",)) is None
    log.record("cpu", "exp2", ("base",), units=100.0, seconds=1.0)
    assert log.speed("cpu", "exp2", ("base",)) == 100.0
    log.record("cpu", "exp2", ("base",), units=400.0, seconds=1.0)
    assert log.speed("cpu", "exp2", ("base",)) == pytest.approx(200.0)  # sqrt(100 * 400)
    assert log.speed("cpu", "exp2", ("multihead",)) == pytest.approx(200.0)  # the experiment's own speed
    assert log.speed("cuda", "exp2", ("base",)) is None
    (tmp_path / p.SPEED_FILE).write_text("{not json")
    assert log.speed("cpu", "exp2", ("base",)) is None
    log.record("cpu", "exp1", ("base",), units=10.0, seconds=2.0)
    assert json.loads((tmp_path / p.SPEED_FILE).read_text()) == {"cpu/exp1/base": 5.0}


def test_work_scales_with_models_epochs_pairs_and_parameters():
    spec = replace(Exp2Spec(), seeds=(0,), rhos=(0.9,), models=("base",))
    one = p.work_units(spec)
    assert p.work_units(replace(spec, seeds=(0, 1))) == 2 * one
    assert p.work_units(replace(spec, train=replace(spec.train, epochs=2 * spec.train.epochs))) == 2 * one
    wider = replace(spec, model=replace(spec.model, hidden=2 * spec.model.hidden))
    assert p.work_units(wider) > 1.5 * one
    assert p.model_count(replace(spec, models=("base", "multihead"), seeds=(0, 1, 2))) == 6


def test_calibration_measures_a_positive_speed_and_the_estimate_uses_the_log_first(tmp_path):
    spec = replace(Exp2Spec(), seeds=(0,), rhos=(0.9,), models=("multihead",))
    assert p.calibrate(spec, "cpu") > 0
    log = p.SpeedLog(tmp_path)
    log.record("cpu", "exp2", ("multihead",), units=p.work_units(spec), seconds=3.0)
    assert p.estimate_seconds("exp2", spec, log, "cpu") == pytest.approx(3.0)


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(tmp_path / "cache"))
    return AppTest.from_file(PAGE, default_timeout=600)


def test_a_failed_training_shows_its_reason_and_train_again_clears_the_notice(page, monkeypatch, tmp_path):
    import causalpref.run.cached as cached

    real = cached.run_sweep

    def broken(spec, progress=None, sequential=False, **kwargs):  # kwargs: e.g. the resumable chunks
        progress(0, 33, "drawing")
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(cached, "run_sweep", broken)
    at = page.run()
    assert [shown(e.value) for e in at.error] == [
        "Training of the Experiment-1 sweep (11 ρ × 3 seeds) failed: RuntimeError: the disk is full"
    ]
    assert not any(b.label == "Stop training" for b in at.button)  # the bar's slot is gone
    monkeypatch.setattr(cached, "run_sweep", real)
    next(b for b in at.button if b.label == "Train again").click().run()
    assert not at.error and not at.exception and not at.info  # no stale notice beside the results
    assert any(m.label == "OOD accuracy" for m in at.metric)
    assert at.toast[0].value.startswith("Trained 33 models in ")
    speeds = json.loads((tmp_path / "cache" / p.SPEED_FILE).read_text())
    assert list(speeds) == ["cpu/exp1/base"] and speeds["cpu/exp1/base"] > 0  # the next estimate's source


def test_a_stopped_training_says_so_and_trains_nothing_until_asked(page, monkeypatch):
    import appkit
    import causalpref.run.cached as cached
    from causalpref.run.cache import spec_key
    from causalpref.ui.state import CORRELATION
    from causalpref.ui.views.correlation import page_spec

    trained = []
    monkeypatch.setattr(
        cached, "run_sweep", lambda spec, progress=None, sequential=False, **kwargs: trained.append(spec)
    )
    key = spec_key("exp1", page_spec(CORRELATION["scale"].default))
    page.session_state[appkit.ENDED] = {appkit.training_group([key]): None}  # what Stop leaves
    at = page.run()
    assert [i.value for i in at.info] == ["Training of the Experiment-1 sweep (11 ρ × 3 seeds) was stopped."]
    assert any(b.label == "Train again" for b in at.button) and not trained
