"""MP4 rendering for real: duration, frame rate and audio stream of the written file, presets,
face colours, and bad inputs (each a clear error, no partial file)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if importlib.util.find_spec("pyrender") is None:  # not imported here: it would fix the GL platform
    pytest.skip("pyrender is not installed", allow_module_level=True)

from motion.cli import main  # noqa: E402
from motion.container import Motion  # noqa: E402
from motion.render.output import RenderError  # noqa: E402

SMALL = (96, 72)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speaker, one sentence, five emotions (~1 s to make)."""
    from motion.synthetic.corpus import generate_corpus

    root = tmp_path_factory.mktemp("corpus") / "c"
    generate_corpus(root, size="tiny", seed=0, workers=1, progress=False, speakers=1, sentences=1)
    return root / "beat_english_v2.0.0"


@pytest.fixture(scope="module")
def ten_seconds(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 10 s motion (the corpus clips one after another) and 12 s of their audio."""
    import soundfile as sf

    from motion.data.formats import read_motion
    from motion.export import export

    tmp = tmp_path_factory.mktemp("ten")
    clips = sorted((corpus / "smplxflame_30").glob("*.npz"))
    motion = Motion.concatenate([read_motion(p) for p in clips]).slice(0, 300)
    wav = np.concatenate([sf.read(corpus / "wave16k" / f"{p.stem}.wav", dtype="float32")[0] for p in clips])
    assert len(wav) >= 12 * 16000
    sf.write(tmp / "ten.wav", wav[: 12 * 16000], 16000)
    return export(motion, tmp / "ten.npz"), tmp / "ten.wav"


def _frames(path: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]


def test_ten_second_clip_through_the_cli(ten_seconds: tuple[Path, Path], tmp_path: Path) -> None:
    from motion.render.mp4 import probe_mp4

    npz, wav = ten_seconds
    out = tmp_path / "ten.mp4"
    # smallest useful frame: the check is about timing and streams (the draw costs ~13 ms a frame)
    assert main(["render", str(npz), "--audio", str(wav), "-o", str(out), "--width", "32", "--height", "24"]) == 0
    info = probe_mp4(out)
    assert info.frames == 300 and info.duration == pytest.approx(10.0, abs=1 / 30 + 1e-6)
    assert info.fps == 30.0 and (info.width, info.height) == (32, 24)
    # 12 s of audio cut to the video (-shortest alone let it run to 10.75 s under load; -t lost a frame)
    assert info.audio and info.audio_duration == pytest.approx(10.0, abs=0.05), info
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ten.mp4"]


@pytest.mark.parametrize("preset", ["full_body", "upper_body", "face"])
def test_presets_short_audio_and_fractional_fps(preset: str, corpus: Path, body_model: Any, tmp_path: Path) -> None:
    """8 frames at 29.97 fps with 0.1 s of audio: the audio is padded, never shortens the video."""
    import soundfile as sf

    from motion.data.formats import read_motion
    from motion.render.mp4 import probe_mp4
    from motion.render.video import render_video

    m = read_motion(next((corpus / "smplxflame_30").glob("*_1_3_0.npz"))).slice(20, 28).replace(fps=30000 / 1001)
    sf.write(tmp_path / "short.wav", np.zeros(1600, np.float32), 16000)
    size = (160, 120) if preset == "face" else SMALL
    out = render_video(m, tmp_path / f"{preset}.mp4", audio=tmp_path / "short.wav", preset=preset, size=size,
                       body_model=body_model, progress=False)
    info = probe_mp4(out)
    assert info.frames == 8 and info.fps == pytest.approx(29.97, abs=0.005) and info.audio
    assert info.duration == pytest.approx(8 / (30000 / 1001), abs=0.04)
    img = _frames(out)[4].astype(int)
    bg = np.abs(img - img[1, 1]).sum(-1) > 30
    fill = bg.mean()
    # the closer the preset, the more of the frame the character fills
    assert {"full_body": 0.04 < fill < 0.15, "upper_body": 0.12 < fill < 0.3, "face": fill > 0.25}[preset], fill
    if preset == "face":  # face colours as in stills: red lips and dark pupils, not a uniform skin tone
        assert ((img[..., 0] - img[..., 1]) > 32).sum() > 20
        assert (img.max(-1) < 110).sum() >= 3


def test_bad_inputs_leave_nothing(tmp_path: Path, body_model: Any) -> None:
    from motion.render.video import render_video

    m = Motion.zeros(4, num_expressions=10)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(RenderError, match="unknown output suffix '.avi'"):
        render_video(m, tmp_path / "a.avi", body_model=body_model, progress=False)
    with pytest.raises(RenderError, match="not a folder"):
        render_video(m, blocker / "a.mp4", body_model=body_model, progress=False)
    with pytest.raises(RenderError, match="does not exist"):
        render_video(m, tmp_path / "no" / "a.mp4", body_model=body_model, progress=False)
    with pytest.raises(RenderError, match="even"):
        render_video(m, tmp_path / "a.mp4", size=(95, 72), body_model=body_model, progress=False)
    bad = m.copy()
    bad.expression[2, 3] = np.nan
    with pytest.raises(RenderError, match="expression contains NaN.*frame 2"):
        render_video(bad, tmp_path / "a.mp4", body_model=body_model, progress=False)
    with pytest.raises(FileNotFoundError, match="audio"):
        render_video(m, tmp_path / "a.mp4", audio=tmp_path / "none.wav", body_model=body_model, progress=False)
    not_audio = tmp_path / "noise.wav"
    not_audio.write_text("this is not audio")
    with pytest.raises(RenderError, match="cannot read the audio file .*noise.wav.*Invalid data"):
        render_video(m, tmp_path / "a.mp4", audio=not_audio, size=SMALL, body_model=body_model, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "noise.wav"]


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    poses = np.zeros((3, 165))
    poses[1, 14] = np.inf
    npz = tmp_path / "nan.npz"  # written by hand: the toolkit's writers refuse NaN / Inf
    np.savez(npz, poses=poses, trans=np.zeros((3, 3)), betas=np.zeros(300), expressions=np.zeros((3, 100)),
             mocap_frame_rate=30, model="smplx2020", gender="neutral")
    assert main(["render", str(npz), "-o", str(tmp_path / "out.mov")]) == 1
    assert "unknown output suffix '.mov'" in capsys.readouterr().err
    assert main(["render", str(npz), "-o", str(tmp_path / "out.mp4")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("motion render: error:") and "NaN" in err and "Traceback" not in err
    assert main(["render", str(npz), str(npz), "-o", str(tmp_path / "out.mp4")]) == 1
    assert "--grid" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.npz"]


def test_interrupted_render_keeps_the_old_file(tmp_path: Path, body_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C on the third frame: the temp file goes, an existing video stays as it was."""
    from motion.render import scene
    from motion.render.video import render_video

    draw = scene.MeshRenderer.__call__
    calls = {"n": 0}

    def interrupted(self: scene.MeshRenderer, vertices: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return draw(self, vertices)

    monkeypatch.setattr(scene.MeshRenderer, "__call__", interrupted)
    dest = tmp_path / "clip.mp4"
    dest.write_bytes(b"old video")
    with pytest.raises(KeyboardInterrupt):
        render_video(Motion.zeros(6, num_expressions=10), dest, size=SMALL, body_model=body_model, progress=False)
    assert calls["n"] == 3 and dest.read_bytes() == b"old video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
