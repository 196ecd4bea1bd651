"""Phone stream of real speech from pocketsphinx (CMU Sphinx English acoustic model).

:func:`recognise_phones` turns speech into timed phones in the toolkit's phoneme
convention (espeak-ng mnemonics, :mod:`motion.synthetic.tts.phonemes`; table
:data:`ARPABET_TO_ESPEAK`), so closure and viseme code reads them as it reads the
synthetic corpus' timings (:meth:`PhoneTrack.triples`, :meth:`PhoneTrack.viseme_frames`).

* No transcript: phone-loop decoding (pocketsphinx ``allphone`` search with the shipped
  English phone trigram LM), settings :data:`PHONE_LOOP`; or, with ``mode="words"``, word
  recognition (the shipped English trigram LM and CMUdict, :data:`WORDS`) and then forced
  alignment of the words heard, as if they were the transcript.
* Transcript: forced alignment, settings :data:`ALIGNMENT`: word alignment
  (``set_align_text``), then pocketsphinx's phone-level second pass (``set_alignment`` /
  ``get_alignment``). Words missing from CMUdict are pronounced by espeak-ng (mapped back
  to ARPAbet) or, without espeak, become the ``[SPEECH]`` filler. A chunk whose search
  loses the transcript is retried with wide beams, then the whole alignment; if that
  fails too, or the alignment scores under :data:`ALIGN_MIN_SCORE` (a transcript of
  other words), the phone loop runs instead, with a warning.

Preparation: 10 ms frames ``GATE_DB`` below the loud frames are pauses (energy gate).
Leading and trailing silence is not decoded, nor, by the phone loop, inner pauses of
0.5 s or more. Speech is cut into chunks of at most ``max_chunk_s`` at the quietest frame
of each chunk's second half and each chunk is decoded on its own (memory stays flat; times
are absolute). Alignment gives each chunk the longest prefix of the words left that fits
it. Every chunk is scaled to one level, padded with 0.1 s of silence and dithered (white
noise 40 dB under the speech): digital silence (log energy floor) made the recogniser miss
most of synthetic speech. Phones are kept out of pauses of 0.3 s or more (but 0.1 s),
where the aligner likes to stretch a stop's closure.

Confidence: ``score`` is the share of speech frames (energy gate) labelled as phones
rather than silence / noise; ``language_ok`` needs ``score >= MIN_PHONE_SHARE`` and at
least ``MIN_PHONE_RATE`` phones per second of speech. Noise, hum and synthetic music fail
it; all 406 real English clips tried passed; speech in another language mostly passes too
(its phones come out as the nearest English ones, which still mark lip closures).

Measured (2 shared cores, one thread, compute per second of audio; 45 real English
clips, 6 min, with MFA phone labels; bilabial recall = share of labelled p/b/m whose
middle falls inside a recognised p/b/m, precision = share of recognised p/b/m that
overlap a labelled one):

==========================================  ======  ======  =========
setting                                     s / s   recall  precision
==========================================  ======  ======  =========
phone loop, pocketsphinx defaults           0.050   0.40    0.62
phone loop, lw 2, default beams             0.048   0.47    0.59
phone loop, lw 2, ds 2, beams 1e-25/1e-20   0.033   0.43    0.59
phone loop, :data:`PHONE_LOOP`              0.023   0.42    0.59
phone loop, beams 1e-9/1e-6 (too narrow)    0.016   0.30    0.57
alignment, ds 1                             0.037   0.93    0.98
alignment, :data:`ALIGNMENT` (ds 3)         0.020   0.95    0.97
words heard, then aligned (:data:`WORDS`)   0.20*   0.80    0.92
==========================================  ======  ======  =========

(*) measured with a training run sharing the two cores: idle, expect about half. The same
45 clips, batch CMN and a fresh front end per chunk (deterministic): phone loop 0.42 / 0.59.

pocketsphinx holds the GIL: to overlap it with other work, run it in another process.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np

from motion.synthetic.tts.phonemes import VISEME_CLASSES, viseme_class

if TYPE_CHECKING:
    from pocketsphinx import Decoder

    from motion.audio.io import Audio

#: ARPAbet (CMUdict's 39 phones) -> espeak-ng mnemonic of the same viseme class.
ARPABET_TO_ESPEAK: Final[dict[str, str]] = {
    "P": "p", "B": "b", "M": "m", "F": "f", "V": "v", "TH": "T", "DH": "D",
    "T": "t", "D": "d", "N": "n", "L": "l", "S": "s", "Z": "z", "R": "r",
    "SH": "S", "ZH": "Z", "CH": "tS", "JH": "dZ", "K": "k", "G": "g", "NG": "N", "HH": "h",
    "W": "w", "Y": "j",
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E",
    "ER": "3:", "EY": "eI", "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:",
}
#: The mnemonic of silence and of every filler model (SIL, +NSN+, +SPN+, ...).
PAUSE: Final[str] = "_"
Source = Literal["recognised", "words", "aligned", "none"]
Mode = Literal["loop", "words"]
#: Energy gate: 10 ms frames this far (dB) below the loud frames (95th percentile) are pauses ...
GATE_DB: Final[float] = 40.0
#: ... and so is every frame under this level (dBFS).
FLOOR_DBFS: Final[float] = -65.0
#: ``language_ok`` thresholds: share of speech frames labelled as phones, phones per second of speech.
MIN_PHONE_SHARE: Final[float] = 0.5
MIN_PHONE_RATE: Final[float] = 4.0

#: Forced alignments scoring under this (pocketsphinx log units per phone frame, relative to
#: the best senone of each frame) do not fit the audio, and the phone loop runs instead.
#: Measured with right transcripts: read speech -16 to -43, espeak speech -23 to -50, shouted
#: emotional speech (RAVDESS) under -55 in 2 of 360 clips; with the transcript of another
#: sentence (20 clips): -46 to -67 where the search did not fail (16 of 20 fall back).
ALIGN_MIN_SCORE: Final[float] = -55.0

_SR: Final[int] = 16000
_HOP: Final[int] = 160  # pocketsphinx frame: 10 ms
_PAD: Final[int] = 10  # frames of silence padded to each side of a chunk
_LEVEL: Final[float] = 0.1  # loud frames are scaled to this RMS ...
_DITHER: Final[float] = 1e-3  # ... and white noise of this RMS added
_MARGIN: Final[int] = 15  # frames of context kept around speech
_SKIP_PAUSE: Final[int] = 50  # pauses at least this long (frames) are not decoded
_LONG_PAUSE: Final[int] = 30  # phones reach at most _HOLD frames into pauses this long
_HOLD: Final[int] = 10


def arpabet_to_espeak(phone: str) -> str:
    """``"AA1"`` -> ``"A:"``: ARPAbet (any case, stress digits dropped) to the espeak
    mnemonic; silence, fillers (``SIL``, ``+NSN+``...) and unknown symbols -> ``"_"``."""
    return ARPABET_TO_ESPEAK.get(re.sub(r"\d+$", "", phone.strip()).upper(), PAUSE)


@dataclass(frozen=True)
class PhoneSegment:
    """One phone.

    Attributes:
        symbol: espeak-ng mnemonic (``"p"``, ``"A:"``...; ``"_"`` for silence and noise).
        arpabet: the recogniser's own symbol (``"P"``, ``"AA"``, ``"SIL"``, ``"+NSN+"``).
        start: start time (s, absolute in the input audio).
        end: end time (s).
    """

    symbol: str
    arpabet: str
    start: float
    end: float


@dataclass
class PhoneTrack:
    """Result of :func:`recognise_phones`.

    Attributes:
        segments: phones in time order, tiling ``[0, duration]`` (pauses included).
        source: ``"recognised"`` (phone loop), ``"words"`` (words recognised, then aligned),
            ``"aligned"`` (transcript) or ``"none"``
            (nothing decoded: empty or silent audio).
        language_ok: False when the recogniser looks lost (no speech, noise, music):
            callers should use the voice envelope instead.
        score: share of speech frames labelled as phones (0..1); None if nothing decoded.
        meta: settings, chunks, phones per second, compute time, fallback reason, OOV words.
    """

    segments: list[PhoneSegment]
    source: Source
    language_ok: bool
    score: float | None
    meta: dict[str, Any] = field(default_factory=dict)

    def triples(self) -> list[tuple[str, float, float]]:
        """``[(symbol, start_s, end_s)]``, as ``closure_mask`` / ``bilabial_middle_frames`` take."""
        return [(s.symbol, s.start, s.end) for s in self.segments]

    def viseme_frames(self, num_frames: int, fps: float = 30.0) -> np.ndarray:
        """``(T, len(VISEME_CLASSES))`` float32 viseme weights per motion frame.

        Frame ``i`` covers ``[(i - 0.5) / fps, (i + 0.5) / fps)``; a class weighs the share
        of that window its phones cover (one-hot inside a phone, soft across a boundary);
        time without a phone counts as ``"pause"``. Rows sum to 1.
        """
        out = np.zeros((num_frames, len(VISEME_CLASSES)), np.float64)
        col = {c: k for k, c in enumerate(VISEME_CLASSES)}
        for seg in self.segments:
            lo = max(int(np.floor(seg.start * fps - 0.5)), 0)
            hi = min(int(np.ceil(seg.end * fps + 0.5)), num_frames)
            if hi <= lo:
                continue
            i = np.arange(lo, hi)
            cover = np.minimum((i + 0.5) / fps, seg.end) - np.maximum((i - 0.5) / fps, seg.start)
            out[i, col[viseme_class(seg.symbol)]] += np.clip(cover, 0.0, None) * fps
        out[:, col["pause"]] += np.clip(1.0 - out.sum(1), 0.0, None)
        return (out / out.sum(1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class DecoderSettings:
    """pocketsphinx search settings (speed against accuracy; measured in the module notes).

    Attributes:
        beam: HMM state beam (probability ratio to the best; smaller = wider, slower).
        pbeam: beam on phone exits.
        wbeam: beam on word exits (alignment).
        ds: acoustic scores every ``ds`` frames (frames between reuse them).
        topn: Gaussians per codebook in senone scores.
        lw: language weight (phone LM of the phone loop).
        silprob: probability of a silence between words (alignment).
    """

    beam: float = 1e-30
    pbeam: float = 1e-30
    wbeam: float = 1e-30
    ds: int = 2
    topn: int = 4
    lw: float = 6.5
    silprob: float = 0.005

    def config(self) -> dict[str, Any]:
        """pocketsphinx ``Decoder`` keyword arguments."""
        return {"beam": self.beam, "pbeam": self.pbeam, "wbeam": self.wbeam, "ds": self.ds,
                "topn": self.topn, "lw": self.lw, "silprob": self.silprob}


#: Phone loop: narrow beams and a light phone LM (lw 2 beat the default 6.5 on real speech;
#: with lw 6.5 these beams lose the path).
PHONE_LOOP: Final[DecoderSettings] = DecoderSettings(beam=1e-12, pbeam=1e-8, wbeam=1e-8, lw=2.0)
#: Forced alignment (scores every third frame were as accurate as every frame, at half the cost).
ALIGNMENT: Final[DecoderSettings] = DecoderSettings(ds=3)
_WIDE: Final[dict[str, float]] = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-80, "ds": 1}
#: Word recognition (``mode="words"``): pocketsphinx's default beams with the flat second pass
#: off (as accurate on real speech, a little faster); narrower beams lost most words.
WORDS: Final[dict[str, Any]] = {"fwdflat": False}

_LOCK = threading.RLock()


@lru_cache(maxsize=4)
def _decoder(settings: DecoderSettings, align: bool) -> Decoder:
    """A pocketsphinx decoder (phone loop or alignment), made once."""
    import pocketsphinx as ps

    model = ps.get_model_path()
    kw: dict[str, Any] = {"hmm": f"{model}/en-us/en-us", "dict": f"{model}/en-us/cmudict-en-us.dict",
                          "lm": None, "loglevel": "FATAL", "bestpath": False, "cmn": "batch", **settings.config()}
    if not align:
        kw["allphone"] = f"{model}/en-us/en-us-phone.lm.bin"
    return ps.Decoder(**kw)


class _AlignmentFailed(RuntimeError):
    """pocketsphinx could not align the transcript."""


class _Mismatch(_AlignmentFailed):
    """The alignment scored too low to be right (wider beams will not help)."""


@dataclass
class _Prepared:
    """Audio as decoded: 16 kHz samples, 10 ms frame levels, gate and gain."""

    x: np.ndarray  # (N,) float32 (or SpilledSamples: on disk, read by range)
    db: np.ndarray  # (F,) frame level, dBFS
    gate: np.ndarray  # (F,) bool, speech
    gain: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.x) / _SR

    def pcm(self, a: int, b: int) -> bytes:
        """16-bit PCM of frames ``[a, b)``: scaled, padded with ``_PAD`` frames, dithered."""
        pad = _PAD * _HOP
        y = np.zeros((b - a) * _HOP + 2 * pad, np.float32)
        seg = self.x[a * _HOP: b * _HOP] * self.gain
        y[pad: pad + len(seg)] = seg
        y += _DITHER * np.random.default_rng(a).standard_normal(len(y), np.float32)
        return (np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _prepare(audio: Audio) -> _Prepared:
    """Resample to 16 kHz and gate (module notes). Samples on disk
    (:func:`motion.audio.io.open_audio`) stay there: the levels are measured chunk by chunk and
    :meth:`_Prepared.pcm` reads each decoded stretch when it is decoded."""
    from motion.audio._stream import SpilledSamples

    if isinstance(audio.samples, SpilledSamples) and audio.sr == _SR:
        x = audio.samples
    else:
        x = np.asarray(audio.samples, np.float32)
    if audio.sr != _SR and len(x):
        from motion.audio.io import load_audio_from_array

        x = load_audio_from_array(x, audio.sr, target_sr=_SR, allow_silent=True).samples
    n, full = -(-len(x) // _HOP), len(x) // _HOP
    ms = np.empty(full, np.float64)
    step = 1 << 14  # frames (164 s) at a time
    for f0 in range(0, full, step):
        f1 = min(f0 + step, full)
        frames = x[f0 * _HOP: f1 * _HOP].reshape(f1 - f0, _HOP)
        ms[f0:f1] = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / _HOP
    if n > full:  # last, partial frame (zero-padded)
        tail = x[full * _HOP:].astype(np.float64)
        ms = np.append(ms, tail @ tail / _HOP)
    db = 10.0 * np.log10(ms + 1e-12)
    if n == 0:
        return _Prepared(x, db, np.zeros(0, bool), 1.0)
    ref = float(np.percentile(db, 95))
    gate = db > max(ref - GATE_DB, FLOOR_DBFS)
    return _Prepared(x, db, gate, _LEVEL / 10.0 ** (ref / 20.0))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop)]`` of the True runs of a 1-D bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _chunks(p: _Prepared, max_frames: int, skip: int = _SKIP_PAUSE) -> list[tuple[int, int]]:
    """Frame ranges to decode: gated speech with ``_MARGIN`` context, inner pauses of
    ``skip`` frames or more left out, each cut to ``max_frames`` at its quietest frame."""
    keep = np.zeros(len(p.gate), bool)
    for a, b in _runs(p.gate):
        keep[max(a - _MARGIN, 0): b + _MARGIN] = True
    for a, b in _runs(~keep):
        if b - a < skip and 0 < a and b < len(keep):
            keep[a:b] = True
    out = []
    for a, b in _runs(keep):
        while b - a > max_frames:
            lo = a + max_frames // 2
            cut = lo + int(np.argmin(p.db[lo: a + max_frames]))
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def _tile(items: list[tuple[str, int, int]], n_frames: int, duration: float) -> list[PhoneSegment]:
    """Phones ``(arpabet, start_frame, stop_frame)`` (absolute) to segments tiling
    ``[0, duration]``: overlaps cut, gaps filled with ``SIL``, adjacent ``SIL`` merged."""
    out: list[PhoneSegment] = []

    def add(name: str, a: int, b: int) -> None:
        start = round(a * 0.01, 6)
        if out and name == "SIL" and out[-1].arpabet == "SIL":
            start = out.pop().start
        out.append(PhoneSegment(arpabet_to_espeak(name), name, start, min(round(b * 0.01, 6), duration)))

    cursor = 0
    for name, a, b in sorted(items, key=lambda it: it[1]):
        a, b = max(a, cursor), min(b, n_frames)
        if b <= a:
            continue
        if a > cursor:
            add("SIL", cursor, a)
        add(name, a, b)
        cursor = b
    if cursor < n_frames:
        add("SIL", cursor, n_frames)
    if out:
        out[-1] = replace(out[-1], end=duration)
    return out


def _out_of_pauses(items: list[tuple[str, int, int]], gate: np.ndarray) -> list[tuple[str, int, int]]:
    """Phones cut back to reach at most ``_HOLD`` frames into gated pauses of ``_LONG_PAUSE``
    frames or more (the aligner likes to stretch a stop's closure over a pause: a phone across
    a pause, or ending near its end, keeps the part before the release); other phones
    keep only ``_HOLD`` frames after the pause begins."""
    runs = [(a, b) for a, b in _runs(~gate) if b - a >= _LONG_PAUSE]
    if not runs:
        return items
    ends = np.array([b for _, b in runs])
    out = []
    for name, s, e in items:
        k = int(np.searchsorted(ends, s, side="right"))
        while arpabet_to_espeak(name) != PAUSE and k < len(runs) and runs[k][0] < e and s < e:
            a, b = runs[k]
            if e < b - _HOLD:  # ends in the pause
                e = min(e, a + _HOLD)
            else:  # ends at or after its end: a stop closure held until the release
                s = max(s, b - _HOLD)
            k += 1
        if e > s:
            out.append((name, s, e))
    return out


def _track(p: _Prepared, items: list[tuple[str, int, int]], source: Source, meta: dict[str, Any]) -> PhoneTrack:
    """Tile ``items`` and score them against the energy gate."""
    items = _out_of_pauses(items, p.gate)
    is_phone = np.zeros(len(p.gate), bool)
    n_phones = 0
    for name, a, b in items:
        if arpabet_to_espeak(name) != PAUSE:
            is_phone[a:b] = True
            n_phones += 1
    speech_s = max(float(p.gate.sum()) * 0.01, 1e-9)
    share = float(is_phone[p.gate].mean())
    meta.update(phone_share=share, phones_per_s=n_phones / speech_s)
    ok = share >= MIN_PHONE_SHARE and n_phones / speech_s >= MIN_PHONE_RATE
    return PhoneTrack(_tile(items, len(p.gate), p.duration), source, ok, share, meta)


def recognise_phones(
    audio: Audio,
    transcript: str | None = None,
    *,
    mode: Mode = "loop",
    settings: DecoderSettings | None = None,
    max_chunk_s: float = 20.0,
) -> PhoneTrack:
    """Timed phones of English speech (see the module notes).

    Args:
        audio: speech, any sample rate (resampled to 16 kHz here).
        transcript: the words spoken, if known (case and punctuation ignored): forced
            alignment instead of phone recognition.
        mode: without a transcript, ``"loop"`` (phone loop, fast) or ``"words"`` (English word
            recognition with the shipped trigram LM, then alignment of the words heard:
            about twice the bilabial recall, ten times the compute; :data:`WORDS`).
        settings: search settings; default :data:`ALIGNMENT` with a transcript, else
            :data:`PHONE_LOOP` (also used when alignment falls back to the loop).
        max_chunk_s: longest stretch decoded at once (s).

    Returns:
        :class:`PhoneTrack`; its segments tile ``[0, audio.duration]``.
    """
    if mode not in ("loop", "words"):
        raise ValueError(f"mode must be 'loop' or 'words', got {mode!r}")
    t0 = time.thread_time()
    p = _prepare(audio)
    meta: dict[str, Any] = {"duration_s": p.duration}
    max_frames = max(int(max_chunk_s * 100), 100)
    track = None
    if p.gate.any() and not (transcript and transcript.strip()) and mode == "words":
        transcript = _recognise_words(p, max_frames, meta)
        meta["words_heard"] = transcript
    if not p.gate.any():
        track = PhoneTrack(_tile([], len(p.gate), p.duration), "none", False, None, meta)
    elif transcript and transcript.strip():
        st = settings or ALIGNMENT
        meta["settings"] = asdict(st)
        for attempt in (st, replace(st, **_WIDE)):  # wide: a chunk may have taken too few words
            try:
                track = _align(p, transcript, attempt, max_frames, meta)
                break
            except _AlignmentFailed as exc:
                meta["fallback"] = str(exc)
                if isinstance(exc, _Mismatch):
                    break
        if track is None:
            warnings.warn(f"phone alignment failed ({meta['fallback']}); recognising phones without "
                          "the transcript", stacklevel=2)
            settings = None
    if track is None:
        st = settings or PHONE_LOOP
        meta["settings"] = asdict(st)
        track = _recognise(p, st, max_frames, meta)
    elif "words_heard" in meta and track.source == "aligned":
        track = replace(track, source="words")
    meta["cpu_s"] = time.thread_time() - t0
    return track


@lru_cache(maxsize=1)
def _word_decoder() -> Decoder:
    """pocketsphinx's English word recogniser (acoustic model, CMUdict, trigram LM; :data:`WORDS`)."""
    import pocketsphinx as ps

    model = ps.get_model_path()
    return ps.Decoder(hmm=f"{model}/en-us/en-us", dict=f"{model}/en-us/cmudict-en-us.dict",
                      lm=f"{model}/en-us/en-us.lm.bin", loglevel="FATAL", cmn="batch", **WORDS)


def _recognise_words(p: _Prepared, max_frames: int, meta: dict[str, Any]) -> str:
    """The words heard, chunk by chunk (``words`` mode), joined with spaces."""
    words: list[str] = []
    for a, b in _chunks(p, max_frames):
        with _LOCK:
            dec = _word_decoder()
            _run(dec, p.pcm(a, b))
            hyp = dec.hyp()
        if hyp is not None and hyp.hypstr.strip():
            words.append(hyp.hypstr.strip())
    return " ".join(words)


def _run(dec: Decoder, pcm: bytes) -> None:
    """Decode ``pcm`` as one utterance, from a fresh front end: the noise and cepstral-mean
    estimates would otherwise carry over from the last utterance decoded, and the same audio
    would not always give the same phones."""
    dec.reinit_feat()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()


def _recognise(p: _Prepared, settings: DecoderSettings, max_frames: int, meta: dict[str, Any]) -> PhoneTrack:
    """Phone-loop decoding, chunk by chunk."""
    chunks = _chunks(p, max_frames)
    items: list[tuple[str, int, int]] = []
    for a, b in chunks:
        with _LOCK:
            dec = _decoder(settings, False)
            _run(dec, p.pcm(a, b))
            raw = [(s.word, s.start_frame, s.end_frame + 1) for s in dec.seg()]
        items += [(w, max(sf - _PAD + a, a), min(ef - _PAD + a, b)) for w, sf, ef in raw]
    meta.update(chunks=len(chunks), decoded_s=sum(b - a for a, b in chunks) * 0.01)
    return _track(p, [it for it in items if it[2] > it[1]], "recognised", meta)


# espeak-ng mnemonic (stress stripped, longest prefix wins) -> ARPAbet, for words missing from
# CMUdict. r-coloured diphthongs become two phones; ``;`` (palatalisation) is dropped.
_ESPEAK_TO_ARPABET: Final[dict[str, str]] = {
    **{v: k for k, v in ARPABET_TO_ESPEAK.items()},
    "@": "AH", "@L": "AH L", "3": "ER", "a#": "AH", "aa": "AE", "A": "AA", "0": "AA", "O": "AO",
    "o@": "AO R", "O@": "AO R", "A@": "AA R", "e@": "EH R", "i@": "IH R", "i@3": "IH R",
    "U@": "UH R", "aI@": "AY ER", "aI3": "AY ER", "e": "EH", "i": "IY", "I": "IH", "o": "OW",
    "u": "UW", "y": "UW", "t#": "T", "d#": "D", "r-": "R", "n-": "N", "l-": "L", "?": "T",
    "x": "K", "C": "HH", ";": "",
}


def espeak_to_arpabet(symbols: list[str]) -> list[str]:
    """ARPAbet phones of espeak mnemonics (stress marks dropped, pauses skipped)."""
    from motion.synthetic.tts.phonemes import is_pause, split_stress

    out: list[str] = []
    for sym in symbols:
        base = split_stress(sym)[0]
        if is_pause(sym):
            continue
        for n in range(min(len(base), 3), 0, -1):
            if base[:n] in _ESPEAK_TO_ARPABET:
                out += _ESPEAK_TO_ARPABET[base[:n]].split()
                break
    return out


@lru_cache(maxsize=1024)
def _espeak_pronunciation(word: str) -> str | None:
    """CMUdict-style pronunciation of ``word`` by espeak-ng, or None without espeak."""
    try:
        from motion.synthetic.tts import synthesize

        phones = espeak_to_arpabet([p.symbol for p in synthesize(word, voice="en-us").phonemes])
    except Exception:  # espeak missing or failing: the caller uses the [SPEECH] filler
        return None
    return " ".join(phones) or None


_SPEECH_FILLER: Final[str] = "[SPEECH]"  # CMUdict noise word for any speech (+SPN+)
_FILLERS: Final[dict[str, str]] = {"[NOISE]": "+NSN+", _SPEECH_FILLER: "+SPN+"}


def _words(dec: Decoder, transcript: str, meta: dict[str, Any]) -> list[str]:
    """Dictionary words of ``transcript``; out-of-vocabulary words get espeak's
    pronunciation (added to the decoder) or become ``[SPEECH]``."""
    words: list[str] = []
    oov: list[str] = []
    for w in re.findall(r"[a-z0-9']+", transcript.lower()):
        w = w.strip("'")
        if w and dec.lookup_word(w) is None:
            oov.append(w)
            pron = _espeak_pronunciation(w)
            if pron is None:
                w = _SPEECH_FILLER
            else:
                dec.add_word(w, pron, True)
        if w:
            words.append(w)
    if oov:
        meta["oov"] = oov
    return words


def _word_pass(dec: Decoder, pcm: bytes, words: list[str], partial: bool) -> int:
    """Word alignment of ``pcm`` to ``words``, or to a prefix of them if ``partial``
    (an FSG whose every word boundary may end the chunk); returns the words used."""
    try:
        if partial:
            n = len(words)
            # any word boundary may lead to the final state, through the (padded) end's silence
            arcs = [(j, j + 1, 1.0, w) for j, w in enumerate(words)]
            arcs += [(j, n + 1, 1.0, "<sil>") for j in range(1, n + 1)]
            dec.add_fsg("_chunk", dec.create_fsg("_chunk", 0, n + 1, arcs))
            dec.activate_search("_chunk")
        else:
            dec.set_align_text(" ".join(words))
        _run(dec, pcm)
        segs = dec.seg()
    except RuntimeError as exc:
        raise _AlignmentFailed(str(exc)) from None
    if segs is None:
        raise _AlignmentFailed("the search lost the transcript")
    fillers = {"<s>", "</s>", "<sil>", *_FILLERS} - set(words)
    return sum(s.word not in fillers for s in segs)


def _phone_pass(dec: Decoder, pcm: bytes) -> list[tuple[str, int, int, float]]:
    """pocketsphinx's phone-level second pass over the last word alignment:
    ``[(arpabet, start_frame, stop_frame, acoustic score)]``."""
    try:
        dec.set_alignment()
        _run(dec, pcm)
        al = dec.get_alignment()
    except RuntimeError as exc:
        raise _AlignmentFailed(str(exc)) from None
    if al is None:
        raise _AlignmentFailed("no phone alignment")
    return [(ph.name, ph.start, ph.start + ph.duration, float(ph.score)) for ph in al.phones()]


def _align_chunk(dec: Decoder, pcm: bytes, words: list[str], partial: bool
                 ) -> tuple[int, list[tuple[str, int, int, float]]]:
    """Both passes over one chunk: words used, phones ``(arpabet, start, stop, score)``."""
    used = _word_pass(dec, pcm, words, partial)
    return used, _phone_pass(dec, pcm)


def _align(p: _Prepared, transcript: str, settings: DecoderSettings, max_frames: int,
           meta: dict[str, Any]) -> PhoneTrack:
    """Forced alignment of ``transcript``, chunk by chunk (leading and trailing silence left
    out). A chunk takes the longest prefix of the words left that fits it; the number of
    candidate words comes from the mean speaking rate. A chunk whose search fails is
    retried with wide beams."""
    chunks = _chunks(p, max_frames, skip=len(p.gate))
    speech = [int(p.gate[a:b].sum()) for a, b in chunks]
    items: list[tuple[str, int, int]] = []
    total, frames, i, retried = 0.0, 0, 0, 0
    with _LOCK:
        dec = _decoder(settings, True)
        words = _words(dec, transcript, meta)
        if not words:
            raise _AlignmentFailed("no words in the transcript")
        rate = len(words) / max(sum(speech), 1)
        for k, (a, b) in enumerate(chunks):
            last, left = k == len(chunks) - 1, len(words) - i
            if left == 0:
                break
            cand = words[i:] if last else words[i: i + min(left, int(1.5 * rate * speech[k]) + 5)]
            pcm, partial = p.pcm(a, b), not last and len(cand) > 1
            try:
                used, phones = _align_chunk(dec, pcm, cand, partial)
            except _AlignmentFailed:
                if replace(settings, **_WIDE) == settings:
                    raise
                wide = _decoder(replace(settings, **_WIDE), True)
                for w in cand:  # its dictionary needs the OOV words too
                    if w not in _FILLERS and wide.lookup_word(w) is None:
                        wide.add_word(w, dec.lookup_word(w), True)
                used, phones = _align_chunk(wide, pcm, cand, partial)
                retried += 1
            i += used
            for name, s, e, score in phones:
                if arpabet_to_espeak(name) != PAUSE:
                    total, frames = total + score, frames + e - s
                s, e = max(s - _PAD + a, a), min(e - _PAD + a, b)
                if e > s:
                    items.append((name, s, e))
    if i < len(words):
        raise _AlignmentFailed(f"{len(words) - i} words of the transcript were left over")
    meta.update(chunks=len(chunks), retried_chunks=retried, decoded_s=sum(b - a for a, b in chunks) * 0.01,
                align_score=total / max(frames, 1))
    if meta["align_score"] < ALIGN_MIN_SCORE:
        raise _Mismatch(f"the transcript does not fit the audio: alignment score "
                               f"{meta['align_score']:.0f} per frame < {ALIGN_MIN_SCORE:.0f}")
    return _track(p, items, "aligned", meta)
