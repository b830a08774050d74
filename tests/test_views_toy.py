"""Analytic-toy view, without streamlit: its numbers are analytic.py's closed forms and refits."""

import numpy as np
import pytest

from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import quadrant_24_mass, refit_a_hat, sample_toy_points, toy_accuracy, toy_accuracy_ood
from causalpref.ui.views.toy import PAPER_Q24, spread_view, toy_view


def metric(view, label):
    return next(m for m in view.metrics if m.label == label)


@pytest.mark.parametrize("rho, a, a_hat", [(0.9, 0.25, 0.5), (0.0, 0.25, 0.75), (-0.5, 0.6, 0.1), (0.3, 0.4, 0.4)])
def test_numbers_equal_the_closed_forms(rho, a, a_hat):
    view = toy_view(rho, a, a_hat, seed=2)
    assert view.accuracy == toy_accuracy(rho, a, a_hat)
    assert view.accuracy_ood == toy_accuracy_ood(rho, a, a_hat)
    assert view.q24 == quadrant_24_mass(rho)
    points = sample_toy_points(rho, 200, 2)
    assert view.sampled_q24 == np.mean(points[:, 0] * points[:, 1] < 0)
    assert metric(view, "Accuracy of â (all pairs)").value == f"{100 * toy_accuracy(rho, a, a_hat):.1f}%"


def test_a_hat_equal_to_a_is_the_100_percent_ceiling_and_moving_it_costs():
    exact = toy_view(0.9, 0.25, 0.25)
    assert exact.accuracy == pytest.approx(1.0) and exact.accuracy_ood == pytest.approx(1.0)
    assert metric(exact, "Accuracy of â (all pairs)").value == "100.0%"
    off = toy_view(0.9, 0.25, 0.5)
    assert off.accuracy < 1.0 and off.accuracy_ood < off.accuracy  # the error sits in quadrants 2/4


def test_readings_mention_chance_ceiling_and_the_papers_masses():
    view = toy_view(0.9, 0.25, 0.5)
    accuracy = metric(view, "Accuracy of â (all pairs)")
    assert "chance is 50%" in accuracy.reading and "100%" in accuracy.reading
    assert f"{100 * toy_accuracy(0.0, 0.25, 0.5):.1f}%" in accuracy.detail  # the rho = 0 reference
    change = 100 * (toy_accuracy(0.9, 0.25, 0.5) - toy_accuracy(0.0, 0.25, 0.5))
    assert accuracy.delta == f"{change:+.1f} pts" and accuracy.delta_description == "vs ρ = 0"
    assert accuracy.delta_color == "off"  # a higher score at high ρ is no good news here
    assert metric(view, "Quadrant-2/4 mass").delta == f"{quadrant_24_mass(0.9) - 0.5:+.3f}"
    assert all(len(m.reading) <= 110 and "`" not in m.reading + m.detail for m in view.metrics)
    assert all(m.delta is None for m in toy_view(0.0, 0.25, 0.5).metrics)  # no change at the baseline
    mass = metric(view, "Quadrant-2/4 mass").detail
    # the paper's masses, from paper.py, and they agree with the closed form to their 3 digits
    assert all(f"{m:.3f}" in mass for m in PAPER_Q24.values()) and "(here 0.144)" in mass
    assert all(abs(m - quadrant_24_mass(r)) < 5e-4 for r, m in PAPER_Q24.items())
    assert "1/2 − arcsin(ρ)/π = 0.144" in mass


def test_the_table_has_the_paper_rhos_plus_the_chosen_one_and_matches_the_paper():
    view = toy_view(-0.35, 0.25, 0.5)
    table = view.table.set_index("rho")
    assert list(table.index) == [-0.35, 0.0, 0.3, 0.6, 0.9]
    for rho, paper in PAPER_Q24.items():
        assert table.loc[rho, "paper's mass"] == paper
        assert table.loc[rho, "quadrant-2/4 mass"] == pytest.approx(paper, abs=5e-4)
        assert table.loc[rho, "accuracy %"] == pytest.approx(100 * toy_accuracy(rho, 0.25, 0.5), abs=0.01)
    assert np.isnan(table.loc[-0.35, "paper's mass"])
    assert set(table["chance %"]) == {50.0} and set(table["a_hat = a ceiling %"]) == {100.0}


def test_two_panels_rho_zero_and_the_chosen_rho():
    view = toy_view(0.9, 0.25, 0.5)
    assert view.reference_figure.layout.title.text.startswith("ρ = 0:")
    assert view.figure.layout.title.text.startswith("ρ = 0.9:")
    points = sum(len(trace.x) for trace in view.figure.data if trace.mode == "markers")
    assert points == 200


def test_the_spread_of_a_hat_grows_with_rho_and_equals_the_refits():
    spread = spread_view(0.75, 0.25, n=60, repeats=100, seed=1)
    table = spread.table.set_index("rho")
    assert list(table.index) == [0.0, 0.3, 0.6, 0.75, 0.9]
    assert table.loc[0.9, "std of a_hat"] > table.loc[0.0, "std of a_hat"]
    fits = refit_a_hat(0.9, 0.25, 60, 100, 1)
    assert table.loc[0.9, "std of a_hat"] == pytest.approx(np.nanstd(fits, ddof=1))
    assert f"{table.loc[0.0, 'std of a_hat']:.3f} at ρ = 0" in spread.reading
    assert "at your ρ = 0.75" in spread.reading
    assert len(spread.figure.data) == 5


def test_spread_view_hands_out_copies_of_its_cached_result():
    first = spread_view(0.9, 0.25, n=40, repeats=50, seed=0)
    first.table.loc[:, "std of a_hat"] = -1.0
    again = spread_view(0.9, 0.25, n=40, repeats=50, seed=0)
    assert (again.table["std of a_hat"] > 0).all()
    assert again.figure is not first.figure


def test_slider_float_noise_reads_as_the_grid_value():
    view = toy_view(0.30000000000000004, 0.25, 0.5)
    assert list(view.table["rho"]) == [0.0, 0.3, 0.6, 0.9]
    assert "(here 0.403)" in metric(view, "Quadrant-2/4 mass").detail


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: toy_view(1.0, 0.25, 0.5), "degenerate"),
        (lambda: toy_view(-1.0, 0.25, 0.5), "degenerate"),
        (lambda: toy_view("x", 0.25, 0.5), "finite number"),
        (lambda: toy_view(0.5, 1.5, 0.5), "a must be between 0 and 1"),
        (lambda: toy_view(0.5, 0.25, -0.1), "â must be between 0 and 1"),
        (lambda: toy_view(0.5, 0.25, 0.5, seed=-1), "seed"),
        (lambda: spread_view(0.5, 0.25, n=1), "N"),
        (lambda: spread_view(0.5, 0.25, repeats=0), "repeats"),
    ],
)
def test_bad_inputs_are_plain_errors(call, message):
    with pytest.raises(CausalPrefError, match=message):
        call()
