"""Tests for motion.synthetic.tts: the libespeak-ng ctypes binding (real synthesis, no mocks)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from motion.synthetic.tts import (
    EspeakNotAvailable,
    is_bilabial,
    is_pause,
    library_info,
    list_voices,
    speak_lib,
    split_stress,
    synthesize,
    viseme_class,
)

SENTENCE = "Maybe Bob will bring the blue boat tomorrow."


def median_f0(samples: np.ndarray, sr: int) -> float:
    """Median YIN f0 (Hz) over loud frames."""
    import librosa

    y = samples.astype(np.float32)
    f0 = librosa.yin(y, fmin=60, fmax=500, sr=sr, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=256)[0][: len(f0)]
    return float(np.median(f0[rms > 0.15 * rms.max()]))


@pytest.fixture(scope="module")
def syn():
    return synthesize(SENTENCE)


def test_library_loads():
    assert "espeak-ng" in library_info()


def test_synthesis_audio(syn):
    assert syn.sr == 22050
    assert syn.samples.dtype == np.float32 and syn.samples.ndim == 1
    assert 1.5 < syn.duration < 5.0
    assert np.abs(syn.samples).max() <= 1.0
    assert np.sqrt(np.mean(syn.samples**2)) > 0.01  # not silent


def test_phoneme_events_monotonic_within_duration(syn):
    ph = syn.phonemes
    assert len(ph) > 20
    starts = np.array([p.start for p in ph])
    ends = np.array([p.end for p in ph])
    assert np.all(np.diff(starts) >= 0)
    assert np.all(ends >= starts)
    assert starts[0] >= 0 and ends[-1] <= syn.duration + 1e-9
    assert np.allclose(ends[:-1], starts[1:])  # phonemes tile the utterance
    symbols = [split_stress(p.symbol)[0] for p in ph]
    assert symbols.count("b") >= 4  # Maybe Bob ... bring ... blue boat
    assert any(p.symbol.startswith("'") for p in ph)  # primary stress marks come through
    # every phoneme (tuple form) unpacks as (symbol, start, end)
    sym, s, e = ph[0]
    assert isinstance(sym, str) and s <= e


def test_word_events(syn):
    words = [w.word for w in syn.words]
    assert words == SENTENCE.rstrip(".").split()
    starts = [w.start for w in syn.words]
    assert starts == sorted(starts)
    for w in syn.words:
        assert 0 <= w.start <= w.end <= syn.duration
    assert syn.sentences == [0.0]


def test_bilabials_are_quiet_closures(syn):
    """At a bilabial stop the lips are closed: the audio energy dips below the vowels'."""
    y, sr = syn.samples, syn.sr
    rms = lambda a, b: float(np.sqrt(np.mean(y[int(a * sr): max(int(b * sr), int(a * sr) + 1)] ** 2)))
    stops = [rms(p.start, p.end) for p in syn.phonemes if split_stress(p.symbol)[0] in ("p", "b")]
    vowels = [rms(p.start, p.end) for p in syn.phonemes if viseme_class(p.symbol) in ("open", "mid")]
    assert np.median(stops) < 0.6 * np.median(vowels)


def test_deterministic(syn):
    again = synthesize(SENTENCE)
    np.testing.assert_array_equal(again.samples, syn.samples)
    assert again.phonemes == syn.phonemes and again.words == syn.words
    other = synthesize("Something else entirely.")  # state does not leak into the next call
    assert not np.array_equal(other.samples[:1000], syn.samples[:1000])
    np.testing.assert_array_equal(synthesize(SENTENCE).samples, syn.samples)


def test_deterministic_across_processes():
    """A breathy voice draws espeak noise: still identical in a fresh process."""
    import subprocess
    import sys

    code = ("import hashlib; from motion.synthetic.tts import synthesize; "
            "print(hashlib.sha256(synthesize('Hello there, Bob.', voice='en+f3').samples.tobytes()).hexdigest())")
    import hashlib

    here = hashlib.sha256(synthesize("Hello there, Bob.", voice="en+f3").samples.tobytes()).hexdigest()
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here
    other_seed = synthesize("Hello there, Bob.", voice="en+f3", seed=7).samples
    assert hashlib.sha256(other_seed.tobytes()).hexdigest() != here


def test_thread_safety():
    out: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: out.append(synthesize("Good morning.").samples))
               for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(out) == 3 and all(np.array_equal(o, out[0]) for o in out)


def test_voice_and_pitch_change_f0():
    male = synthesize(SENTENCE, voice="en+m3")
    female = synthesize(SENTENCE, voice="en+f3")
    assert median_f0(female.samples, female.sr) > 1.4 * median_f0(male.samples, male.sr)
    low = synthesize(SENTENCE, pitch=20)
    high = synthesize(SENTENCE, pitch=80)
    assert median_f0(high.samples, high.sr) > 1.2 * median_f0(low.samples, low.sr)


def test_rate_changes_duration():
    slow = synthesize(SENTENCE, rate_wpm=120)
    fast = synthesize(SENTENCE, rate_wpm=260)
    assert fast.duration < 0.75 * slow.duration
    gap = synthesize(SENTENCE, word_gap=10)
    assert gap.duration > synthesize(SENTENCE).duration + 0.3


def test_amplitude_changes_level():
    quiet = synthesize("Hello there.", amplitude=40)
    loud = synthesize("Hello there.", amplitude=100)
    assert np.abs(loud.samples).max() > 1.8 * np.abs(quiet.samples).max()


def test_list_voices():
    voices = list_voices()
    assert any(any(lang.startswith("en") for lang in v.languages) for v in voices)
    variants = {v.name for v in list_voices(variants=True)}
    assert {"m3", "f3"} <= variants


def test_errors():
    with pytest.raises(ValueError, match="no voice"):
        synthesize("hello", voice="xx-nonexistent+zz")
    with pytest.raises(ValueError, match="non-empty"):
        synthesize("   ")


def test_missing_library_error_is_clear(monkeypatch):
    monkeypatch.setattr(speak_lib, "_candidates", lambda: [("/nonexistent/libespeak-ng.so", None)])
    with pytest.raises(EspeakNotAvailable, match="espeakng-loader"):
        speak_lib.load_library()


def test_phoneme_helpers():
    assert split_stress("'oU") == ("oU", 2) and split_stress(",0") == ("0", 1)
    assert split_stress("b") == ("b", 0)
    assert all(is_bilabial(s) for s in ("p", "b", "m"))
    assert not is_bilabial("f") and viseme_class("f") == "labiodental"
    assert viseme_class("'u:") == "rounded" and viseme_class("w") == "glide_w"
    assert viseme_class("'aI") == "open" and viseme_class("tS") == "postalveolar"
    assert is_pause("_:") and is_pause("_") and not is_pause("t")
