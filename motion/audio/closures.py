"""Where the lips meet in speech: bilabial closures and pauses from a tiny network.

:func:`detect_closures` runs :class:`motion.models.closure_detector.ClosureDetector` (shipped in
``motion/weights/face/closure_detector.*``, ``configs/demo/closure_detector.yaml``: the
synthetic corpus through simulated rooms, noise, EQ, codecs and level changes, plus the real
recordings of a manifest; the training stage takes any labelled or transcribed real speech)
over the speech and returns a
:class:`motion.audio.phones.PhoneTrack` of three kinds of segment: ``"p"`` (a bilabial: p, b
or m), ``"_"`` (a pause) and ``"@"`` (any other speech), so the face's closure code
(:mod:`motion.pipelines.lip_closure`) takes it like recognised phones. It costs about 6 ms
per second of speech on one core (mostly the filterbank), a third of pocketsphinx's phone loop.

Features (:func:`closure_features`), one row per 10 ms (Kaldi frame ``k`` centred at
``10 k + 12.5`` ms):

1. the speech brought to -23 LUFS (ITU-R BS.1770-4), plus dither at -70 dBFS (digital silence
   and a quiet room look alike);
2. a 40-band Kaldi log filterbank (:func:`motion.audio.fbank.kaldi_fbank`);
3. cepstral mean normalisation: the per-band mean over the speech frames (within 40 dB of the
   loud ones) subtracted, so a microphone's or a room's colour cancels.

Decoding (:func:`decode_closures`): a bilabial is a run of frames whose bilabial probability
stays over ``low`` and peaks over ``high`` (hysteresis); a pause is a run of frames whose
pause probability is over 0.5.

Long recordings: the features are computed 10 s at a time (the dither drawn in sample order,
so the numbers are those of the whole clip, bit for bit), and the network runs on
``chunk_frames`` (60 s) at a time with its receptive field (0.7 s) of context on either side,
keeping only the chunk's own frames: the probabilities are those of one run over the whole
clip to float rounding (the convolutions may sum in another order). What is held is the
filterbank (``(F, 40)`` float32, 58 MB per hour) and per-frame probabilities, never the
samples (with :func:`motion.audio.io.open_audio` they stay on disk).
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from motion.audio.framing import chunks

if TYPE_CHECKING:
    from motion.audio.io import Audio
    from motion.audio.phones import PhoneTrack
    from motion.models.closure_detector import ClosureDetector

#: Filterbank bands of the features.
N_BANDS: Final[int] = 40
#: Feature frames per second (Kaldi 10 ms shift).
FRAME_RATE: Final[float] = 100.0
#: Centre of feature frame 0 (s): 25 ms frames from the signal's start.
FRAME_OFFSET_S: Final[float] = 0.0125
#: Dither added after loudness normalisation (RMS, full scale 1).
DITHER_RMS: Final[float] = 10.0 ** (-70.0 / 20.0)
#: Frames this far (dB of filterbank energy) under the 95th percentile are left out of the mean.
GATE_DB: Final[float] = 40.0
#: Bilabial decoding thresholds (hysteresis) and pause threshold. HIGH / LOW were chosen on the
#: speaker-independent validation split of the detector's real training speech (Common Voice
#: contributors it never trained on; docs/real_speech_data.md): 0.4 / 0.2 finds 76% of the
#: aligned p/b/m there at 32 false alarms per minute (0.5 / 0.3: 71% at 25).
HIGH: Final[float] = 0.4
LOW: Final[float] = 0.2
PAUSE: Final[float] = 0.5
#: More bilabials per second of speech than this is not speech (music, noise).
MAX_BILABIAL_RATE: Final[float] = 4.0
#: Frames the network runs on at once (60 s); clips up to this long are one run.
CHUNK_FRAMES: Final[int] = 6000

_LOCK = threading.Lock()


def closure_features(audio: Audio) -> np.ndarray:
    """``(F, N_BANDS)`` float32 features of ``audio`` (module notes), F = Kaldi frames at 16 kHz."""
    if audio.samples.size == 0:
        return np.zeros((0, N_BANDS), np.float32)
    fb = _dithered_fbank(audio)
    if fb.shape[0] == 0:
        return fb
    energy = np.empty(fb.shape[0])  # natural-log energy per frame
    for a, b in chunks(fb.shape[0], 1 << 14):
        energy[a:b] = np.log(np.exp(fb[a:b].astype(np.float64)).sum(1))
    gate = energy > np.percentile(energy, 95) - GATE_DB / (10.0 / np.log(10.0))
    # the mean of the gated rows (the same sum as fb[gate].mean(0), without the copy)
    mean = np.mean(fb, axis=0, where=gate[:, None]) if gate.any() else fb.mean(0)
    fb -= mean
    return fb


def _dithered_fbank(audio: Audio) -> np.ndarray:
    """``(F, N_BANDS)`` Kaldi filterbank of ``audio`` brought to ``TARGET_LUFS`` plus the dither
    (``default_rng(0)``, one draw per sample in order), 10 s at a time (module notes)."""
    from motion.audio._stream import samples_or_array
    from motion.audio.fbank import (FBANK_SR, FRAME_LENGTH, FRAME_SHIFT, fbank_basis, fbank_chunk_frames,
                                    fbank_rows, kaldi_fbank, num_fbank_frames)
    from motion.audio.io import Audio as _Audio
    from motion.audio.loudness import TARGET_LUFS, loudness_scale, normalize_loudness

    rng = np.random.default_rng(0)
    if audio.sr != FBANK_SR:  # the level and the dither at the recording's rate, then resampled
        level, _ = normalize_loudness(audio, TARGET_LUFS)
        x = level.samples + (DITHER_RMS * rng.standard_normal(level.samples.shape[0])).astype(np.float32)
        return kaldi_fbank(_Audio(x.astype(np.float32), audio.sr, audio.path), n_mels=N_BANDS)
    scale, _ = loudness_scale(audio, TARGET_LUFS)
    y = samples_or_array(audio.samples)
    F = num_fbank_frames(y.shape[0])
    out = np.empty((F, N_BANDS), np.float32)
    basis = fbank_basis(N_BANDS)
    seg, start, end = np.zeros(0, np.float32), 0, 0  # seg: the dithered signal over [start, end)
    for k0, k1 in chunks(F, fbank_chunk_frames()):  # kaldi_fbank's chunks: the same numbers
        stop = (k1 - 1) * FRAME_SHIFT + FRAME_LENGTH
        new = y[end:stop]
        level = new if scale is None else np.multiply(new, scale, dtype=np.float32)
        x = level + (DITHER_RMS * rng.standard_normal(level.shape[0])).astype(np.float32)
        seg = np.concatenate([seg[k0 * FRAME_SHIFT - start:], x])
        start, end = k0 * FRAME_SHIFT, stop
        out[k0:k1] = fbank_rows(seg, k0, k1, basis, offset=start)
    return out


def frame_labels(phonemes: Any, num_frames: int) -> np.ndarray:
    """``(F,)`` int64 class ids (:data:`~motion.models.closure_detector.CLOSURE_CLASSES`) of feature
    frames from phone timings (as :func:`motion.synthetic.tts.phonemes.phoneme_triples` takes):
    a frame whose centre lies in a bilabial is 1, in a pause or outside every phone 2, else 0."""
    from motion.synthetic.tts.phonemes import is_bilabial, phoneme_triples

    t = FRAME_OFFSET_S + np.arange(num_frames) / FRAME_RATE
    out = np.full(num_frames, 2, np.int64)
    spans = [(sym, s, e) for sym, s, e in phoneme_triples(phonemes) if e > s]
    for sym, s, e in spans:  # speech first, then bilabials over it
        if not sym.startswith("_") and not is_bilabial(sym):
            out[(t >= s) & (t < e)] = 0
    for sym, s, e in spans:
        if is_bilabial(sym):
            inside = (t >= s) & (t < e)
            if not inside.any():  # shorter than a frame: its nearest frame
                inside[int(np.clip(round((0.5 * (s + e) - FRAME_OFFSET_S) * FRAME_RATE), 0, num_frames - 1))] = True
            out[inside] = 1
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def decode_closures(probs: np.ndarray, duration: float, high: float = HIGH, low: float = LOW,
                    pause: float = PAUSE) -> list[tuple[str, float, float]]:
    """``[(symbol, start_s, end_s)]`` tiling ``[0, duration]`` from ``(F, 3)`` class probabilities:
    ``"p"`` bilabial runs (over ``low``, peaking over ``high``), ``"_"`` pauses, ``"@"`` speech."""
    F = probs.shape[0]
    label = np.zeros(F, np.int64)
    label[probs[:, 2] > pause] = 2
    for a, b in _runs(probs[:, 1] > low):
        if probs[a:b, 1].max() > high:
            label[a:b] = 1
    edges = FRAME_OFFSET_S - 0.005 + np.arange(F + 1) / FRAME_RATE  # frame k covers its 10 ms
    edges[0], edges[-1] = 0.0, max(duration, float(edges[-2]) if F else 0.0)
    out: list[tuple[str, float, float]] = []
    if F == 0:
        return [("_", 0.0, duration)] if duration > 0 else []
    d = np.flatnonzero(np.diff(label)) + 1
    starts, stops = np.concatenate([[0], d]), np.concatenate([d, [F]])
    for a, b in zip(starts.tolist(), stops.tolist()):
        out.append(({0: "@", 1: "p", 2: "_"}[int(label[a])], float(edges[a]), float(edges[b])))
    return out


@lru_cache(maxsize=2)
def load_detector(folder: str | None = None) -> ClosureDetector:
    """The shipped :class:`ClosureDetector` (``motion/weights/face``) or one from ``folder``."""
    from motion.models.closure_detector import ClosureDetector
    from motion.models.config import load_module

    where = Path(folder) if folder else Path(__file__).resolve().parents[1] / "weights" / "face"
    return load_module(where, "closure_detector", expected=ClosureDetector).eval()


def closure_probs(audio: Audio, model: ClosureDetector | None = None, chunk_frames: int | None = None) -> np.ndarray:
    """``(F, 3)`` float32 class probabilities per 10 ms frame of ``audio`` (the network run
    ``chunk_frames`` (default :data:`CHUNK_FRAMES`) at a time, :func:`detector_probs`)."""
    return detector_probs(closure_features(audio), model, chunk_frames)


def detector_probs(feats: np.ndarray, model: ClosureDetector | None = None,
                   chunk_frames: int | None = None) -> np.ndarray:
    """``(F, 3)`` float32 class probabilities of features ``(F, N_BANDS)``: the network on
    ``chunk_frames`` frames at a time, each run with ``model.receptive_frames`` of context either
    side (so its own frames see what they would see in one run over all; module notes);
    ``chunk_frames`` default :data:`CHUNK_FRAMES`."""
    import torch

    model = model or load_detector()
    F = feats.shape[0]
    out = np.empty((F, 3), np.float32)
    if F == 0:
        return out
    reach = model.receptive_frames
    with _LOCK, torch.inference_mode():
        for a, b in chunks(F, chunk_frames or CHUNK_FRAMES):
            lo, hi = max(a - reach, 0), min(b + reach, F)
            logits = model(torch.from_numpy(np.ascontiguousarray(feats[lo:hi]))[None])[0]
            out[a:b] = torch.softmax(logits.float(), -1)[a - lo:b - lo].numpy()
    return out


def detect_closures(audio: Audio, model: ClosureDetector | None = None, high: float = HIGH,
                    low: float = LOW) -> PhoneTrack:
    """Bilabials and pauses of ``audio`` as a :class:`~motion.audio.phones.PhoneTrack` (module
    notes), ``source="detected"``; ``language_ok`` is False when bilabials come faster than
    speech makes them (music, noise), and with no speech at all."""
    from motion.audio.phones import PhoneSegment, PhoneTrack

    t0 = time.thread_time()
    probs = closure_probs(audio, model)
    triples = decode_closures(probs, audio.duration, high, low)
    segments = [PhoneSegment(sym, {"p": "BILABIAL", "_": "SIL", "@": "SPEECH"}[sym], s, e) for sym, s, e in triples]
    speech_s = sum(e - s for sym, s, e in triples if sym != "_")
    n_bil = sum(sym == "p" for sym, _, _ in triples)
    meta: dict[str, Any] = {"duration_s": audio.duration, "bilabials": n_bil,
                            "thresholds": {"high": high, "low": low, "pause": PAUSE}}
    if probs.shape[0] == 0 or speech_s == 0.0:
        meta["cpu_s"] = time.thread_time() - t0
        return PhoneTrack(segments, "none", False, None, meta)
    share = float((probs[:, 2] < PAUSE).mean())  # frames read as speech
    rate = n_bil / speech_s
    meta.update(speech_share=share, bilabials_per_s=rate, cpu_s=time.thread_time() - t0)
    ok = rate <= MAX_BILABIAL_RATE
    return PhoneTrack(segments, "detected", ok, share, meta)
