"""User objectives page (Experiment 2), headless with AppTest, on one cache shared by this file.

The first test trains the page's default sweeps (one per model, 3 models x 6 ρ x 3 seeds,
a few seconds on an idle 2-core CPU); the others read them from the shared disk cache, or train one model.
"""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from causalpref import paper
from causalpref.run import cached as runs
from causalpref.run.cache import ENV_VAR

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "3_User_objectives.py")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One result cache for every test of this file (restored afterwards)."""
    root = tmp_path_factory.mktemp("objectives-cache")
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(root)
    yield root
    if before is None:
        os.environ.pop(ENV_VAR, None)
    else:
        os.environ[ENV_VAR] = before


@pytest.fixture(autouse=True)
def private_cache(shared_cache):
    """Overrides conftest's per-test cache: this file's tests share `shared_cache`."""
    return shared_cache


@pytest.fixture
def trainings(monkeypatch):
    """Counts the Experiment-2 sweeps actually trained (not loaded from the cache)."""
    calls = []
    real = runs.run_sweep

    def counting(spec, progress=None, **kwargs):  # kwargs: e.g. the resumable chunks
        if spec.kind == "exp2":
            calls.append(spec)
        return real(spec, progress=progress, **kwargs)

    monkeypatch.setattr(runs, "run_sweep", counting)
    return calls


def app() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=600)  # the first run trains three sweeps: slow on a busy CPU


def metrics(at, label_start):
    return [float(m.value.rstrip(" %")) for m in at.metric if m.label.startswith(label_start)]


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_renders_with_numbers_baselines_paper_and_download(trainings):
    at = app().run()
    assert_clean(at)
    assert [s.models for s in trainings] == [("base",), ("multihead",), ("adversarial",)]
    assert at.select_slider(key="rho").value == 0.9 and at.select_slider(key="lam").value == 1.0
    assert at.multiselect(key="arch").value == ["base", "multihead", "adversarial"]
    inconsistent, consistent = metrics(at, "Inconsistent"), metrics(at, "Consistent")
    assert len(inconsistent) == len(consistent) == 3
    assert all(0 <= v <= 100 for v in inconsistent + consistent)
    base_card = next(m for m in at.metric if m.label.startswith("Inconsistent"))
    assert base_card.delta.endswith("vs ρ = 0.5") and float(base_card.delta.split()[0]) < -5  # the fall, on the card
    captions = " ".join(c.value for c in at.caption)
    for model in ("base", "multihead", "adversarial"):
        assert f"paper (reference): {paper.TABLE2[0.9][model][0]:.1f} %" in captions
    assert "chance 50 %" in captions and "reads the prompt type" in captions
    assert "Base ranks" in captions and "near 50 % means the encoder beat this discriminator" in captions
    assert len(metrics(at, "Discriminator")) == 1
    assert [c.key for c in at.get("plotly_chart")].count("game") == 1  # the adversarial game's trace
    assert len(at.get("plotly_chart")) == 6
    assert "Base departs most on" in captions  # spurious-reliance bars
    assert any(b.label.startswith("Run the sanity checks") for b in at.button)
    assert at.warning[0].value.startswith("Poor overlap")  # ρ = 0.9: the prompt gives c away
    assert len(at.get("download_button")) == 1


def test_rho_slider_reruns_from_the_cache_and_moves_the_numbers(trainings):
    at = app().run()  # the sweep of the first test, from the shared disk cache
    assert_clean(at)
    trainings.clear()  # (trained here only when this test runs alone)
    at.select_slider(key="rho").set_value(0.5).run()
    assert_clean(at)
    assert not any(m.delta for m in at.metric if m.label.startswith(("Inconsistent", "Consistent")))
    base_low = metrics(at, "Inconsistent")[0]
    at.select_slider(key="rho").set_value(1.0).run()
    assert_clean(at)
    base_high = metrics(at, "Inconsistent")[0]
    assert trainings == []  # no sweep was trained by any of these runs
    assert not at.get("progress")
    assert base_high < base_low
    assert abs(base_high - 50) < 10


def test_architectures_and_lambda_rerun(trainings):
    at = app().run()  # the default sweeps in the cache (trained only when run alone)
    trainings.clear()
    at.multiselect(key="arch").set_value(["base"]).run()
    assert_clean(at)
    assert trainings == []  # one sweep per architecture: Base is cached
    assert len(metrics(at, "Inconsistent")) == 1 and not metrics(at, "Discriminator")
    assert at.select_slider(key="lam").disabled
    adversary = app()
    adversary.query_params["arch"] = ["Adversarial"]  # the URL names the chosen architectures (labels too)
    adversary.run()
    assert_clean(adversary)
    assert adversary.multiselect(key="arch").value == ["adversarial"]
    assert adversary.query_params["arch"] == "adversarial"  # rewritten as the short key
    assert not adversary.select_slider(key="lam").disabled
    adversary.select_slider(key="lam").set_value(0.0).run()
    assert_clean(adversary)
    assert [(s.models, s.params_of("adversarial").adversary_lambda) for s in trainings] == [(("adversarial",), 0.0)]
    assert adversary.query_params["lam"] == "0"
    assert len(metrics(adversary, "Discriminator")) == 1 and len(metrics(adversary, "Inconsistent")) == 1
    assert [c.key for c in adversary.get("plotly_chart")].count("game") == 1  # the trace at this λ
    game = [c.value for c in adversary.caption if "fresh probe fitted on z_hat" in c.value]  # the game's reading
    assert len(game) == 1 and "λ = 0" in game[0] and "did not play" in game[0]
    # λ = 1 and λ = 0 are trained now: the λ curve over them, read from the cache
    assert [c.key for c in adversary.get("plotly_chart")].count("lambda-curve") == 1
    assert any("λ values trained so far (0, 1)" in c.value for c in adversary.caption)
    at.multiselect(key="arch").set_value([]).run()
    assert_clean(at)
    assert any("at least one architecture" in i.value for i in at.info)


def test_url_sets_the_controls_and_bad_values_are_ignored(trainings):
    app().run()  # the default sweep in the cache (trained only when run alone)
    trainings.clear()
    at = app()
    at.query_params["rho"] = "0.5"
    at.run()
    assert_clean(at)
    assert at.select_slider(key="rho").value == 0.5
    assert trainings == []
    bad = app()
    bad.query_params["rho"] = "abc"
    bad.query_params["lam"] = "-7"
    bad.run()
    assert_clean(bad)
    assert bad.select_slider(key="rho").value == 0.9 and bad.select_slider(key="lam").value == 1.0
    assert "rho" not in bad.query_params and "lam" not in bad.query_params


def test_reweighted_remedy_trains_alone_and_reads_against_base(trainings):
    at = app().run()
    trainings.clear()
    at.multiselect(key="arch").set_value(["base", "base+ipw"]).run()
    assert_clean(at)
    assert at.query_params["arch"] == ["base", "base+ipw"]  # arch=base&arch=base%2Bipw
    assert [(s.models, s.weighting) for s in trainings] == [(("base",), "ipw")]
    assert len(metrics(at, "Inconsistent")) == 2
    captions = " ".join(c.value for c in at.caption)
    assert "1/P(c | prompt)" in captions and "Against Base: inconsistent" in captions
    ipw_high = metrics(at, "IPW effective sample size")[0]
    at.select_slider(key="rho").set_value(0.5).run()
    assert_clean(at)
    assert not at.warning  # prompts at random: overlap is fine
    assert metrics(at, "IPW effective sample size")[0] > ipw_high + 30
    assert metrics(at, "c-AUC from the text")[0] < 0.6


# ---------------------------------------------------------------- the Data page's file as the world


def test_a_mapped_pair_file_reaches_the_world_with_sizes_it_can_supply(tmp_path, monkeypatch):
    from apptest_helpers import FLAT_MAPPING, FLAT_OBJECTIVES, flat_pairs, shown

    import appkit
    from causalpref.data.columns import ColumnMap
    from causalpref.ui.views import data as dv

    specs = []
    monkeypatch.setattr(appkit, "sweeps", lambda jobs, *a, **k: specs.extend(s for _, s, _ in jobs))
    flat = flat_pairs(tmp_path / "flat.csv", prompts=40, per=2)
    at = app()
    at.session_state["real_world"] = dv.choice_params("pairs", flat, columns=FLAT_OBJECTIVES, objectives=True)
    at.query_params["world"] = "data"
    at.run()
    assert_clean(at)
    assert at.selectbox(key="world").value == "data" and len(specs) == 3  # one sweep per architecture
    assert all(s.world.columns == ColumnMap.parse(list(FLAT_OBJECTIVES)) for s in specs)
    assert all(s.sizes == specs[0].sizes and s.sizes.train < 2000 for s in specs)
    captions = shown(" ".join(c.value for c in at.caption))
    assert "On flat.csv: true preference = the file's label" in captions and "each ρ trains on" in captions
    # a file without a prompt type fails before anything is embedded or trained, naming what to map
    specs.clear()
    lacking = app()
    lacking.session_state["real_world"] = dv.choice_params(
        "pairs", flat, columns=FLAT_MAPPING + ("objective=goal:h=helpful,s=harmless",)
    )
    lacking.query_params["world"] = "data"
    lacking.run()
    assert not lacking.exception and not specs
    (error,) = lacking.error
    message = shown(error.value)
    assert "no prompt_type" in message and "column mapping" in message and "--" not in message
