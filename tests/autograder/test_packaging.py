"""An installed autograder (a wheel, not the checkout) carries its grading specs and deployment files."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None, reason="building a wheel needs setuptools"
)
def test_wheel_contains_every_spec_and_deploy_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("course_pkg", "autograder"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", ".", "-w", "dist"],
        cwd=src,
        check=True,
        capture_output=True,
    )
    (wheel,) = (src / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
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
