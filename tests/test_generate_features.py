"""One feature computation per generate call (issue 17): body and face read one log-mel.

The body's speech encoder and the face decoder both read the loudness-normalised log-mel of
the speech. When the two exports ask for the same settings (:class:`FeatureConfig`: kind,
n_mels, fps, loudness target), :func:`motion.pipelines.generate.generate_motion` computes it
once and hands it to both; when they differ, each pipeline computes its own.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REAL = Path(__file__).parent / "data" / "real" / "mfa_acoustic_corpus.wav"


@pytest.fixture(scope="module")
def shipped() -> tuple[Any, Any]:
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.generate import load_face_pipeline
    from motion.pipelines.weights import WeightsNotFoundError, resolve_weights_dir

    try:
        root = resolve_weights_dir(None)
        body = BodyPipeline.from_pretrained(root)
    except WeightsNotFoundError as exc:  # pragma: no cover - the package ships weights
        pytest.skip(f"no shipped weights: {exc}")
    face, note = load_face_pipeline(root)
    if face is None:  # pragma: no cover
        pytest.skip(note)
    return body, face


@pytest.fixture
def log_mel_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """Counts :func:`motion.audio.features.log_mel_features` calls, by the clip's length in samples."""
    import motion.audio.features as F
    import motion.data.feature_cache as FC

    calls: collections.Counter[str] = collections.Counter()
    real = F.log_mel_features

    def counting(audio: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        calls[f"{audio.sr}:{len(audio.samples)}"] += 1
        return real(audio, *args, **kwargs)

    monkeypatch.setattr(F, "log_mel_features", counting)
    monkeypatch.setattr(FC, "log_mel_features", counting)  # imported by name there
    yield calls


def test_shipped_exports_ask_for_one_log_mel(shipped: tuple[Any, Any]) -> None:
    body, face = shipped
    assert body.features.audio_features == "log_mel"
    assert face.feature_config() == body.features  # kind, n_mels, fps and loudness target


def test_generate_computes_the_log_mel_once(shipped: tuple[Any, Any], log_mel_calls: collections.Counter[str]) -> None:
    """``motion.generate`` on a path, and ``generate_motion`` on an in-memory recording: one
    log-mel per call, and the same motion as when each pipeline computes its own."""
    import motion
    from motion.audio import load_audio
    from motion.pipelines.generate import generate_motion
    from motion.pipelines.weights import resolve_weights_dir

    motion.generate(REAL, seed=0, weights=resolve_weights_dir(None))
    assert sum(log_mel_calls.values()) == 1, log_mel_calls

    body, face = shipped
    audio = load_audio(REAL)
    log_mel_calls.clear()
    shared = generate_motion(audio, body, face, seed=0).motion
    assert sum(log_mel_calls.values()) == 1, log_mel_calls

    # settings that differ (another loudness target): each pipeline computes its own
    had, lufs = "loudness_lufs" in face.settings, face.settings.get("loudness_lufs")
    face.settings["loudness_lufs"] = -20.0
    try:
        log_mel_calls.clear()
        generate_motion(audio, body, face, seed=0)
        assert sum(log_mel_calls.values()) == 2, log_mel_calls
    finally:
        if had:
            face.settings["loudness_lufs"] = lufs
        else:
            del face.settings["loudness_lufs"]

    # sharing changes nothing: the face's own features are the body's
    log_mel_calls.clear()
    own = generate_motion(audio.samples, body, face, seed=0).motion  # an array: no sharing
    for key in ("poses", "trans", "expression"):
        np.testing.assert_array_equal(getattr(own, key), getattr(shared, key))
