"""Phone labels of real recordings: Praat TextGrid, festival / HTK ``.lab``, TIMIT ``.phn``.

Every reader returns ``[(symbol, start_s, end_s)]`` with the symbol in the toolkit's phoneme
convention (espeak-ng mnemonics, :mod:`motion.synthetic.tts.phonemes`), so the closure and viseme
functions read them as they read the synthetic corpus' timings. ARPAbet labels (MFA, CMU
ARCTIC, TIMIT; any case, stress digits dropped) are mapped with
:data:`motion.audio.phones.ARPABET_TO_ESPEAK`; silence labels (empty, ``sil``, ``sp``,
``spn``, ``pau``, ``h#``, ...) become the pause ``_``.

* TextGrid (short or long text format, read by ``praatio``): the tier named ``phones`` /
  ``phone`` / ``phonemes`` (any case), else the tier with the most intervals;
* festival ``.lab`` (``END_S COLOUR PHONE`` lines after a ``#`` line: each phone ends at
  its time and starts where the previous one ended) and HTK ``.lab`` (``START END PHONE``
  in 100 ns units);
* TIMIT ``.phn`` (``START END PHONE`` in samples at 16 kHz).
"""

from __future__ import annotations

import re
from pathlib import Path

from motion.errors import MotionError

Phone = tuple[str, float, float]
LABEL_SUFFIXES = (".textgrid", ".lab", ".phn")
#: Silence / non-speech labels of aligners and corpora.
SILENCE = frozenset({"", "sil", "sp", "spn", "pau", "h#", "#", "epi", "<sil>", "<p:>", "noise", "nsn"})
_PHONE_TIERS = ("phones", "phone", "phonemes", "phoneme")


class PhoneLabelError(MotionError, ValueError):
    """A phone label file that cannot be read (message names the file and the problem)."""


def normalize_phone(label: str) -> str:
    """The toolkit's symbol for one label: ARPAbet -> espeak mnemonic, silence -> ``_``,
    anything else unchanged."""
    from motion.audio.phones import ARPABET_TO_ESPEAK

    s = label.strip()
    if s.lower() in SILENCE or s.lower().strip("<>") in SILENCE:
        return "_"
    base = re.sub(r"\d+$", "", s).upper()
    return ARPABET_TO_ESPEAK.get(base, s)


def read_phone_labels(path: str | Path) -> list[Phone]:
    """``[(symbol, start_s, end_s)]`` of a label file (module notes), in time order.

    Raises:
        FileNotFoundError: no such file.
        PhoneLabelError: unknown suffix or unreadable content.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"phone label file not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".textgrid":
            raw = _textgrid(p)
        elif suffix == ".lab":
            raw = _lab(p)
        elif suffix == ".phn":
            raw = [(a / 16000.0, b / 16000.0, t) for a, b, t in _columns(p, 3)]
        else:
            raise PhoneLabelError(f"{p}: unknown phone label suffix {p.suffix!r}; use one of "
                                  f"{', '.join(LABEL_SUFFIXES)}")
    except (ValueError, IndexError) as exc:
        if isinstance(exc, PhoneLabelError):
            raise
        raise PhoneLabelError(f"{p}: not a readable {suffix} phone label file ({exc})") from None
    return [(normalize_phone(t), float(a), float(b)) for a, b, t in sorted(raw) if b > a]


def _textgrid(p: Path) -> list[tuple[float, float, str]]:
    from praatio import textgrid

    tg = textgrid.openTextgrid(str(p), includeEmptyIntervals=True)
    tiers = {name: tg.getTier(name) for name in tg.tierNames}
    tiers = {k: v for k, v in tiers.items() if hasattr(v, "entries") and isinstance(v, textgrid.IntervalTier)}
    if not tiers:
        raise PhoneLabelError(f"{p}: no interval tier")
    name = next((k for k in tiers if k.lower() in _PHONE_TIERS), None)
    if name is None:
        name = max(tiers, key=lambda k: len(tiers[k].entries))
    return [(float(e.start), float(e.end), str(e.label)) for e in tiers[name].entries]


def _columns(p: Path, n: int) -> list[tuple[float, float, str]]:
    rows = []
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= n:
            rows.append((float(parts[0]), float(parts[1]), parts[2]))
    return rows


def _lab(p: Path) -> list[tuple[float, float, str]]:
    lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    if any(line.strip() == "#" for line in lines):  # festival: "END COLOUR PHONE" after '#'
        body = lines[[line.strip() for line in lines].index("#") + 1:]
        out, prev = [], 0.0
        for line in body:
            parts = line.split()
            if len(parts) >= 3:
                end = float(parts[0])
                out.append((prev, end, parts[2]))
                prev = end
        return out
    return [(a / 1e7, b / 1e7, t) for a, b, t in _columns(p, 3)]  # HTK: 100 ns units
