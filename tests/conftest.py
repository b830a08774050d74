import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.models import ModelConfig
from causalpref.run.specs import Exp1Spec, SplitSizes
from causalpref.train.loop import TrainConfig


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty result cache: the repository's cache/ is never touched."""
    root = tmp_path / "cache"
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(root))
    return root


@pytest.fixture
def tiny_spec() -> Exp1Spec:
    """A spec small enough to train in a second or two on a CPU."""
    return Exp1Spec(
        world=CorrelatedFactorsWorld(dim=16, pool_size=6000),
        rhos=(0.0, 0.9),
        seeds=(0,),
        sizes=SplitSizes(train=400, val=100, id=300, ood=300),
        model=ModelConfig(hidden=32, latent=8),
        train=TrainConfig(lr=1e-3, epochs=3, batch_size=64),
        device="cpu",
    )
