"""Live rendering: ipywidgets controls drive compute + draw, in-process and in a real Jupyter kernel."""

from __future__ import annotations

import hashlib
import os
import sys

import ipywidgets as widgets
import nbformat
import pytest
from nbclient import NotebookClient

from course_pkg.explore import Choice, Explorable, LinGrid, Toggle
from course_pkg.explore.chapters import gradient_descent
from course_pkg.explore.live import ExplorableWidget, make_control


def test_controls_match_the_grids() -> None:
    e = gradient_descent.cliff_clipping()
    w = ExplorableWidget(e)
    lr, threshold, clip = (w.controls[k] for k in ("lr", "threshold", "clip"))
    # the learning rate is a choice among ordered numbers: a slider over them, showing the value
    assert isinstance(lr, widgets.SelectionSlider) and list(lr.options) == [
        ("0.02", 0.02),
        ("0.05", 0.05),
        ("0.1", 0.1),
    ]
    assert isinstance(threshold, widgets.SelectionSlider)
    assert [v for _, v in threshold.options] == list(e.params["threshold"].values)
    assert isinstance(clip, widgets.Checkbox) and clip.value is False
    assert w.values() == e.defaults()
    unordered = make_control(Choice(["sgd", "adam"], default="adam", label="optimizer"))
    assert isinstance(unordered, widgets.Dropdown) and unordered.value == "adam"
    for control in w.controls.values():
        assert control.style.description_width == "initial"  # labels are never truncated


def test_changing_a_control_redraws_the_image() -> None:
    w = ExplorableWidget(gradient_descent.lr_condition())
    before = w.image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    w.controls["lr"].value = w.controls["lr"].options[-1][1]
    after = w.image.value
    assert after != before
    # back to the default: the same picture as the first one (deterministic compute + draw)
    w.controls["lr"].value = gradient_descent.lr_condition().params["lr"].default
    assert w.image.value == before


def test_make_control_rejects_nothing_it_cannot_show() -> None:
    assert isinstance(make_control(Toggle(True, "t")), widgets.Checkbox)
    slider = make_control(LinGrid(0, 1, 3, 0.6, "x"))
    assert isinstance(slider, widgets.SelectionSlider) and slider.value == 0.5


@pytest.mark.timeout(180)
def test_widget_in_a_real_kernel_reacts_to_a_frontend_update() -> None:
    """Start a kernel, display an explorable, move its slider the way a browser does (a comm ``update``
    message to the slider's model), and check that the kernel redrew the figure."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from course_pkg.explore.chapters import gradient_descent\nex = gradient_descent.lr_condition()\nex"
        ),
        nbformat.v4.new_code_cell(
            "import hashlib\nw = ex.live_widget\nprint(w.values()['lr'], hashlib.sha1(w.image.value).hexdigest())"
        ),
    ]
    env = {k: v for k, v in os.environ.items() if k != "COURSE_EXPLORE_MODE"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True)
    with client.setup_kernel(env=env):
        client.execute_cell(nb.cells[0], 0)
        bundle = nb.cells[0].outputs[0]["data"]
        assert "application/vnd.jupyter.widget-view+json" in bundle  # live rendering, not the static figure
        state = client.widget_state
        # two sliders: the learning rate and the condition number (a choice among ordered numbers)
        sliders = [
            mid
            for mid, s in state.items()
            if s.get("_model_name") == "SelectionSliderModel" and s.get("description") == "learning rate η"
        ]
        kinds = [s.get("_model_name") for s in state.values()]
        images = [s for s in state.values() if s.get("_model_name") == "ImageModel"]
        assert kinds.count("SelectionSliderModel") == 2 and len(sliders) == 1 and len(images) == 1
        assert state[sliders[0]]["description"] == "learning rate η"

        # what a browser sends when the user drags the slider to the last grid value
        last = len(state[sliders[0]]["_options_labels"]) - 1
        content = {
            "comm_id": sliders[0],
            "data": {"method": "update", "state": {"index": last}, "buffer_paths": []},
        }
        client.kc.shell_channel.send(client.kc.session.msg("comm_msg", content))
        client.execute_cell(nb.cells[1], 1)
        lr, digest = nb.cells[1].outputs[0]["text"].split()
    assert float(lr) == pytest.approx(gradient_descent.lr_condition().params["lr"].values[-1])
    default_png = ExplorableWidget(gradient_descent.lr_condition()).image.value
    assert digest != hashlib.sha1(default_png).hexdigest(), "the kernel did not redraw after the update"


def test_explorable_widget_is_the_live_mimebundle(monkeypatch) -> None:
    monkeypatch.delenv("COURSE_EXPLORE_MODE", raising=False)
    e = Explorable("test-live", "live", {"flag": Toggle(False, "flag")}, _compute, _draw, figsize=(2, 2))
    bundle = e._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]


def _compute(flag: bool) -> dict:
    return {"flag": flag}


def _draw(result: dict, fig) -> None:
    fig.subplots().plot([0, 1], [0, 1 if result["flag"] else -1])


def test_live_frame_has_the_pixels_of_savefig() -> None:
    """The fast path (one Agg draw, our PNG encoder) shows exactly what matplotlib's own PNG shows."""
    import io

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    e = gradient_descent.lr_condition()
    w = ExplorableWidget(e, dpi=80)
    fig = e.render(e.defaults(), w.renderer.positions)
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    reference = np.asarray(Image.open(buf).convert("RGB"))
    live = np.asarray(Image.open(io.BytesIO(w.image.value)).convert("RGB"))
    assert live.shape == reference.shape
    assert np.array_equal(live, reference)


def test_revisited_grid_points_come_from_the_frame_cache() -> None:
    e = gradient_descent.lr_condition()
    w = ExplorableWidget(e, cache_size=2)
    first = w.image.value
    lr = w.controls["lr"]
    values = [v for _, v in lr.options]
    assert w.redraws == 1
    lr.value = values[0]
    lr.value = e.params["lr"].default  # seen before: no redraw, same picture
    assert w.redraws == 2 and w.image.value == first
    lr.value = values[1]
    lr.value = values[2]  # the cache holds 2 frames: the default frame is evicted
    lr.value = e.params["lr"].default
    assert w.redraws == 5 and w.image.value == first
    no_cache = ExplorableWidget(e, cache_size=0)
    no_cache.controls["lr"].value = values[0]
    no_cache.controls["lr"].value = e.params["lr"].default
    assert no_cache.redraws == 3 and no_cache.image.value == first
    with pytest.raises(ValueError, match="cache_size"):
        ExplorableWidget(e, cache_size=-1)


def test_changes_inside_an_event_loop_are_coalesced_into_one_redraw() -> None:
    """In a kernel, a dragged slider sends many values; only the latest one is drawn."""
    import asyncio

    e = gradient_descent.lr_condition()
    w = ExplorableWidget(e)
    values = [v for _, v in w.controls["lr"].options]

    async def drag() -> None:
        for v in values[:5]:
            w.controls["lr"].value = v
        assert w.redraws == 1  # nothing drawn while the changes arrive
        await asyncio.sleep(0)

    asyncio.run(drag())
    assert w.redraws == 2
    assert w.values()["lr"] == values[4]
    direct = ExplorableWidget(e)
    direct.controls["lr"].value = values[4]
    assert w.image.value == direct.image.value


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 7, 4), (5, 3, 3), (37, 61, 4), (304, 768, 4)])
def test_encode_png_is_lossless(shape: tuple[int, int, int]) -> None:
    """Pillow (an independent PNG decoder) reads back every pixel, wrapped row differences included."""
    import io

    import numpy as np
    from PIL import Image

    from course_pkg.explore.frames import encode_png

    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
    pixels[: shape[0] // 2] //= 64  # smooth rows too (small differences), as in a plot
    for level in (0, 1, 9):
        decoded = Image.open(io.BytesIO(encode_png(pixels, level)))
        assert decoded.mode == "RGB" and decoded.size == (shape[1], shape[0])
        np.testing.assert_array_equal(np.asarray(decoded), pixels[..., :3])


def test_encode_png_rejects_what_is_not_an_image() -> None:
    import numpy as np

    from course_pkg.explore.frames import encode_png

    for bad in (np.zeros((4, 4, 3), np.float64), np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8)):
        with pytest.raises(ValueError, match="uint8"):
            encode_png(bad)
