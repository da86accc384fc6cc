"""Alt text of the chapters' static figures (``book/_ext/course_figures.py``), without a browser or a build."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import course_figures  # noqa: E402


@pytest.fixture()
def figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [1, 0], label="SGD")
    left.plot([0, 1], [1, 0.5], label=r"Adam, $\beta_1 = 0.9$")
    left.set(title="training loss", xlabel="step t", ylabel=r"loss $L(\theta_t)$")
    left.legend()
    image = right.imshow([[0, 1], [1, 0]])
    fig.colorbar(image, ax=right, label="share of votes")
    right.set_title("vote map", loc="left")
    fig.suptitle("Two optimizers")
    return fig


def test_describe_names_titles_labels_legends_and_colour_scales(figure) -> None:
    text = course_figures.describe(figure)
    assert text == (
        "Figure: Two optimizers. Panel 1 of 2: training loss; x axis: step t; y axis: loss L(θ_t); "
        "legend: SGD, Adam, β_1 = 0.9. Panel 2 of 2: vote map. Colour scale: share of votes."
    )


def test_describe_an_unlabelled_figure() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1])
    assert course_figures.describe(fig) == "Figure with 1 panel (no titles or labels)."


def test_install_puts_the_description_in_every_png(figure, tmp_path) -> None:
    # in a fresh interpreter: install() changes matplotlib for the whole process, as in a book kernel
    script = f"""
import io, sys
sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot as plt
import course_figures
course_figures.install()
course_figures.install()  # idempotent
fig, ax = plt.subplots()
ax.set_title("loss curve")
fig.savefig({str(tmp_path / "a.png")!r})
buf = io.BytesIO(); fig.savefig(buf, format="png"); open({str(tmp_path / "b.png")!r}, "wb").write(buf.getvalue())
fig.savefig({str(tmp_path / "c.png")!r}, metadata={{"Description": "mine"}})
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    described = [course_figures.png_description(tmp_path / f"{n}.png") for n in "abc"]
    assert described == ["loss curve.", "loss curve.", "mine"]


def test_set_figure_alt_reads_the_png_and_leaves_explicit_alt_alone(tmp_path) -> None:
    from docutils import nodes
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(course_figures.KEY, "Panel 1 of 1: loss.")
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "png", pnginfo=info)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "f.png").write_bytes(buf.getvalue())
    Image.new("RGB", (4, 4)).save(tmp_path / "out" / "plain.png")
    doc = nodes.document(None, None)
    described, explicit, plain, remote = (
        nodes.image(uri="out/f.png"),
        nodes.image(uri="out/f.png", alt="the author's words"),
        nodes.image(uri="out/plain.png"),
        nodes.image(uri="https://example.org/x.png"),
    )
    for node in (described, explicit, plain, remote):
        doc += node

    class App:
        srcdir = str(tmp_path)

    course_figures.set_figure_alt(App(), doc, "chapter")
    assert described["alt"] == "Panel 1 of 1: loss."
    assert explicit["alt"] == "the author's words"
    assert "alt" not in plain and "alt" not in remote


def test_prepare_kernels_writes_a_startup_file_that_installs(tmp_path, monkeypatch) -> None:
    import os

    from matplotlib.backend_bases import FigureCanvasBase

    monkeypatch.delenv("IPYTHONDIR", raising=False)
    # undone after the test
    monkeypatch.setattr(FigureCanvasBase, "print_figure", FigureCanvasBase.print_figure)
    ipython = course_figures.prepare_kernels(tmp_path)

    assert os.environ["IPYTHONDIR"] == str(ipython)
    startup = ipython / "profile_default" / "startup" / "00-course-figures.py"
    namespace: dict = {}
    exec(compile(startup.read_text(), str(startup), "exec"), namespace)  # noqa: S102 - our own file
    assert getattr(FigureCanvasBase.print_figure, "_course_figures", False)
