import numpy as np
import pytest

from causalpref import CausalPrefError
from causalpref.data.pairs import PairSet


def make(n=4, d=3, **changes):
    fields = dict(
        emb_a=np.zeros((n, d), np.float32),
        emb_b=np.ones((n, d), np.float32),
        label=np.array([1, 0, 1, 0][:n], np.float32),
        name="toy",
    )
    fields.update(changes)
    return PairSet(**fields)


def test_valid_pairs_build_and_subset():
    pairs = make(factor_diffs=np.arange(8.0).reshape(4, 2), factor_names=("f", "g"))
    sub = pairs.subset(np.array([1, 3]))
    assert len(sub) == 2 and sub.factor("g").tolist() == [3.0, 7.0]


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"emb_a": np.full((4, 3), np.nan, np.float32)}, "toy: emb_a contains NaN or infinity .first at row 0"),
        ({"emb_b": np.zeros((3, 3), np.float32)}, r"emb_b must have shape \(4, d\)"),
        ({"emb_b": np.zeros((4, 2), np.float32)}, "emb_a and emb_b differ in shape"),
        ({"label": np.array([1, 0, 2, 0], np.float32)}, "label at row 2 is 2.0, expected 0 or 1"),
        ({"factor_diffs": np.zeros((4, 3)), "factor_names": ("f", "g")}, r"factor_diffs must have shape \(4, 2\)"),
    ],
)
def test_bad_fields_are_named(changes, expected):
    with pytest.raises(CausalPrefError, match=expected):
        make(**changes)


def test_empty_pair_set_is_refused():
    with pytest.raises(CausalPrefError, match="empty pair set"):
        make(n=0, emb_a=np.zeros((0, 3), np.float32), emb_b=np.zeros((0, 3), np.float32), label=np.zeros(0, np.float32))
