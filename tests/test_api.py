"""motion.generate's front door: the options object, the old keywords, array input, the pipeline
cache. The pipelines are replaced by stand-ins: these check the API's own work, quickly (the
shipped weights' behaviour is tests/test_front_door.py, their bytes tests/test_golden.py)."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import motion
from motion import api
from motion.pipelines import request


@pytest.fixture()
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "a.wav"
    sf.write(path, (0.1 * np.sin(np.arange(16000) / 10)).astype(np.float32), 16000)
    return path


@pytest.fixture()
def seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What generate hands on to its pipelines (api._generate replaced: no weights load)."""
    calls: list[dict[str, Any]] = []

    def fake(speech: Any, weights: Any, options: Any, **kw: Any) -> str:
        calls.append({"speech": speech, "weights": weights, "options": options, **kw})
        return "motion"

    monkeypatch.setattr(api, "_generate", fake)
    return calls


# ----------------------------------------------------------------------------- GenerationOptions
def test_options_are_frozen_typed_and_default_to_the_command_line() -> None:
    from motion.cli import _generation_options, build_parser

    opts = motion.GenerationOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.steps = 3  # type: ignore[misc]
    args = build_parser().parse_args(["generate", "x.wav"])
    assert _generation_options(args) == opts  # motion generate and motion.generate sample alike
    args = build_parser().parse_args(["generate", "x.wav", "--steps", "3", "--stitch", "inpaint", "--phones", "off"])
    assert _generation_options(args) == motion.GenerationOptions(steps=3, stitch="inpaint", phones="off")
    assert "phones" not in opts.body_kwargs() and opts.body_kwargs()["steps"] == opts.steps


@pytest.mark.parametrize(("bad", "message"), [
    ({"steps": 0}, "steps must be a whole number >= 1"),
    ({"steps": 2.5}, "steps must be a whole number"),
    ({"sampler": "euler"}, "sampler must be one of dpmsolver, ddim"),
    ({"stitch": "glue"}, "stitch must be one of fused, inpaint, crossfade, concat"),
    ({"phones": "fast"}, "phones must be one of detector, loop, words, off"),
    ({"emotion_guidance": float("nan")}, "emotion_guidance must be a finite number"),
    ({"audio_guidance": -1.0}, "audio_guidance must be >= 0"),
    ({"smoothing": -0.5}, "smoothing must be >= 0"),
    ({"window_s": 0.0}, "window_s must be > 0"),
    ({"window_s": 4.0, "overlap_s": 4.0}, r"overlap \(4 s, --overlap / overlap_s\) must be shorter than the window"),
])
def test_options_say_which_field_is_wrong(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        motion.GenerationOptions(**bad)


def test_concat_may_overlap_nothing() -> None:
    motion.GenerationOptions(window_s=4.0, overlap_s=4.0, stitch="concat")  # concat ignores the overlap


# ----------------------------------------------------------------------------- the signature
def test_options_reach_the_pipelines_and_old_keywords_warn(wav: Path, seen: list[dict[str, Any]]) -> None:
    opts = motion.GenerationOptions(steps=4, sampler="ddim")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the new way
        motion.generate(wav, emotion="Happiness", seed=1, options=opts)
    assert seen[-1]["options"] is opts and seen[-1]["emotion"] == "happy"
    with pytest.warns(DeprecationWarning, match=r"options=motion.GenerationOptions\(steps=2, phones='off'\)"):
        motion.generate(wav, steps=2, phones="off", options=opts)
    assert seen[-1]["options"] == dataclasses.replace(opts, steps=2, phones="off")  # the keywords win
    with pytest.warns(DeprecationWarning, match="models_dir"):
        motion.generate(wav, models_dir="anything")
    assert seen[-1]["options"] == motion.GenerationOptions()
    with pytest.raises(TypeError, match="'stepz'"):
        motion.generate(wav, stepz=2)
    with pytest.raises(TypeError, match="GenerationOptions"):
        motion.generate(wav, options={"steps": 2})  # type: ignore[arg-type]
    assert "GenerationRequest" not in dir(motion) and not hasattr(request, "GenerationRequest")


def test_bad_controls_are_refused_before_any_weights(wav: Path, seen: list[dict[str, Any]]) -> None:
    for kw, err, message in [({"intensity": 3.5}, ValueError, "intensity"), ({"fps": 0}, ValueError, "fps"),
                             ({"fps": "fast"}, ValueError, "fps must be a finite number"),
                             ({"body": False, "face": False}, ValueError, "nothing to generate"),
                             ({"emotion": "furious"}, ValueError, "unknown emotion"),
                             ({"emotion_reference": wav.with_name("none.wav")}, FileNotFoundError, "none.wav")]:
        with pytest.raises(err, match=message):
            motion.generate(wav, **kw)
    assert seen == []


def test_array_input_needs_its_rate_and_is_read_as_a_file_is(wav: Path, seen: list[dict[str, Any]]) -> None:
    from motion.audio import Audio, load_audio

    samples, sr = sf.read(wav, dtype="float32")
    with pytest.raises(ValueError, match=r"needs its sample rate: motion.generate\(samples, sr="):
        motion.generate(samples)
    with pytest.raises(TypeError, match="file path, a numpy array of samples"):
        motion.generate(samples.tolist())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sr=16000 is for array input"):
        motion.generate(wav, sr=16000)
    with pytest.raises(ValueError, match="sr must be a sample rate"):
        motion.generate(samples, sr=-1)
    motion.generate(samples, sr=sr)
    got = seen[-1]["speech"]
    assert isinstance(got, Audio) and got.sr == 16000
    np.testing.assert_array_equal(got.samples, load_audio(wav).samples)  # the numbers of the file
    stereo = np.stack([samples, samples], axis=1)
    motion.generate((stereo * 32767).astype(np.int16), sr=8000)  # PCM, down-mixed, resampled
    assert seen[-1]["speech"].sr == 16000 and seen[-1]["speech"].num_samples == 2 * len(samples)
    audio = load_audio(wav)
    motion.generate(audio)
    assert seen[-1]["speech"] is audio
    motion.generate(wav)
    assert seen[-1]["speech"] == wav


# ----------------------------------------------------------------------------- the cache
def test_pipeline_cache_is_bounded_clearable_and_follows_the_files(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from motion.pipelines import body as body_module
    from motion.pipelines import generate as generate_module

    loads: list[str] = []

    class FakeBody:
        @classmethod
        def from_pretrained(cls, root: Any, device: Any = "cpu") -> Any:
            assert str(device) == "cpu"  # motion.generate's default device
            loads.append(str(root))
            return cls()

    monkeypatch.setattr(body_module, "BodyPipeline", FakeBody)
    monkeypatch.setattr(generate_module, "generate_motion",
                        lambda *a, **kw: type("Out", (), {"motion": a[1]})())
    wav = tmp_path / "a.wav"
    sf.write(wav, np.full(1600, 0.1, np.float32), 16000)
    roots = []
    for name in "abc":
        (tmp_path / name / "body").mkdir(parents=True)
        (tmp_path / name / "body" / "denoiser.json").write_text("{}")
        roots.append(tmp_path / name)
    motion.clear_cache()
    try:
        first = motion.generate(wav, face=False, weights=roots[0])
        assert motion.generate(wav, face=False, weights=roots[0]) is first and len(loads) == 1  # kept
        motion.generate(wav, face=False, weights=roots[1])
        motion.generate(wav, face=False, weights=roots[2])  # a third folder: the oldest goes
        assert len(loads) == 3 and api._body_pipeline.cache_info().currsize == 2
        motion.generate(wav, face=False, weights=roots[0])
        assert len(loads) == 4
        stamp = roots[0] / "body" / "denoiser.json"
        stamp.write_text('{"new": 1}')  # new weights in the same folder
        os.utime(stamp, ns=(1, 1))
        assert motion.generate(wav, face=False, weights=roots[0]) is not first and len(loads) == 5
        motion.clear_cache()
        assert api._body_pipeline.cache_info().currsize == 0
        motion.generate(wav, face=False, weights=roots[0])
        assert len(loads) == 6
    finally:
        motion.clear_cache()
