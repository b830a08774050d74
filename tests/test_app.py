"""The Streamlit landing page, driven headless with AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_landing_page_renders_with_device_badge():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "causalpref" in at.title[0].value
    assert any("Compute device" in c.value for c in at.sidebar.caption)


def test_training_from_the_landing_page_shows_numbers_with_baselines():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.multiselect[0].set_value([0.0, 0.9]).run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["rho"]) == [0.0, 0.9]
    assert {"OOD spurious-only %", "chance %", "paper OOD %"} <= set(table.columns)
    assert table.set_index("rho").loc[0.9, "OOD acc %"] < table.set_index("rho").loc[0.0, "OOD acc %"]
    assert any("Chance is 50%" in c.value for c in at.caption)
