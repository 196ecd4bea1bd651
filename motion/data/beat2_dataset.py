"""Index a BEAT2-layout folder (real BEAT2 or the synthetic corpus) and load its clips.

Expected layout (the folder itself, or a child such as ``beat_english_v2.0.0``)::

    smplxflame_30/<id>.npz     required: SMPL-X motion (read with read_beat2)
    train_test_split.csv       required: id,type (train / val / test / additional)
    wave16k/<id>.wav           16 kHz speech (required unless require_audio=False)
    textgrid/<id>.TextGrid     optional word/phone alignment
    metadata.csv               optional (ours): speaker, emotion, intensity, text...
    phonemes/<id>.json         optional (ours): phoneme and word timings

Labels: ``metadata.csv`` wins when present. Otherwise ids are parsed the BEAT2 way,
``{speaker_id}_{name}_{kind}_{start}_{end}``; for speech recordings (kind 0) the
recording number gives the emotion as in the BEAT dataset: 0-64 neutral, 65-72
happiness, 73-80 anger, 81-86 sadness, 87-94 contempt, 95-102 surprise, 103-110 fear,
111-118 disgust (mapped to :data:`motion.types.EMOTIONS` names). Conversations (kind 1)
have no emotion label.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from motion.errors import MotionError
from motion.types import canonical_emotion

if TYPE_CHECKING:  # pragma: no cover
    from motion.audio import Audio
    from motion.container import Motion

MOTION_DIR: Final[str] = "smplxflame_30"
WAVE_DIR: Final[str] = "wave16k"
SPLIT_FILE: Final[str] = "train_test_split.csv"
_BEAT_EMOTION_RANGES: Final[tuple[tuple[int, int, str], ...]] = (
    (0, 64, "neutral"), (65, 72, "happiness"), (73, 80, "anger"), (81, 86, "sadness"),
    (87, 94, "contempt"), (95, 102, "surprise"), (103, 110, "fear"), (111, 118, "disgust"),
)


class Beat2LayoutError(MotionError, FileNotFoundError):
    """The folder is not laid out like BEAT2; the message names what is missing."""


@dataclass(frozen=True)
class Beat2Record:
    """One clip. Paths are absolute; optional fields are None when unknown.

    Attributes:
        id: clip id (file stem).
        split: ``train``/``val``/``test``/``additional``, None if not in the split file.
        npz: motion file; ``wav``, ``textgrid``, ``phonemes`` when present.
        speaker_id, speaker: from metadata.csv or the id.
        emotion: canonical emotion (:data:`motion.types.EMOTIONS`) or None.
        intensity: 1-3 (synthetic corpus / MEAD-style) or None.
        sentence_id, text: spoken content when known.
    """

    id: str
    split: str | None
    npz: Path
    wav: Path | None
    speaker_id: int | None
    speaker: str | None
    emotion: str | None
    intensity: int | None
    sentence_id: int | None
    text: str | None
    phonemes: Path | None
    textgrid: Path | None


def find_beat2_dir(root: str | Path) -> Path:
    """The BEAT2 folder at or directly under ``root``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        Beat2LayoutError: no BEAT2-like folder; names the missing parts.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"BEAT2 root {root} does not exist or is not a folder")
    if (root / MOTION_DIR).is_dir():
        return root
    children = sorted(c for c in root.iterdir() if c.is_dir() and (c / MOTION_DIR).is_dir())
    if len(children) == 1:
        return children[0]
    if len(children) > 1:
        raise Beat2LayoutError(
            f"{root} holds several BEAT2 folders ({', '.join(c.name for c in children)}); "
            "pass one of them")
    wanted = {MOTION_DIR: f"{MOTION_DIR}/ (motion .npz)", WAVE_DIR: f"{WAVE_DIR}/ (16 kHz .wav)",
              SPLIT_FILE: f"{SPLIT_FILE} (id,type)"}
    missing = [desc for name, desc in wanted.items() if not (root / name).exists()]
    raise Beat2LayoutError(
        f"{root} is not a BEAT2-like folder: missing {', '.join(missing)}; looked in it and "
        f"its sub-folders (e.g. <root>/beat_english_v2.0.0/{MOTION_DIR}/)")


def parse_beat2_id(clip_id: str) -> dict[str, Any]:
    """Speaker and (for BEAT speech recordings) emotion from a real BEAT2 id."""
    parts = clip_id.split("_")
    out: dict[str, Any] = {"speaker_id": None, "speaker": None, "emotion": None}
    if len(parts) >= 2 and parts[0].isdigit():
        out["speaker_id"], out["speaker"] = int(parts[0]), parts[1]
    if len(parts) == 5 and parts[2] == "0" and parts[3].isdigit():
        n = int(parts[3])
        for lo, hi, name in _BEAT_EMOTION_RANGES:
            if lo <= n <= hi:
                out["emotion"] = canonical_emotion(name)
    return out


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        lacking = [c for c in required if c not in cols]
        if lacking:
            raise Beat2LayoutError(f"{path} lacks column(s) {lacking}; has {cols}")
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def _opt_int(text: str | None) -> int | None:
    return int(text) if text not in (None, "") and str(text).lstrip("-").isdigit() else None


def index_beat2(root: str | Path, split: str | None = None,
                require_audio: bool = True) -> list[Beat2Record]:
    """Records of every clip with a motion file (and a wav, if ``require_audio``).

    Args:
        root: the BEAT2 folder or a folder holding exactly one.
        split: keep only this split (``train``/``val``/``test``...).
        require_audio: skip clips without ``wave16k/<id>.wav`` and require that folder.

    Raises:
        Beat2LayoutError: the layout is incomplete (names what is missing).
    """
    base = find_beat2_dir(root)
    lacking = [p for p in (SPLIT_FILE,) + ((WAVE_DIR,) if require_audio else ())
               if not (base / p).exists()]
    if lacking:
        raise Beat2LayoutError(f"{base} is not a complete BEAT2 folder: missing {', '.join(lacking)}")
    splits = {r["id"]: r["type"] for r in _read_csv(base / SPLIT_FILE, ("id", "type"))}
    meta: dict[str, dict[str, str]] = {}
    if (base / "metadata.csv").exists():
        meta = {r["id"]: r for r in _read_csv(base / "metadata.csv", ("id",))}
    records: list[Beat2Record] = []
    for npz in sorted((base / MOTION_DIR).glob("*.npz")):
        cid = npz.stem
        wav = base / WAVE_DIR / f"{cid}.wav"
        if require_audio and not wav.exists():
            continue
        rec_split = splits.get(cid)
        if split is not None and rec_split != split:
            continue
        m = meta.get(cid)
        if m is not None:
            info: dict[str, Any] = {
                "speaker_id": _opt_int(m.get("speaker_id")), "speaker": m.get("speaker_name") or None,
                "emotion": canonical_emotion(m["emotion"]) if m.get("emotion") else None,
                "intensity": _opt_int(m.get("intensity")), "sentence_id": _opt_int(m.get("sentence_id")),
                "text": m.get("text") or None}
        else:
            info = dict(parse_beat2_id(cid), intensity=None, sentence_id=None, text=None)
        ph, tg = base / "phonemes" / f"{cid}.json", base / "textgrid" / f"{cid}.TextGrid"
        records.append(Beat2Record(
            id=cid, split=rec_split, npz=npz.resolve(), wav=wav.resolve() if wav.exists() else None,
            phonemes=ph.resolve() if ph.exists() else None,
            textgrid=tg.resolve() if tg.exists() else None, **info))
    return records


_INTERVAL = re.compile(r'xmin = ([\d.eE+-]+)\s+xmax = ([\d.eE+-]+)\s+text = "((?:[^"]|"")*)"')


def read_textgrid(path: str | Path) -> dict[str, list[tuple[float, float, str]]]:
    """Interval tiers of a long-format Praat TextGrid: ``{tier: [(start, end, text)]}``."""
    content = Path(path).read_text(encoding="utf-8", errors="replace")
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for block in re.split(r"\n\s*item \[\d+\]:", content)[1:]:
        name = re.search(r'name = "([^"]*)"', block)
        tiers[name.group(1) if name else f"tier{len(tiers)}"] = [
            (float(a), float(b), t.replace('""', '"')) for a, b, t in _INTERVAL.findall(block)]
    return tiers


class Beat2Dataset:
    """Indexed clips of a BEAT2-layout folder with loaders for motion, audio and timings.

    >>> ds = Beat2Dataset("data/corpus", split="train")   # doctest: +SKIP
    >>> motion, audio = ds.load(ds[0])                     # doctest: +SKIP
    """

    def __init__(self, root: str | Path, split: str | None = None, require_audio: bool = True):
        self.root = find_beat2_dir(root)
        self.records = index_beat2(self.root, split=split, require_audio=require_audio)
        self._by_id = {r.id: r for r in self.records}

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> Beat2Record:
        return self.records[i]

    def __iter__(self) -> Iterator[Beat2Record]:
        return iter(self.records)

    def get(self, clip_id: str) -> Beat2Record:
        """The record with this id (KeyError naming the folder otherwise)."""
        try:
            return self._by_id[clip_id]
        except KeyError:
            raise KeyError(f"no clip {clip_id!r} in {self.root}") from None

    def load_motion(self, rec: Beat2Record, fps: float | None = 30.0) -> Motion:
        """The clip's :class:`~motion.container.Motion` (resampled to ``fps``)."""
        from motion.data.formats.beat2 import read_beat2

        return read_beat2(rec.npz, fps=fps)

    def load_audio(self, rec: Beat2Record, sr: int = 16000) -> Audio:
        """The clip's speech as :class:`~motion.audio.Audio` at ``sr``."""
        from motion.audio import load_audio

        if rec.wav is None:
            raise FileNotFoundError(f"clip {rec.id} has no {WAVE_DIR}/{rec.id}.wav in {self.root}")
        return load_audio(rec.wav, sr=sr)

    def load(self, rec: Beat2Record) -> tuple[Motion, Audio]:
        """Motion (30 fps) and audio (16 kHz) of a clip."""
        return self.load_motion(rec), self.load_audio(rec)

    def load_timings(self, rec: Beat2Record) -> dict[str, Any]:
        """Phoneme/word timings: ``phonemes/<id>.json`` if present, else the TextGrid tiers."""
        if rec.phonemes is not None:
            return json.loads(rec.phonemes.read_text(encoding="utf-8"))
        if rec.textgrid is not None:
            return {"tiers": read_textgrid(rec.textgrid)}
        raise FileNotFoundError(f"clip {rec.id} has neither phonemes/ nor textgrid/ timings")
