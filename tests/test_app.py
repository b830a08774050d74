"""The home page, driven headless with AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_home_renders_with_device_badge_diagrams_and_page_links():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error
    assert "causalpref" in at.title[0].value
    assert any("Compute device: CPU" in c.value or "Compute device: CUDA" in c.value for c in at.sidebar.caption)
    assert len(at.get("graphviz_chart")) == 4
    assert {link.label for link in at.get("page_link")} >= {"Latent overlap", "Correlation shift (Experiment 1)",
                                                            "User objectives (Experiment 2)", "Analytic toy"}


def test_show_me_the_failure_opens_correlation_shift_at_high_rho():
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.button[0].click().run()
    assert not at.exception
    # AppTest follows st.switch_page: the correlation-shift page now runs with rho = 0.9
    assert at.query_params.get("rho") in ("0.9", ["0.9"])
