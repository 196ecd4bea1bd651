"""Grid videos (several motions side by side, labelled), curve plots and stills from the CLI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("pyrender") is None:  # not imported here: it would fix the GL platform
    pytest.skip("pyrender is not installed", allow_module_level=True)

from PIL import Image  # noqa: E402

from motion.cli import main  # noqa: E402
from motion.container import Motion  # noqa: E402
from motion.render.output import RenderError  # noqa: E402
from motion.types import JAW, JOINT_INDEX  # noqa: E402

EMOTIONS = ("happy", "sad", "angry", "surprised")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same sentence in four emotions, cut to 12 frames (sad: 8), written as npz; plus their wavs."""
    from motion.data.beat2_dataset import Beat2Dataset
    from motion.synthetic.corpus import generate_corpus
    from motion.data.formats import read_motion
    from motion.export import export

    tmp = tmp_path_factory.mktemp("grid")
    generate_corpus(tmp / "c", size="tiny", seed=0, workers=1, progress=False, speakers=1, sentences=1)
    recs = {r.emotion: r for r in Beat2Dataset(tmp / "c")}
    out = {}
    for e in EMOTIONS:
        m = read_motion(recs[e].npz)
        out[e] = export(m.slice(30, 38 if e == "sad" else 42), tmp / f"{e}.npz")
        out[e + "_wav"] = recs[e].wav
        out[e + "_full"] = recs[e].npz
    return out


def _frames(path: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]


def test_grid_of_four_emotions_from_the_cli(clips: dict[str, Path], tmp_path: Path) -> None:
    from motion.render.mp4 import probe_mp4

    out = tmp_path / "grid.mp4"
    args = ["render", "--grid", *(str(clips[e]) for e in EMOTIONS), "-o", str(out), "--width", "96",
            "--height", "108", "--preset", "upper_body", "--audio", str(clips["happy_wav"])]
    assert main(args) == 0
    info = probe_mp4(out)
    assert (info.width, info.height) == (192, 216) and info.frames == 12 and info.audio  # 2 x 2 cells
    frames = _frames(out)
    cells = [frames[-1][r * 108:(r + 1) * 108, c * 96:(c + 1) * 96] for r in (0, 1) for c in (0, 1)]
    for cell in cells:
        label = cell[3:16, 3:30].astype(int)  # the label box: near-white with dark text
        assert label.max() > 235 and label.min() < 120
        body = (np.abs(cell.astype(int) - cell[-2, -2]).sum(-1) > 30).mean()
        assert body > 0.05  # a character in every cell
    # the shorter (sad) clip holds its last frame while the others move on
    sad_a, sad_b = (f[0:108, 96:192].astype(int) for f in (frames[9], frames[11]))
    happy_a, happy_b = (f[0:108, 0:96].astype(int) for f in (frames[9], frames[11]))
    assert np.abs(sad_a - sad_b).mean() < np.abs(happy_a - happy_b).mean()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.mp4"]


def test_grid_labels_and_errors(clips: dict[str, Path], tmp_path: Path) -> None:
    from motion.data.formats import read_motion
    from motion.render.grid import default_label, grid_shape, render_grid

    m = read_motion(clips["happy"])
    assert default_label(m, "x") == "happy 3" and default_label(Motion.zeros(2), "clip 2") == "clip 2"
    assert grid_shape(4) == (2, 2) and grid_shape(3) == (2, 2) and grid_shape(4, cols=4) == (1, 4)
    with pytest.raises(RenderError, match="2 labels for 1 motions"):
        render_grid([m], tmp_path / "g.mp4", labels=["a", "b"], progress=False)
    bad = m.copy()
    bad.poses[1, 3, 0] = np.nan
    with pytest.raises(RenderError, match="NaN"):
        render_grid([m, bad], tmp_path / "g.mp4", progress=False)
    with pytest.raises(RenderError, match="unknown output suffix"):
        render_grid([m], tmp_path / "g.gif", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_curves(clips: dict[str, Path]) -> None:
    from motion.render.plots import motion_curves

    m = Motion.zeros(30, num_expressions=10)
    m.poses[10:20, JAW] = (np.radians(20.0), 0.0, 0.0)
    m.poses[:, JOINT_INDEX["right_elbow"], 1] = np.linspace(0, 1.5, 30)  # the right forearm swings
    m.expression[5, 2] = 3.0
    c = motion_curves(m)
    assert c.time[1] == pytest.approx(1 / 30)
    assert c.jaw_deg[15] == pytest.approx(20.0, abs=1e-4) and c.jaw_deg[0] == 0.0
    assert c.hand_speed[:, 0].max() < 1e-5 and c.hand_speed[5:, 1].min() > 0.1  # m/s
    assert c.expression_energy[5] == pytest.approx(3.0) and c.expression_energy[6] == 0.0


def test_plot_png_from_the_cli(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    assert main(["plot", str(clips["happy_full"]), "-o", str(out)]) == 0  # audio found from the metadata
    img = Image.open(out)
    assert img.format == "PNG" and img.size == (1000, 640)
    px = np.asarray(img.convert("RGB")).astype(int)
    assert (px.std(axis=(0, 1)) > 10).all()  # not blank
    wave_colour = np.array([0x5B, 0x64, 0x70])
    assert (np.abs(px - wave_colour).sum(-1) < 10).sum() > 500  # the waveform was drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]


def test_plot_and_still_bad_inputs(clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from motion.render.plots import plot_curves

    m = Motion.zeros(5, num_expressions=10)
    with pytest.raises(RenderError, match="unknown output suffix '.jpg'"):
        plot_curves(m, tmp_path / "a.jpg")
    m.trans[2, 1] = np.inf
    with pytest.raises(RenderError, match="trans contains NaN or Inf"):
        plot_curves(m, tmp_path / "a.png")
    (tmp_path / "f").write_text("x")
    assert main(["plot", str(clips["sad"]), "-o", str(tmp_path / "f" / "a.png")]) == 1
    assert "not a folder" in capsys.readouterr().err
    assert main(["render", str(clips["sad"]), "-o", str(tmp_path / "s.png"), "--frame", "99"]) == 1
    assert "out of range" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_still_from_the_cli(clips: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "still.png"
    assert main(["render", str(clips["angry"]), "-o", str(out), "--preset", "face", "--width", "120",
                 "--height", "120"]) == 0
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (120, 120, 3) and (np.abs(img - img[1, 1]).sum(-1) > 30).mean() > 0.3

