"""The seam of the design: a new architecture is one class and one registry entry, and it
appears in the CLI tables, the CSV, the result cache, the plots and the User objectives page
with no other edit. Everything the toy architecture needs is in this file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from causalpref.cli import main
from causalpref.models import Architecture, RewardModel, register, unregister
from causalpref.models.layers import Linear
from causalpref.ui import plots
from causalpref.ui.views import objectives as ov

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "3_User_objectives.py")
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
    "16",
    "--hidden",
    "16",
    "--latent",
    "8",
    "--epochs",
    "2",
]


@dataclass(frozen=True)
class LinearParams:
    scale: float = 1.0  # multiplies the reward: a parameter of this architecture alone


class LinearReward(RewardModel):
    """The smallest reward model: a linear function of the embedding (it ignores c)."""

    def __init__(self, d_in: int, params: LinearParams):
        super().__init__()
        self.head = Linear(d_in, 1, bias=False)
        self.scale = params.scale

    def latent(self, emb, objective=None):
        return emb

    def forward(self, emb, objective=None):
        return self.scale * self.head(emb).squeeze(-1)


@pytest.fixture
def toy():
    register(
        Architecture(
            name="toy",
            label="Toy linear",
            short="Toy",
            colour="#8c564b",
            markdown_colour="gray",
            params=LinearParams,
            build=lambda d_in, config, params, c: LinearReward(d_in, params),
            needs_objective=False,
        )
    )
    yield "toy"
    unregister("toy")


def test_a_new_architecture_trains_from_the_cli_into_the_csv_and_the_cache(toy, tmp_path, capsys):
    out = tmp_path / "toy.csv"
    assert main(["exp2", "--rho", "0.5", "0.9", "--models", "base", "toy", "--out", str(out)] + TINY2) == 0
    printed = capsys.readouterr().out
    assert "Toy inc" in printed and "Toy con" in printed  # Table 2 layout has its columns
    results = pd.read_csv(out)
    assert set(results["model"]) == {"base", "toy"} and set(results["architecture"]) == {"base", "toy"}
    toy_rows = results[(results["model"] == "toy") & (results["split"] == "inconsistent")]
    assert len(toy_rows) == 2 and toy_rows["accuracy"].between(0, 1).all()
    assert main(["exp2", "--rho", "0.5", "0.9", "--models", "base", "toy"] + TINY2) == 0
    assert "loaded from the result cache" in capsys.readouterr().out
    # it needs no objective, so Experiment 1 offers it too
    assert (
        main(
            [
                "exp1",
                "--rho",
                "0",
                "--models",
                "toy",
                "--seeds",
                "1",
                "--n-train",
                "200",
                "--n-val",
                "100",
                "--n-id",
                "100",
                "--n-ood",
                "100",
                "--dim",
                "8",
                "--epochs",
                "1",
            ]
        )
        == 0
    )
    # its own parameter is reachable from the command line and changes the spec
    assert main(["exp1", "--rho", "0", "--models", "toy", "--param", "toy.scale=x"]) == 2
    assert "scale must be of type float" in capsys.readouterr().err


def test_a_new_architecture_is_plotted_in_its_colour(toy):
    frame = pd.DataFrame(
        [
            {"model": m, "rho": r, "seed": 0, "split": s, "accuracy": 0.6}
            for m in ("base", "toy")
            for r in (0.5, 0.9)
            for s in ("consistent", "inconsistent")
        ]
    )
    lines = [t for t in plots.consistency_figure(frame).data if t.name == "Toy linear (inconsistent)"]
    assert len(lines) == 1 and lines[0].line.color == "#8c564b"


def test_a_new_architecture_appears_on_the_user_objectives_page(toy, monkeypatch):
    monkeypatch.setattr(ov, "DEFAULT_ARCHITECTURES", ("toy",))  # only the toy trains: the test stays fast
    assert "toy" in ov.architectures() and "toy+ipw" in ov.architectures()
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "toy" in at.multiselect(key="arch").options or "Toy linear" in at.multiselect(key="arch").options
    assert any("Toy linear" in m.value for m in at.markdown)
    assert any(m.label.startswith("Inconsistent") for m in at.metric)


def test_the_toy_model_stacks_like_the_built_in_ones(toy):
    from causalpref.models import build_model
    from causalpref.train.stacked import stack_models

    models = [build_model("toy", 4, None, seed) for seed in (0, 1)]
    stacked = stack_models(models)
    emb = torch.randn(2, 3, 4)
    expected = torch.stack([m(emb[i]) for i, m in enumerate(models)])
    torch.testing.assert_close(stacked(emb), expected)
