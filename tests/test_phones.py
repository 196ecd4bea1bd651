"""Tests for motion.audio.phones: pocketsphinx phone loop and forced alignment (real
decoding of espeak-ng speech with exact phoneme timings; no mocks)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from motion.audio import Audio, load_audio_from_array
from motion.audio.phones import (
    ARPABET_TO_ESPEAK,
    PhoneSegment,
    PhoneTrack,
    arpabet_to_espeak,
    espeak_to_arpabet,
    recognise_phones,
)
from motion.synthetic.tts import is_bilabial, synthesize
from motion.synthetic.tts.phonemes import VISEME_CLASSES, viseme_class

SENTENCE = "Put the big map on my bed, Bob."
# Viseme class each CMUdict phone must land in.
EXPECTED_CLASS = {
    "bilabial": "P B M", "labiodental": "F V", "dental": "TH DH", "alveolar": "T D N L S Z R",
    "postalveolar": "SH ZH CH JH", "velar": "K G NG HH", "glide_w": "W", "glide_j": "Y",
    "open": "AA AE AH AW AY", "mid": "EH ER EY", "close": "IH IY", "rounded": "AO OW OY UH UW",
}


def bilabial_mids(triples: list[tuple[str, float, float]]) -> list[float]:
    return [0.5 * (s + e) for sym, s, e in triples if is_bilabial(sym)]


def recall(truth: list[tuple[str, float, float]], track: PhoneTrack, tol: float = 0.0) -> float:
    """Share of true bilabial middles inside (within ``tol`` s of) a recognised bilabial."""
    found = [(s.start - tol, s.end + tol) for s in track.segments if is_bilabial(s.symbol)]
    mids = bilabial_mids(truth)
    return sum(any(a <= m <= b for a, b in found) for m in mids) / len(mids)


def assert_tiles(track: PhoneTrack, duration: float) -> None:
    starts = np.array([s.start for s in track.segments])
    ends = np.array([s.end for s in track.segments])
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(duration)
    assert np.all(ends > starts) and np.all(np.diff(starts) > 0)
    assert np.allclose(ends[:-1], starts[1:])


@pytest.fixture(scope="module")
def clip() -> tuple[Audio, list[tuple[str, float, float]]]:
    syn = synthesize(SENTENCE, voice="en-us")
    return load_audio_from_array(syn.samples, syn.sr), [tuple(p) for p in syn.phonemes]


def test_mapping_covers_cmudict_and_lands_in_viseme_classes():
    import pocketsphinx

    phones: set[str] = set()
    with open(f"{pocketsphinx.get_model_path()}/en-us/cmudict-en-us.dict", encoding="utf-8") as f:
        for line in f:
            phones.update(line.split()[1:])
    assert phones == set(ARPABET_TO_ESPEAK)
    for cls, arpa in EXPECTED_CLASS.items():
        for ph in arpa.split():
            assert viseme_class(arpabet_to_espeak(ph)) == cls, ph
    assert arpabet_to_espeak("aa1") == "A:" and arpabet_to_espeak("M") == "m"
    for filler in ("SIL", "+NSN+", "+SPN+", "", "spn"):
        assert viseme_class(arpabet_to_espeak(filler)) == "pause"
    # and back, for words missing from the dictionary
    assert espeak_to_arpabet(["'p", "aU", "_:", "@L"]) == ["P", "AW", "AH", "L"]


def test_alignment_finds_the_bilabials(clip):
    audio, truth = clip
    track = recognise_phones(audio, SENTENCE)
    assert track.source == "aligned" and track.language_ok
    assert_tiles(track, audio.duration)
    assert recall(truth, track, tol=0.03) >= 0.8
    assert all(s.arpabet in ARPABET_TO_ESPEAK or s.symbol == "_" for s in track.segments)


def test_phone_loop_without_transcript(clip):
    audio, truth = clip
    track = recognise_phones(audio)
    assert track.source == "recognised" and track.language_ok and track.score > 0.8
    assert_tiles(track, audio.duration)
    assert recall(truth, track, tol=0.05) > 0.0


def test_out_of_vocabulary_words_are_pronounced(clip):
    audio, truth = clip
    track = recognise_phones(audio, SENTENCE.replace("map", "mappe").replace("Bob", "Bawb"))  # not in CMUdict
    assert track.source == "aligned" and track.meta["oov"] == ["mappe", "bawb"]
    assert recall(truth, track, tol=0.03) >= 0.8


@pytest.mark.parametrize("samples", [
    np.zeros(0, np.float32), np.zeros(1, np.float32), np.full(1, 0.1, np.float32),
    np.zeros(16000, np.float32), np.random.default_rng(0).standard_normal(800).astype(np.float32) * 0.1,
    np.random.default_rng(1).standard_normal(32000).astype(np.float32) * 0.1,
], ids=["empty", "one-zero", "one-sample", "silence", "50ms-noise", "2s-noise"])
def test_silence_noise_and_short_audio_do_not_crash(samples):
    audio = Audio(samples, 16000)
    for transcript in (None, "hello world"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            track = recognise_phones(audio, transcript)
        assert not track.language_ok and track.source in ("none", "recognised")
        if len(samples):
            assert_tiles(track, audio.duration)
        assert track.viseme_frames(4).shape == (4, len(VISEME_CLASSES))


def test_wrong_transcript_falls_back_to_the_phone_loop(clip):
    audio, _ = clip
    with pytest.warns(UserWarning, match="phone alignment failed"):
        track = recognise_phones(audio, "twenty seven dogs are sitting by the door in the evening")
    assert track.source == "recognised" and "fallback" in track.meta


def test_long_audio_has_monotonic_absolute_times(clip):
    audio, truth = clip
    gap = np.zeros(int(0.7 * audio.sr), np.float32)
    n = int(np.ceil(45.0 / (audio.duration + 0.7)))
    long = Audio(np.concatenate([np.concatenate([audio.samples, gap])] * n), audio.sr)
    shift = audio.duration + 0.7
    long_truth = [(s, a + k * shift, b + k * shift) for k in range(n) for s, a, b in truth]
    for transcript in (None, " ".join([SENTENCE] * n)):
        track = recognise_phones(long, transcript, max_chunk_s=10.0)
        assert long.duration > 45 and track.meta["chunks"] >= 5
        assert_tiles(track, long.duration)
        if transcript:
            assert track.source == "aligned" and recall(long_truth, track, tol=0.03) >= 0.8
        # the inserted gaps are pauses, at their absolute times
        for k in range(n):
            mid = k * shift + audio.duration + 0.35
            seg = next(s for s in track.segments if s.start <= mid < s.end)
            assert seg.symbol == "_"


def test_viseme_frames_one_hot_and_soft_at_boundaries():
    track = PhoneTrack([PhoneSegment("m", "M", 0.0, 0.1), PhoneSegment("A:", "AA", 0.1, 0.25)],
                       "aligned", True, 1.0)
    v = track.viseme_frames(12, fps=20.0)  # frames at 0, 0.05, ..., 0.55 s
    assert v.shape == (12, len(VISEME_CLASSES)) and v.dtype == np.float32
    assert np.allclose(v.sum(1), 1.0)
    col = VISEME_CLASSES.index
    assert v[1, col("bilabial")] == 1.0 and v[3, col("open")] == 1.0  # inside phones: one-hot
    assert v[2, col("bilabial")] == pytest.approx(0.5) and v[2, col("open")] == pytest.approx(0.5)
    assert v[0, col("bilabial")] == pytest.approx(0.5) and v[0, col("pause")] == pytest.approx(0.5)
    assert np.all(v[6:, col("pause")] == 1.0)  # no phone after 0.25 s


def test_triples_feed_closure_mask_and_bilabial_frames(clip):
    from motion.metrics.face import bilabial_middle_frames
    from motion.pipelines.face_smoothing import closure_mask

    audio, _ = clip
    track = recognise_phones(audio, SENTENCE)
    T = int(round(audio.duration * 30))
    mask = closure_mask(track.triples(), T, 30.0)
    frames = bilabial_middle_frames(track.triples(), T, 30.0)
    assert mask.shape == (T,) and len(frames) >= 5 and mask[frames].all()


def test_without_espeak_an_unknown_word_becomes_spoken_noise(clip, monkeypatch):
    from motion.audio import phones

    audio, truth = clip
    monkeypatch.setattr(phones, "_espeak_pronunciation", lambda word: None)
    track = recognise_phones(audio, SENTENCE.replace("bed", "bedd"))
    assert track.source == "aligned" and track.meta["oov"] == ["bedd"]
    assert "+SPN+" in [s.arpabet for s in track.segments]
