"""Voices and variants known to libespeak-ng (``espeak_ListVoices``)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import motion.synthetic.tts.speak_lib as sl
from motion.synthetic.tts.espeak import _ensure_loaded, _State


@dataclass(frozen=True)
class VoiceInfo:
    """An espeak voice or variant as listed by ``espeak_ListVoices``."""

    name: str
    identifier: str
    languages: tuple[str, ...]
    gender: str
    age: int


def _languages(ptr: int | None) -> tuple[str, ...]:
    """Parse ``espeak_VOICE.languages``: (priority byte, NUL-terminated name)*, then 0."""
    out: list[str] = []
    if not ptr:
        return ()
    off = 0
    while off < 1024:
        prio = ctypes.string_at(ptr + off, 1)[0]
        if prio == 0:
            break
        name = ctypes.string_at(ptr + off + 1)
        out.append(name.decode("utf-8", "replace"))
        off += 2 + len(name)
    return tuple(out)


def list_voices(variants: bool = False) -> list[VoiceInfo]:
    """Voices espeak-ng knows (``variants=True``: the ``+variant`` suffixes, e.g. ``m3``).

    A variant combines with a language voice as ``"<language>+<variant>"`` (``"en+f3"``).
    """
    spec = None
    if variants:
        spec = sl.EspeakVoice()
        spec.languages = ctypes.cast(ctypes.c_char_p(b"variant"), ctypes.c_void_p)
    with _State.lock:
        lib = _ensure_loaded()
        arr = lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        out: list[VoiceInfo] = []
        i = 0
        while arr and arr[i]:
            v = arr[i].contents
            ident = (v.identifier or b"").decode("utf-8", "replace")
            name = ident.split("/")[-1] if variants else (v.name or b"").decode("utf-8", "replace")
            out.append(VoiceInfo(name, ident, _languages(v.languages),
                                 {1: "male", 2: "female"}.get(v.gender, "none"), int(v.age)))
            i += 1
    return out
