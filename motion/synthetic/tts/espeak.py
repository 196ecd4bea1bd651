"""Speech synthesis with phoneme timing through libespeak-ng (ctypes, no CLI).

:func:`synthesize` returns the waveform (22.05 kHz, espeak's native rate) with the
phoneme and word events espeak reports while synthesising, which give exact viseme
timing for the face.

Determinism
-----------
libespeak-ng keeps synthesis state in C statics between calls (pitch flutter index,
glottal phase, AGC, resonators; ``wavegen.c``) that ``espeak_Initialize`` does not reset,
so the same text synthesised twice in one process gives slightly different samples.
Only the first synthesis after initialisation is reproducible. Where ``os.fork``
exists, :func:`synthesize` therefore runs every synthesis in a forked child of a
process that initialised the library but never synthesises itself: every call starts
from the same state, and identical inputs give identical samples in any process. The
fork costs a few milliseconds. Without ``os.fork`` (Windows) synthesis runs in
process and is not bit-reproducible. Voices with breath or Klatt noise (e.g. ``+f3``)
also draw from espeak's random generator, which ``espeak_Initialize`` seeds from the
clock (``speech.c``); it is re-seeded before every synthesis from ``seed`` (default: a
hash of the text, voice and parameters) through ``espeak_ng_SetRandSeed``.

The library is process-global and not thread-safe: all calls hold one lock.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

import motion.synthetic.tts.speak_lib as sl
from motion.synthetic.tts.phonemes import is_pause


class PhonemeEvent(NamedTuple):
    """One phoneme: espeak mnemonic (with a leading ``'``/``,`` stress mark), times in s."""

    symbol: str
    start: float
    end: float


class WordEvent(NamedTuple):
    """One word of the input text with its time span in seconds."""

    word: str
    start: float
    end: float


@dataclass
class Synthesis:
    """Result of :func:`synthesize`.

    Attributes:
        samples: ``(N,)`` float32 mono waveform in [-1, 1].
        sr: sample rate in Hz (espeak's native 22050).
        phonemes: phoneme events in time order; ``end`` is the next event's start, the
            last ends at the end of the audio. Pauses are ``_``, ``_:``...
        words: words in time order; a word ends where its last phoneme ends.
        sentences: start time (s) of each sentence.
        text: the input text.
        voice: espeak voice name used (e.g. ``"en+m3"``).
        params: the espeak parameters used.
    """

    samples: np.ndarray
    sr: int
    phonemes: list[PhonemeEvent]
    words: list[WordEvent]
    sentences: list[float]
    text: str
    voice: str
    params: dict[str, int] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / self.sr


_CAN_FORK: bool = hasattr(os, "fork")


class _State:
    """The loaded library (once per process) and the callback's buffers."""

    lock: ClassVar[threading.RLock] = threading.RLock()
    lib: ClassVar[ctypes.CDLL | None] = None
    sr: ClassVar[int] = 0
    description: ClassVar[str] = ""
    callback: ClassVar[Any] = None  # keeps the CFUNCTYPE object alive
    audio: ClassVar[list[np.ndarray]] = []
    events: ClassVar[list[tuple[int, int, int, int, Any]]] = []


def _on_synth(wav: Any, numsamples: int, events: Any) -> int:
    """``t_espeak_callback``: collect audio and events; return 0 to continue."""
    if numsamples > 0 and wav:
        _State.audio.append(np.ctypeslib.as_array(wav, (numsamples,)).copy())
    i = 0
    while events:
        ev = events[i]
        if ev.type == sl.EVENT_LIST_TERMINATED:
            break
        if ev.type == sl.EVENT_PHONEME:
            value: Any = bytes(ev.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
        elif ev.type in (sl.EVENT_WORD, sl.EVENT_SENTENCE):
            value = int(ev.id.number)
        else:
            value = None
        _State.events.append((int(ev.type), int(ev.audio_position), int(ev.text_position),
                              int(ev.length), value))
        i += 1
    return 0


def _ensure_loaded() -> ctypes.CDLL:
    """Load and initialise the library once per process (caller holds the lock)."""
    if _State.lib is None:
        lib, sr, desc = sl.load_library()
        _State.callback = sl.SynthCallback(_on_synth)
        lib.espeak_SetSynthCallback(_State.callback)
        _State.lib, _State.sr, _State.description = lib, sr, desc
    return _State.lib


def library_info() -> str:
    """Which libespeak-ng is in use, e.g. ``'.../libespeak-ng.so (espeak-ng 1.52.0)'``."""
    with _State.lock:
        _ensure_loaded()
        return _State.description


def _synth_raw(text: str, voice: str, params: dict[str, int]) -> tuple[np.ndarray, list[Any]]:
    """Synthesise in this process; returns int16 samples and raw events."""
    lib = _ensure_loaded()
    if hasattr(lib, "espeak_ng_SetRandSeed"):
        lib.espeak_ng_SetRandSeed(int(params["seed"]))
    if lib.espeak_SetVoiceByName(voice.encode()) != sl.EE_OK:
        raise ValueError(f"espeak-ng has no voice {voice!r}; see motion.synthetic.tts.list_voices()")
    for key, pid in (("rate", sl.PARAM_RATE), ("volume", sl.PARAM_VOLUME),
                     ("pitch", sl.PARAM_PITCH), ("range", sl.PARAM_RANGE),
                     ("wordgap", sl.PARAM_WORDGAP)):
        lib.espeak_SetParameter(pid, int(params[key]), 0)
    _State.audio, _State.events = [], []
    data = text.encode("utf-8")
    buf = ctypes.create_string_buffer(data)
    err = lib.espeak_Synth(buf, len(data) + 1, 0, sl.POS_CHARACTER, 0, sl.CHARS_UTF8, None, None)
    lib.espeak_Synchronize()
    if err != sl.EE_OK:
        raise RuntimeError(f"espeak_Synth failed with error {err}")
    audio = np.concatenate(_State.audio) if _State.audio else np.zeros(0, np.int16)
    return audio.astype(np.int16), list(_State.events)


def _synth_forked(text: str, voice: str, params: dict[str, int]) -> tuple[np.ndarray, list[Any]]:
    """Run :func:`_synth_raw` in a forked child so the parent's library state stays fresh."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: synthesise, send the pickled result, exit without cleanup
        code = 0
        try:
            os.close(rfd)
            try:
                payload: tuple[str, Any] = ("ok", _synth_raw(text, voice, params))
            except BaseException as exc:  # noqa: BLE001 - forwarded to the parent
                payload = ("error", (type(exc).__name__, str(exc)))
            with os.fdopen(wfd, "wb") as fh:
                fh.write(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        blob = fh.read()
    _, status = os.waitpid(pid, 0)
    if not blob:
        raise RuntimeError(f"espeak synthesis child exited without a result (status {status})")
    kind, value = pickle.loads(blob)  # our own child's output
    if kind == "error":
        name, msg = value
        raise (ValueError if name == "ValueError" else RuntimeError)(msg)
    return value


def _build(text: str, sr: int, audio: np.ndarray, events: list[Any]) -> tuple[
        list[PhonemeEvent], list[WordEvent], list[float]]:
    """Turn raw events into phoneme spans, word spans and sentence starts (seconds)."""
    dur = len(audio) / sr
    ph_raw = sorted(((min(pos / 1000.0, dur), val) for typ, pos, _, _, val in events
                     if typ == sl.EVENT_PHONEME and val), key=lambda e: e[0])
    phonemes: list[PhonemeEvent] = []
    for i, (t0, sym) in enumerate(ph_raw):
        t1 = ph_raw[i + 1][0] if i + 1 < len(ph_raw) else dur
        phonemes.append(PhonemeEvent(sym, t0, max(t0, t1)))
    word_raw = [(min(pos / 1000.0, dur), tpos, length) for typ, pos, tpos, length, _ in events
                if typ == sl.EVENT_WORD]
    words: list[WordEvent] = []
    for i, (t0, tpos, length) in enumerate(word_raw):
        nxt = word_raw[i + 1][0] if i + 1 < len(word_raw) else dur + 1.0
        # a word's phonemes: non-pause phonemes starting in [t0, next word start)
        own = [p for p in phonemes if t0 <= p.start < nxt and not is_pause(p.symbol)]
        # espeak emits a word event a few ms before its first phoneme: start the word there
        start = own[0].start if own else t0
        t1 = max((p.end for p in own), default=start)
        word = text[max(tpos - 1, 0): max(tpos - 1, 0) + length]  # text_position is 1-based
        words.append(WordEvent(word, start, t1))
    sentences = [min(pos / 1000.0, dur) for typ, pos, *_ in events if typ == sl.EVENT_SENTENCE]
    return phonemes, words, sentences


def synthesize(
    text: str,
    voice: str = "en+m3",
    rate_wpm: int = 175,
    pitch: int = 50,
    pitch_range: int = 50,
    amplitude: int = 100,
    word_gap: int = 0,
    seed: int | None = None,
) -> Synthesis:
    """Synthesise ``text`` with espeak-ng and report phoneme and word timing.

    Args:
        text: UTF-8 text (plain, not SSML).
        voice: espeak voice, optionally with a variant: ``"en+m3"``, ``"en-us+f3"``...
        rate_wpm: speaking rate in words per minute (espeak clamps to 80..450).
        pitch: base pitch 0..100 (50 = the voice's default).
        pitch_range: pitch range 0..100 (0 = monotone, 50 = default).
        amplitude: volume 0..200 (100 = default).
        word_gap: extra pause between words in units of 10 ms.
        seed: seed of espeak's noise generator (breathy / Klatt voices); default: a
            hash of the other inputs, so the same inputs give the same samples.

    Returns:
        :class:`Synthesis` with ``samples`` ``(N,)`` float32 at ``sr`` = 22050 Hz.

    Raises:
        EspeakNotAvailable: the library cannot be loaded.
        ValueError: unknown voice or empty text.
    """
    if not text or not text.strip():
        raise ValueError("synthesize() needs non-empty text")
    params = {
        "rate": int(np.clip(rate_wpm, 80, 450)),
        "volume": int(np.clip(amplitude, 0, 200)),
        "pitch": int(np.clip(pitch, 0, 100)),
        "range": int(np.clip(pitch_range, 0, 100)),
        "wordgap": int(max(word_gap, 0)),
    }
    if seed is None:
        seed = zlib.crc32(repr((text, voice, sorted(params.items()))).encode()) & 0x7FFFFFFF
    params["seed"] = int(seed) & 0x7FFFFFFF
    with _State.lock:
        _ensure_loaded()
        sr = _State.sr
        # never synthesise in this process when we can fork: that would change the state
        # every later child starts from (see the module docstring)
        audio, events = (_synth_forked if _CAN_FORK else _synth_raw)(text, voice, params)
    phonemes, words, sentences = _build(text, sr, audio, events)
    samples = (audio.astype(np.float32) / 32768.0).astype(np.float32)
    return Synthesis(samples, sr, phonemes, words, sentences, text, voice, params)
