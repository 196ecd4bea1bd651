"""Training-time speech augmentation (motion.audio.augment) and augmented feature-cache variants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motion.audio import load_audio
from motion.audio.augment import AugmentConfig, augment_speech, room_bank

REAL = Path(__file__).parent / "data" / "real" / "mfa_acoustic_corpus.wav"


def test_seeded_same_length_and_pcm() -> None:
    x = load_audio(REAL).samples
    a, b, c = augment_speech(x, 16000, 3), augment_speech(x, 16000, 3), augment_speech(x, 16000, 4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.abs(a).max() < 1.0
    np.testing.assert_array_equal(np.round(a * 32768), a * 32768)  # 16-bit values
    state = np.random.get_state()[1].copy()
    augment_speech(x, 16000, 5)
    assert np.array_equal(state, np.random.get_state()[1])  # global RNG untouched


def test_each_step_changes_the_signal_and_keeps_timing() -> None:
    x = load_audio(REAL).samples
    off = dict(p_pitch=0.0, p_reverb=0.0, p_eq=0.0, p_noise=0.0, p_telephone=0.0, p_codec=0.0, gain_db=0.0)
    plain = augment_speech(x, 16000, 0, AugmentConfig(**off))
    # with every step off, only the level (peak at -6 dBFS) and 16-bit rounding remain
    np.testing.assert_allclose(plain, x * (0.5 / np.abs(x).max()), atol=1.0 / 32768)
    env = lambda y: np.sqrt(np.convolve(y**2, np.ones(800) / 800, "same"))  # noqa: E731
    for step in ("p_pitch", "p_reverb", "p_eq", "p_noise", "p_telephone", "p_codec"):
        y = augment_speech(x, 16000, 0, AugmentConfig(**{**off, step: 1.0}))
        assert not np.allclose(y, plain, atol=1e-3), step
        r = np.corrcoef(env(y), env(plain))[0, 1]
        assert r > 0.5, (step, r)  # the speech is still where it was


def test_room_bank_is_seeded() -> None:
    a, b = room_bank(16000), room_bank(16000, seed=1234)
    assert len(a) == 32 and all(np.array_equal(p, q) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="p_noise"):
        AugmentConfig(p_noise=1.5)
