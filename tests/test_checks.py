"""Shared input checks: one clear message per kind of mistake, naming the argument."""

import numpy as np
import pytest

from causalpref.errors import CausalPrefError
from causalpref.validate import finite_matrix, finite_vector, vector


def test_good_inputs_come_back_as_float_arrays():
    assert vector([1, 2], "v").dtype == np.float64
    assert finite_vector((0.5,), "v").tolist() == [0.5]
    assert finite_matrix([[1, 2], [3, 4]], "m").shape == (2, 2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: vector([[1.0]], "margin"), "margin must be a 1-D array, got shape (1, 1)"),
        (lambda: vector(["x"], "margin"), "margin must be a 1-D array of numbers"),
        (lambda: finite_vector([], "labels"), "labels is empty"),
        (lambda: finite_vector([1.0, np.inf], "labels"), "labels contains NaN or infinity (first at index 1)"),
        (lambda: finite_matrix([1.0, 2.0], "emb", "(n, d)"), "emb must be a 2-D (n, d) array, got shape (2,)"),
        (lambda: finite_matrix(np.ones((0, 3)), "emb"), "emb is empty (shape (0, 3))"),
        (lambda: finite_matrix(np.ones((3, 0)), "emb"), "emb is empty (shape (3, 0))"),
        (lambda: finite_matrix([[1.0, 2.0], [3.0, np.nan]], "emb"), "emb contains NaN or infinity (first in row 1)"),
        (lambda: finite_matrix([["a", "b"]], "factor_diffs"), "factor_diffs must be a 2-D (n, k) array of numbers"),
    ],
)
def test_bad_inputs_name_the_argument_and_what_was_expected(call, message):
    with pytest.raises(CausalPrefError) as info:
        call()
    assert message in str(info.value)
