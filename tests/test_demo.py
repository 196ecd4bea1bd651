"""The demo, end to end, on a tiny corpus: videos with audio, a still, exports."""

from __future__ import annotations

import json
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from motion.cli import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    from motion.demo import run_demo

    root = tmp_path_factory.mktemp("demo")
    out = root / "out"
    files = run_demo(out_dir=out, corpus_root=root / "corpus", size="tiny", emotions=("happy", "sad"),
                     video_size=(160, 120), progress=False)
    return out, files


def test_demo_writes_videos_with_audio(demo_run: tuple[Path, list[Path]]) -> None:
    out, files = demo_run
    videos = sorted(p for p in out.glob("*.mp4") if p.name != "real_voice_curve.mp4")
    assert len(videos) == 2
    summary = json.loads((out / "demo.json").read_text())
    assert [c["emotion"] for c in summary["clips"]] == ["happy", "sad"]
    # the shipped weights generate the motion from the audio (body + face)
    assert {c["source"] for c in summary["clips"]} == {"generated from the audio"}
    for clip in summary["clips"]:
        n_frames, secs = imageio_ffmpeg.count_frames_and_secs(str(out / clip["video"]))
        assert n_frames == clip["frames"]
        assert abs(secs - clip["frames"] / clip["fps"]) < 0.1
    # the audio stream is muxed in: decode it through ffmpeg and check it is not silent
    reader = imageio_ffmpeg.read_frames(str(videos[0]))
    meta = next(reader)
    reader.close()
    assert meta["size"] == (160, 120)
    import subprocess

    res = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(videos[0])], capture_output=True, text=True)
    assert "Audio: aac" in res.stderr


def test_demo_still_and_exports(demo_run: tuple[Path, list[Path]]) -> None:
    from PIL import Image

    out, files = demo_run
    still = next(p for p in files if p.suffix == ".png")
    img = np.asarray(Image.open(still))
    assert img.shape == (480, 640, 3)
    assert (np.abs(img.astype(int) - img[0, 0].astype(int)).sum(-1) > 30).mean() > 0.05  # a body is drawn
    assert {p.suffix for p in files} >= {".mp4", ".png", ".glb", ".bvh", ".json"}
    assert not list(out.glob(".*"))  # no temp files left behind


def test_demo_reuses_corpus_and_cli_render(demo_run: tuple[Path, list[Path]], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = demo_run
    corpus = out.parent / "corpus"
    npz = sorted((corpus / "beat_english_v2.0.0" / "smplxflame_30").glob("*.npz"))[0]
    video = tmp_path / "clip.mp4"
    assert main(["render", str(npz), "-o", str(video), "--width", "96", "--height", "64", "--preset", "face"]) == 0
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n_frames > 10
    # bad input: unknown preset is refused by argparse, a missing audio file by the renderer
    assert main(["render", str(npz), "-o", str(tmp_path / "x.mp4"), "--audio", str(tmp_path / "none.wav")]) == 1
    assert "audio file not found" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_cli_info_and_export(demo_run: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = demo_run
    npz = sorted((out.parent / "corpus" / "beat_english_v2.0.0" / "smplxflame_30").glob("*.npz"))[0]
    assert main(["info", str(npz)]) == 0
    text = capsys.readouterr().out
    assert "format: beat2" in text and "at 30 fps" in text and "emotion=" in text
    assert main(["export", str(npz), str(tmp_path / "a.npz"), "--format", "amass", "--fps", "60"]) == 0
    from motion.data.formats import read_motion

    m = read_motion(tmp_path / "a.npz", fps=None)
    assert m.fps == 60
    assert main(["export", str(npz), str(tmp_path / "a.xyz")]) == 1
    assert "unknown export suffix" in capsys.readouterr().err
    assert not (tmp_path / "a.xyz").exists()
    assert main(["export", str(npz), str(tmp_path / "b.bvh"), "-O", "units=m"]) == 0
    assert "ROOT pelvis" in (tmp_path / "b.bvh").read_text()[:200]


def test_demo_without_weights_shows_the_corpus_motion(demo_run: tuple[Path, list[Path]], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from motion.demo import run_demo

    corpus = demo_run[0].parent / "corpus"
    run_demo(out_dir=tmp_path / "gt", corpus_root=corpus, emotions=("happy",), video_size=(96, 72),
             progress=False, weights=tmp_path / "no-weights")
    assert "showing the corpus' own motion" in capsys.readouterr().out
    summary = json.loads((tmp_path / "gt" / "demo.json").read_text())
    assert summary["clips"][0]["source"] == "corpus ground truth"


def test_demo_real_voice_with_an_emotion_curve(demo_run: tuple[Path, list[Path]]) -> None:
    """Step 6: the shipped real voice three times over, its emotion given as a curve: a video with
    the audio (as long as the motion) and the curve plot, listed in the summary."""
    import soundfile as sf
    from PIL import Image

    from motion.demo import REAL_VOICE, REAL_VOICE_CURVE, REAL_VOICE_REPEATS

    out, files = demo_run
    real = json.loads((out / "demo.json").read_text())["real_voice"]
    assert real["emotion_curve"] == REAL_VOICE_CURVE
    wav, video, plot = out / real["audio"], out / real["video"], out / real["plot"]
    assert {wav, video, plot} <= set(files)
    info = sf.info(wav)
    assert abs(info.duration - REAL_VOICE_REPEATS * sf.info(REAL_VOICE).duration) < 1e-3
    n_frames, secs = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n_frames == real["frames"] == round(info.duration * real["fps"])
    assert abs(secs - info.duration) < 0.1
    w, h = Image.open(plot).size
    assert h > 0.75 * w  # the taller figure of a motion with an emotion curve (10 x 8 in, not 10 x 6.4)
