"""Style is checked like behaviour: ruff's lint rules and formatter (configured in
pyproject.toml) must pass on the whole repository, so CI fails on drift."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module", autouse=True)
def ruff_installed():
    if shutil.which("ruff") is None and ruff("--version").returncode != 0:
        pytest.fail("ruff is not installed: pip install -r requirements.txt installs it")


def test_ruff_lint_passes():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr
