"""An installed autograder (a wheel, not the checkout) carries its grading specs and deployment files."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None, reason="building a wheel needs setuptools"
)
def test_wheel_contains_every_spec_and_deploy_file(built_wheel: Path) -> None:
    names = set(zipfile.ZipFile(built_wheel).namelist())
    expected = [
        f"autograder/{folder}/{path.name}"
        for folder in ("specs", "deploy")
        for path in sorted((ROOT / "autograder" / folder).iterdir())
        if path.is_file()
    ]
    assert any(name.startswith("autograder/specs/a") for name in expected)
    missing = [name for name in expected if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert "autograder/cli.py" in names and "course_pkg/explore/_textcache.py" in names
