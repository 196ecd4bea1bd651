"""FacePipeline: export folder -> (T, E) / (T, 3) / (T, 2, 3) at 30 fps, seeded, any input form."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motion.models.config import save_module
from motion.models.face.decoder import EmoteDecoder
from motion.models.face.flint import FlintPrior
from motion.models.speech_encoder import SpeechDisentangler
from motion.pipelines.face import FaceOutput, FacePipeline
from motion.pipelines.face_inputs import blend_weights, chunk_spans

DURATION = 2.3  # s -> round(2.3 x 30) = 69 frames


pytestmark = pytest.mark.usefixtures("one_thread")


def _export(folder: Path, style_input: str, encoder: bool) -> Path:
    """A tiny seeded export, laid out as FaceDecoderModule writes it."""
    torch.manual_seed(0)
    flint = FlintPrior(width=32, latent_dim=16, num_heads=4, ff_dim=64, dropout=0.0)
    enc = SpeechDisentangler(width=16, conv_layers=1, layers=1, heads=2, dropout=0.0) if encoder else None
    in_dim, style_dim = (64, 64 if style_input == "speech" else 0) if encoder else (80, 0)
    dec = EmoteDecoder(in_dim, 16, 8, style_dim, width=32, num_heads=4, ff_dim=64, dropout=0.0)
    for m, name in ((flint, "flint"), (dec, "face_decoder"), (enc, "speech_encoder")):
        if m is not None:
            save_module(m, folder, name)
    settings = {"audio_input": "content" if encoder else "log_mel", "style_input": style_input,
                "audio_features": "log_mel", "n_mels": 80, "fps": 30.0, "face_model": "stand-in", "num_expressions": 50}
    (folder / "face_pipeline.json").write_text(json.dumps(settings))
    return folder


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from motion.audio import save_wav

    t = np.arange(int(DURATION * 16000)) / 16000
    rng = np.random.default_rng(0)
    y = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(t.size)
    return save_wav(tmp_path_factory.mktemp("speech") / "speech.wav", y.astype(np.float32), 16000)


@pytest.fixture(scope="module")
def content_pipe(tmp_path_factory: pytest.TempPathFactory) -> FacePipeline:
    return FacePipeline.from_pretrained(_export(tmp_path_factory.mktemp("content"), "speech", encoder=True))


@pytest.fixture(scope="module")
def mel_pipe(tmp_path_factory: pytest.TempPathFactory) -> FacePipeline:
    return FacePipeline.from_pretrained(_export(tmp_path_factory.mktemp("mel"), "speaker", encoder=False))


def _check(out: FaceOutput, T: int) -> None:
    assert out.expression.shape == (T, 50) and out.jaw.shape == (T, 3) and out.eyes.shape == (T, 2, 3)
    assert out.fps == 30.0 and out.expression.dtype == np.float32
    assert all(np.isfinite(a).all() for a in (out.expression, out.jaw, out.eyes))


def test_shapes_duration_and_seed(content_pipe: FacePipeline, wav: Path) -> None:
    T = round(DURATION * 30)
    a = content_pipe(wav, emotion="happy", intensity=2.0, style=None, seed=1)
    _check(a, T)
    b = content_pipe(str(wav), emotion="happy", intensity=2.0, style=None, seed=1)
    for x, y in ((a.expression, b.expression), (a.jaw, b.jaw), (a.eyes, b.eyes)):
        np.testing.assert_array_equal(x, y)  # same seed, same output
    c = content_pipe(wav, emotion="happy", intensity=2.0, style=None, seed=2)
    assert not np.array_equal(a.eyes, c.eyes)  # gaze (and blinks) follow the seed
    assert a.meta["blinks"] is not None and a.meta["style"] == "audio"
    assert np.abs(content_pipe(wav, emotion="angry", intensity=3.0, seed=1).expression - a.expression).max() > 1e-4


def test_content_and_inputs_agree(content_pipe: FacePipeline, wav: Path) -> None:
    """The body pipeline may pass the speech encoder's content it already has: same face."""
    from motion.pipelines.face_inputs import speech_features

    feats = speech_features(wav)
    # phones off: features hold no audio to find lip closures in, the wav would
    ref = content_pipe(wav, emotion="sad", intensity=1.5, seed=0, phones="off")
    assert content_pipe.speech_encoder is not None
    with torch.no_grad():
        content = content_pipe.speech_encoder.encode(torch.from_numpy(feats)[None]).content[0]
    for out in (content_pipe(feats, emotion="sad", intensity=1.5, seed=0),
                content_pipe(wav, emotion="sad", intensity=1.5, seed=0, content=content, phones="off")):
        np.testing.assert_allclose(out.expression, ref.expression, atol=1e-5)
    heard = content_pipe(wav, emotion=None, intensity=1.5, seed=0)  # the emotion the encoder hears
    assert heard.meta["emotion"] != ref.meta["emotion"] and abs(sum(heard.meta["emotion"].values()) - 1) < 1e-3
    _check(content_pipe(None, emotion="sad", intensity=1.5, style=str(wav), seed=0, content=content), feats.shape[0])
    with pytest.raises(ValueError, match="reference clip"):
        content_pipe(wav, emotion="sad", intensity=1.0, style=3, seed=0)


def test_log_mel_export_speaker_style_and_errors(mel_pipe: FacePipeline, wav: Path) -> None:
    T = round(DURATION * 30)
    a = mel_pipe(wav, emotion="happy", intensity=2.0, style=2, seed=0)
    _check(a, T)
    assert np.abs(mel_pipe(wav, emotion="happy", intensity=2.0, style="5", seed=0).expression - a.expression).max() > 1e-5
    phon = [("m", 0.5, 0.6), ("a", 0.6, 0.8)]  # closure-keeping smoothing gets the bilabial frames
    _check(mel_pipe(wav, emotion={"happy": 0.5, "surprised": 0.5}, intensity=0.5, style=None, seed=0, phonemes=phon), T)
    with pytest.raises(ValueError, match="intensity"):
        mel_pipe(wav, emotion="happy", intensity=3.5, seed=0)
    with pytest.raises(ValueError, match="unknown emotion"):
        mel_pipe(wav, emotion="bored", intensity=1.0, seed=0)
    with pytest.raises(ValueError, match="log-mel"):
        mel_pipe(wav, emotion="happy", intensity=1.0, seed=0, content=torch.zeros(T, 64))
    from motion.errors import MotionWarning

    with pytest.warns(MotionWarning, match="cannot hear a speaking style"):  # no speech encoder here
        clip_style = mel_pipe(wav, emotion="happy", intensity=2.0, style=str(wav), seed=0)
    unknown = mel_pipe(wav, emotion="happy", intensity=2.0, style=None, seed=0)
    assert "not heard" in clip_style.meta["style"] and "not heard" not in str(unknown.meta["style"])


def test_long_audio_in_chunks(mel_pipe: FacePipeline, wav: Path) -> None:
    spans = chunk_spans(150, 64, 16)
    assert spans[0][0] == 0 and spans[-1][1] == 150 and all(b - a == 64 for a, b in spans)
    assert all(s2 < e1 - 15 for (_, e1), (s2, _) in itertools.pairwise(spans))  # overlaps >= 16 frames
    assert all(w.min() > 0 for w in blend_weights(spans, 150, 16))
    chunked = FacePipeline(mel_pipe.decoder, mel_pipe.flint, None, mel_pipe.settings, chunk_frames=32,
                           overlap_frames=8, postprocess=False)
    out = chunked(wav, emotion="neutral", intensity=1.0, style=0, seed=0)
    _check(out, round(DURATION * 30))
    whole = FacePipeline(mel_pipe.decoder, mel_pipe.flint, None, mel_pipe.settings, postprocess=False)
    ref = whole(wav, emotion="neutral", intensity=1.0, style=0, seed=0)
    jump = lambda x: np.abs(np.diff(x, axis=0)).max()
    assert jump(out.expression) < 3 * jump(ref.expression) + 1e-6  # no seams at the chunk borders
    assert np.abs(ref.eyes).max() == 0  # postprocess off: eyes at rest


def test_lips_shut_on_given_bilabials(mel_pipe: FacePipeline, wav: Path) -> None:
    """Given phones shut the lips on their p/b/m (solved on the face model); off, they don't."""
    from motion.pipelines.lip_closure import closure_weights, rest_weights

    phon = [("_", 0.0, 0.5), ("m", 0.5, 0.6), ("A:", 0.6, 1.2), ("b", 1.2, 1.25), ("A:", 1.25, 2.3)]
    on = mel_pipe(wav, emotion="happy", intensity=2.0, style=0, seed=0, phonemes=phon)
    assert on.meta["phones"] == {"source": "given", "closures": 2}
    closer = mel_pipe.closer()
    gap = closer.gap(on.expression, on.jaw)
    w = np.maximum(closure_weights(phon, on.num_frames, 30.0), rest_weights(phon, on.num_frames, 30.0))
    assert (w[:12] == 1).all()  # the leading pause shuts the mouth at rest
    assert (gap[w >= 1] < 1.5e-3).all(), gap[w >= 1]  # about target_gap (1 mm), under 2 mm: closed
    free = FacePipeline(mel_pipe.decoder, mel_pipe.flint, None, mel_pipe.settings, lip_closure=False)
    off = free(wav, emotion="happy", intensity=2.0, style=0, seed=0, phonemes=phon)
    assert off.meta["phones"] == {"source": "given"}
    np.testing.assert_array_equal(on.expression[w == 0], off.expression[w == 0])  # only the closures change
    assert closer.gap(off.expression, off.jaw)[w >= 1].mean() > gap[w >= 1].mean()
