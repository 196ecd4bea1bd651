"""espeak-ng English phoneme mnemonics: stress marks, pauses and viseme classes.

espeak reports phonemes by its own mnemonics (``phsource/ph_english``): a leading
``'`` marks primary stress, ``,`` secondary stress; ``_``, ``_:``, ``_!`` are pauses.
Viseme classes group phonemes by the visible mouth shape (after the Preston Blair /
MPEG-4 viseme groupings used in lip-sync tools):

=============  ==========================================  =========================
class          espeak mnemonics (first letters)            mouth
=============  ==========================================  =========================
``bilabial``   p b m                                       lips closed, jaw closed
``labiodental``  f v                                       lower lip to upper teeth
``dental``     T D                                         tongue between teeth
``alveolar``   t d n l s z r (and flaps t#, d#)            jaw nearly closed
``postalveolar`` S Z tS dZ                                 lips protruded (funnel)
``velar``      k g N h x ?                                 jaw slightly open
``glide_w``    w                                           lips rounded (pucker)
``glide_j``    j                                           lips spread
``open``       a A aI aU V 0 e@ A@ a#                       jaw wide open
``mid``        E e eI 3 @ @L                               jaw half open
``close``      i I                                         jaw nearly closed, spread
``rounded``    u U oU O OI o                               lips rounded
``pause``      _ _: _!                                     rest
=============  ==========================================  =========================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

STRESS_MARKS: Final[dict[str, int]] = {"'": 2, ",": 1}

VISEME_CLASSES: Final[tuple[str, ...]] = (
    "pause", "bilabial", "labiodental", "dental", "alveolar", "postalveolar", "velar",
    "glide_w", "glide_j", "open", "mid", "close", "rounded",
)
VOWEL_CLASSES: Final[frozenset[str]] = frozenset({"open", "mid", "close", "rounded"})

# Longest-prefix table: mnemonic prefix -> class. Order does not matter (longest wins).
_PREFIX: Final[dict[str, str]] = {
    "p": "bilabial", "b": "bilabial", "m": "bilabial",
    "f": "labiodental", "v": "labiodental",
    "T": "dental", "D": "dental",
    "t": "alveolar", "d": "alveolar", "n": "alveolar", "l": "alveolar", "s": "alveolar",
    "z": "alveolar", "r": "alveolar", "R": "alveolar",
    "S": "postalveolar", "Z": "postalveolar", "tS": "postalveolar", "dZ": "postalveolar",
    "k": "velar", "g": "velar", "N": "velar", "h": "velar", "x": "velar", "?": "velar",
    "w": "glide_w", "W": "glide_w", "j": "glide_j", "C": "glide_j",
    "a": "open", "A": "open", "V": "open", "0": "open", "aI": "open", "aU": "open",
    "e@": "open", "A@": "open", "a#": "open",
    "E": "mid", "e": "mid", "eI": "mid", "3": "mid", "@": "mid", "I2": "close",
    "i": "close", "I": "close", "y": "rounded",
    "u": "rounded", "U": "rounded", "o": "rounded", "O": "rounded", "oU": "rounded",
    "OI": "rounded", "O@": "rounded", "U@": "rounded", "aU@": "open",
}


def split_stress(symbol: str) -> tuple[str, int]:
    """``"'oU"`` -> ``("oU", 2)``: strip leading stress marks, return (base, stress 0/1/2)."""
    stress = 0
    base = symbol
    while base and base[0] in STRESS_MARKS:
        stress = max(stress, STRESS_MARKS[base[0]])
        base = base[1:]
    return base, stress


def is_pause(symbol: str) -> bool:
    """True for espeak pause phonemes (``_``, ``_:``, ``_!``, ``_^_``...)."""
    return split_stress(symbol)[0].startswith("_") or not split_stress(symbol)[0]


def viseme_class(symbol: str) -> str:
    """Viseme class of an espeak mnemonic (see the module table); unknown -> ``"mid"``."""
    base, _ = split_stress(symbol)
    if not base or base.startswith("_"):
        return "pause"
    for n in range(min(len(base), 3), 0, -1):
        cls = _PREFIX.get(base[:n])
        if cls is not None:
            return cls
    return "mid"


def is_vowel(symbol: str) -> bool:
    """True when the phoneme is a vowel (its viseme class is a vowel class)."""
    return viseme_class(symbol) in VOWEL_CLASSES


def is_bilabial(symbol: str) -> bool:
    """True for p, b, m (the lips must close)."""
    return viseme_class(symbol) == "bilabial"


#: One timed phoneme: a ``{"symbol", "start", "end"}`` mapping or a ``(symbol, start_s, end_s)`` sequence.
PhonemeLike = Mapping[str, Any] | Sequence[Any]


def phoneme_triples(phonemes: Sequence[PhonemeLike] | Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """``(symbol, start_s, end_s)`` from ``load_timings()`` output (a dict with ``"phonemes"``),
    a list of ``{"symbol", "start", "end"}`` dicts, or a list of triples."""
    items = phonemes.get("phonemes", []) if isinstance(phonemes, Mapping) else phonemes
    out = []
    for p in items:
        if isinstance(p, Mapping):
            out.append((str(p["symbol"]), float(p["start"]), float(p["end"])))
        else:
            out.append((str(p[0]), float(p[1]), float(p[2])))
    return out
