"""``motion evaluate --real DIR``: how generation holds on real recordings.

Every clip of a folder of recordings (any format :func:`motion.audio.load_audio` reads) is
generated, body and face, with no emotion asked for (the audio's own) and seed ``seed``:

* **gain sweep** - the clip scaled by ``GAINS_DB`` (-18, -6, 0, +6 dB) as a 16-bit file
  would hold it (clipped at full scale). Per clip: the ratio max/min over the gains of the
  mean mouth opening during speech (inner-lip gap of the face model, over the frames that
  are speech in the 0 dB copy) and of the arm motion (mean speed of shoulders, elbows and
  wrists); and whether the emotion heard in the audio is the same at every gain;
* **format sweep** - the clip written as wav, flac, mp3 (128 kbit/s), ogg (Vorbis q4),
  m4a (AAC 128 kbit/s) and a 6-channel 5.1 wav with the speech in the centre channel only
  (as a film mix holds it), read back through :func:`motion.audio.load_audio`: the same
  three figures across formats;
* **jaw-envelope correlation** - Pearson correlation, per clip, between the lip gap and the
  speech envelope (RMS over 25 ms at each motion frame), at 0 dB;
* **silence closure** - share of frames in silent stretches (at least ``MIN_SILENCE_S`` of
  frames 35 dB or more below the clip's loudest frames) whose lips are closed (gap < 2 mm);
* **bilabial closure** - where the folder has phone labels (``STEM.TextGrid``, ``STEM.lab``
  or ``STEM.phn`` anywhere in it; :mod:`motion.data.formats.phone_labels`): share of labelled
  p / b / m whose middle frame has the lips closed, and the mean lip gap at vowel centres.

Transcripts (``STEM.txt`` anywhere in the folder, or a ``transcript`` column of a
``manifest.csv`` at its top whose ``path`` column names the recording) are passed to the
generator when ``use_transcripts`` (``--transcripts``): the face then aligns its phones to
the words instead of recognising them.

``checks`` holds the targets: ratios <= 1.3 and emotion unchanged in >= 90 % of clips for
both sweeps, bilabial closure >= 80 % with vowel gap >= 8 mm, silence closure >= 90 %,
jaw-envelope correlation >= 0.5.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Gains of the level sweep (dB).
GAINS_DB: tuple[float, ...] = (-18.0, -6.0, 0.0, 6.0)
#: Formats of the format sweep (``wav6``: 5.1 with the speech in the centre channel).
FORMATS: tuple[str, ...] = ("wav", "flac", "mp3", "ogg", "m4a", "wav6")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aac", ".webm")
#: Lip gap (m) under which the mouth counts as closed (as :data:`motion.metrics.face.CLOSED_LIP_GAP`).
CLOSED_GAP_M = 0.002
#: A frame is silent 35 dB or more below the clip's 99th-percentile frame level ...
SILENCE_BELOW_DB = 35.0
#: ... in a run of at least this long (s), shrunk by ``SILENCE_MARGIN_S`` at both ends.
MIN_SILENCE_S = 0.3
SILENCE_MARGIN_S = 0.1
#: SMPL-X joints of the arm-motion figure: shoulders, elbows, wrists.
ARM_JOINTS = (16, 17, 18, 19, 20, 21)
#: Targets (issue: real recordings).
MAX_RATIO = 1.3
MIN_SAME_EMOTION = 0.9


@dataclass(frozen=True)
class RealClip:
    """One recording of the folder and its phone labels (``(symbol, start_s, end_s)``, espeak
    mnemonics, or None)."""

    path: Path
    name: str
    phones: list[tuple[str, float, float]] | None = None
    transcript: str | None = None


def _transcripts(root: Path) -> dict[str, str]:
    """Transcripts by recording stem: ``manifest.csv`` (columns ``path``, ``transcript``), then
    ``STEM.txt`` files anywhere under ``root`` (these win)."""
    import csv

    out: dict[str, str] = {}
    manifest = root / "manifest.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("path") and (row.get("transcript") or "").strip():
                    out[Path(row["path"]).stem] = row["transcript"].strip()
    for t in sorted(root.rglob("*.txt")):
        text = t.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            out[t.stem] = " ".join(text.split())
    return out


def find_real_clips(folder: str | Path, max_clips: int | None = None) -> list[RealClip]:
    """Every audio file under ``folder`` (sorted; at most ``max_clips``, spread evenly), with the
    phone labels and transcript of the same stem found anywhere under it (module notes)."""
    from motion.data.formats.phone_labels import LABEL_SUFFIXES, read_phone_labels

    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"--real needs a folder of recordings; {root} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no recordings ({', '.join(AUDIO_SUFFIXES)}) under {root}")
    labels = {p.stem: p for p in sorted(root.rglob("*")) if p.suffix.lower() in LABEL_SUFFIXES}
    if max_clips is not None and len(files) > max_clips:
        files = [files[int(i)] for i in np.linspace(0, len(files) - 1, max_clips).round()]
    texts = _transcripts(root)
    out = []
    for f in files:
        lab = labels.get(f.stem)
        out.append(RealClip(f, str(f.relative_to(root)), read_phone_labels(lab) if lab else None, texts.get(f.stem)))
    return out


# --------------------------------------------------------------------------- audio variants
def _ffmpeg(args: list[str]) -> None:
    from motion.audio._ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True, timeout=300)


#: ffmpeg arguments of each format variant: codec options, then the muxer (the files have no suffix).
_CODECS: dict[str, list[str]] = {
    "flac": ["-c:a", "flac", "-f", "flac"], "mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"], "m4a": ["-c:a", "aac", "-b:a", "128k", "-f", "ipod"],
    "wav6": ["-af", "pan=5.1|FC=c0", "-c:a", "pcm_s16le", "-f", "wav"]}


@contextmanager
def _memory_file(name: str) -> Iterator[Path]:
    """A path to a new file held in memory (Linux ``memfd_create``), reached by this process and
    its children (ffmpeg) through ``/proc/PID/fd/N``; it has no name on any file system, so the
    kernel frees it with its descriptor, whatever ends the process (SIGKILL included). Where
    memfds are missing, a temporary folder removed on the way out stands in."""
    try:
        fd = os.memfd_create(f"motion-real-{name}", os.MFD_CLOEXEC)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        with tempfile.TemporaryDirectory(prefix="motion-real-") as tmp:
            yield Path(tmp) / name
        return
    try:
        yield Path(f"/proc/{os.getpid()}/fd/{fd}")
    finally:
        os.close(fd)


@contextmanager
def format_variant(samples: np.ndarray, sr: int, fmt: str) -> Iterator[Path]:
    """Mono ``samples (N,)`` as a ``fmt`` file (one of :data:`FORMATS`), in memory (nothing on disk).

    Yields the file's path (``/proc/PID/fd/N``; no suffix: readers find the format from the
    content); it is freed on leaving the ``with`` block, or by the kernel if the process dies.
    """
    import soundfile as sf

    if fmt != "wav" and fmt not in _CODECS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    with _memory_file("src.wav") as src:
        sf.write(src, samples, sr, subtype="PCM_16", format="WAV")
        if fmt == "wav":
            yield src
            return
        with _memory_file(f"clip.{fmt}") as dest:
            _ffmpeg(["-i", str(src), *_CODECS[fmt], str(dest)])
            yield dest


def write_format(samples: np.ndarray, sr: int, fmt: str, folder: Path) -> Path:
    """Write mono ``samples (N,)`` as ``fmt`` (one of :data:`FORMATS`) in ``folder``; returns the file
    (the evaluation itself uses :func:`format_variant`, in memory)."""
    import shutil

    name = "src.wav" if fmt == "wav" else f"clip.{'wav' if fmt == 'wav6' else fmt}"
    with format_variant(samples, sr, fmt) as path:
        shutil.copyfile(path, folder / name)
    return folder / name


def at_gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """``samples`` scaled by ``gain_db`` and clipped to full scale, as a 16-bit file would hold it."""
    x = np.clip(samples * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 32767 / 32768)
    return (np.round(x * 32768.0) / 32768.0).astype(np.float32)


def frame_envelope(samples: np.ndarray, sr: int, num_frames: int, fps: float) -> np.ndarray:
    """``(T,)`` RMS over 25 ms centred on each motion frame."""
    half = int(0.0125 * sr)
    x = np.pad(np.asarray(samples, np.float64), (half, half + 1))
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    centre = np.clip(np.round(np.arange(num_frames) / fps * sr).astype(np.int64) + half, half, len(x) - half - 1)
    return np.sqrt((c[centre + half + 1] - c[centre - half]) / (2 * half + 1))


def silent_frames(envelope: np.ndarray, fps: float) -> np.ndarray:
    """``(T,)`` bool: inside a silent stretch (module notes)."""
    db = 20 * np.log10(np.maximum(envelope, 1e-6))
    quiet = db < np.percentile(db, 99) - SILENCE_BELOW_DB
    out = np.zeros_like(quiet)
    n_min, margin = int(round(MIN_SILENCE_S * fps)), int(round(SILENCE_MARGIN_S * fps))
    t = 0
    while t < len(quiet):
        if not quiet[t]:
            t += 1
            continue
        u = t
        while u < len(quiet) and quiet[u]:
            u += 1
        if u - t >= n_min:
            out[t + margin:u - margin] = True
        t = u
    return out


# --------------------------------------------------------------------------- one generation
@dataclass
class _Run:
    gap: np.ndarray  # (T,) inner-lip gap (m)
    arm_speed: float  # mean arm-joint speed (m/s)
    emotion: str | None


def _run(generate: Callable[[Any], Any], audio: Any, geom: Any) -> _Run:
    from motion.metrics.body import joint_positions, joint_speed
    from motion.metrics.face import lip_gap
    from motion.types import JAW

    out = generate(audio)
    m = out.motion
    assert m.expression is not None
    verts = geom.vertices(m.expression, m.poses[:, JAW], keep=np.asarray(geom.ids.lip_centres))
    gap = lip_gap(verts, (0, 1))
    speed = joint_speed(joint_positions(m.poses, m.trans), m.fps)[:, list(ARM_JOINTS)]
    emotion = out.body.audio_emotion if out.body is not None else None
    return _Run(gap, float(speed.mean()), emotion)


def _sweep(runs: Sequence[_Run], speech: np.ndarray) -> dict[str, Any]:
    """Mouth / arm ratios (max / min) and emotion agreement of one clip over the variants."""
    T = min(len(r.gap) for r in runs)
    mask = speech[:T] if speech[:T].any() else np.ones(T, bool)
    mouth = np.array([r.gap[:T][mask].mean() for r in runs])
    arms = np.array([r.arm_speed for r in runs])
    return {"mouth_mm": (mouth * 1e3).round(3).tolist(), "arm_speed": arms.round(4).tolist(),
            "mouth_ratio": float(mouth.max() / max(mouth.min(), 1e-9)),
            "arm_ratio": float(arms.max() / max(arms.min(), 1e-9)),
            "emotions": [r.emotion for r in runs],
            "same_emotion": len({r.emotion for r in runs}) == 1}


def evaluate_clip(clip: RealClip, generate: Callable[..., Any], geom: Any, *,
                  gains: Sequence[float] = GAINS_DB, formats: Sequence[str] = FORMATS,
                  use_transcript: bool = False) -> dict[str, Any]:
    """Every figure of one clip (module notes). ``generate(audio) -> GenerationOutput``; with
    ``use_transcript`` and a transcript, ``generate(audio, transcript=...)``."""
    from functools import partial

    from motion.audio import Audio, load_audio
    from motion.audio.errors import AudioWarning
    from motion.metrics.face import bilabial_middle_frames
    from motion.synthetic.tts.phonemes import is_vowel
    from motion.types import FPS

    if use_transcript and clip.transcript:
        generate = partial(generate, transcript=clip.transcript)
    audio = load_audio(clip.path)
    x = audio.samples
    runs = {g: _run(generate, Audio(at_gain(x, g), audio.sr), geom) for g in gains}
    base = runs[0.0] if 0.0 in runs else next(iter(runs.values()))
    T = len(base.gap)
    env = frame_envelope(x, audio.sr, T, FPS)
    env_db = 20 * np.log10(np.maximum(env, 1e-6))
    speech = env_db > np.percentile(env_db, 99) - 30  # frames within 30 dB of the loudest
    res: dict[str, Any] = {"clip": clip.name, "duration_s": round(audio.duration, 3),
                           "transcript": bool(use_transcript and clip.transcript),
                           "gain": _sweep(list(runs.values()), speech)}
    fruns = []
    for fmt in formats:  # each variant in memory: nothing on disk, even if the process is killed
        # The clip's own load above already warned about its audio (by its name); its copies
        # (/proc/PID/fd/N of a memfd) would repeat that under a name nobody knows.
        with format_variant(x, audio.sr, fmt) as path, warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)
            fruns.append(_run(generate, path, geom))
    res["format"] = _sweep(fruns, speech)
    gap = base.gap
    n = min(len(gap), len(env))
    res["jaw_envelope_r"] = float(np.corrcoef(gap[:n], env[:n])[0, 1]) if np.std(gap[:n]) > 0 else 0.0
    sil = silent_frames(env[:n], FPS)
    res["silent_frames"] = int(sil.sum())
    res["silent_closed"] = int((gap[:n][sil] < CLOSED_GAP_M).sum())
    if clip.phones:
        mids = bilabial_middle_frames(clip.phones, n, FPS)
        res["bilabials"] = int(len(mids))
        res["bilabials_closed"] = int((gap[mids] < CLOSED_GAP_M).sum())
        vow = [0.5 * (s + e) for sym, s, e in clip.phones if is_vowel(sym)]
        vframes = np.clip(np.round(np.asarray(vow) * FPS), 0, n - 1).astype(np.int64)
        res["vowel_gaps_mm"] = (gap[vframes] * 1e3).round(3).tolist()
    return res


# --------------------------------------------------------------------------- the whole folder
def summarize(per_clip: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled figures and checks over clips."""
    def ratios(part: str, key: str) -> dict[str, float]:
        r = np.array([c[part][key] for c in per_clip])
        return {"median": float(np.median(r)), "max": float(r.max()),
                "share_within": float((r <= MAX_RATIO).mean())}

    out: dict[str, Any] = {"clips": len(per_clip), "audio_s": float(sum(c["duration_s"] for c in per_clip)),
                           "with_transcript": sum(bool(c.get("transcript")) for c in per_clip)}
    for part in ("gain", "format"):
        out[part] = {"mouth_ratio": ratios(part, "mouth_ratio"), "arm_ratio": ratios(part, "arm_ratio"),
                     "same_emotion": float(np.mean([c[part]["same_emotion"] for c in per_clip]))}
    out["jaw_envelope_r"] = float(np.mean([c["jaw_envelope_r"] for c in per_clip]))
    sil = sum(c["silent_frames"] for c in per_clip)
    out["silence_closure"] = sum(c["silent_closed"] for c in per_clip) / sil if sil else None
    nb = sum(c.get("bilabials", 0) for c in per_clip)
    out["bilabials"] = nb
    out["bilabial_closure"] = sum(c.get("bilabials_closed", 0) for c in per_clip) / nb if nb else None
    vg = [g for c in per_clip for g in c.get("vowel_gaps_mm", [])]
    out["vowel_gap_mm"] = float(np.mean(vg)) if vg else None
    out["checks"] = real_checks(out)
    return out


def real_checks(s: dict[str, Any]) -> dict[str, bool | None]:
    """The targets on real recordings (None where a figure is missing)."""
    checks: dict[str, bool | None] = {}
    for part in ("gain", "format"):
        checks[f"{part}: mouth and arm ratios <= {MAX_RATIO} (median clip)"] = (
            s[part]["mouth_ratio"]["median"] <= MAX_RATIO and s[part]["arm_ratio"]["median"] <= MAX_RATIO)
        checks[f"{part}: emotion unchanged in >= {MIN_SAME_EMOTION:.0%} of clips"] = (
            s[part]["same_emotion"] >= MIN_SAME_EMOTION)
    bc, vg = s.get("bilabial_closure"), s.get("vowel_gap_mm")
    checks["bilabial closure >= 80% with vowel gap >= 8 mm"] = (
        None if bc is None or vg is None else bc >= 0.8 and vg >= 8.0)
    sc = s.get("silence_closure")
    checks["silence closure >= 90%"] = None if sc is None else sc >= 0.9
    checks["jaw-envelope correlation >= 0.5"] = s["jaw_envelope_r"] >= 0.5
    return checks


def evaluate_real(clips: Sequence[RealClip], generate: Callable[..., Any], geom: Any, *,
                  gains: Sequence[float] = GAINS_DB, formats: Sequence[str] = FORMATS,
                  progress: bool = False, use_transcripts: bool = False) -> dict[str, Any]:
    """:func:`evaluate_clip` over ``clips`` and :func:`summarize`; ``per_clip`` keeps the details."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    per_clip = [evaluate_clip(c, generate, geom, gains=gains, formats=formats, use_transcript=use_transcripts)
                for c in tqdm(clips, desc="real recordings", unit="clip", disable=not progress)]
    out = summarize(per_clip)
    out["generation_s"] = time.perf_counter() - t0
    out["per_clip"] = per_clip
    return out


def format_real_table(s: dict[str, Any]) -> str:
    """The summary as text."""
    lines = [f"{s['clips']} real recordings, {s['audio_s']:.1f} s"
             + (f" ({s['with_transcript']} generated with their transcripts)" if s.get("with_transcript") else "")]
    for part, what in (("gain", f"gain sweep {', '.join(f'{g:+g}' for g in GAINS_DB)} dB"),
                       ("format", f"format sweep {', '.join(FORMATS)}")):
        p = s[part]
        lines.append(f"{what}: mouth max/min median {p['mouth_ratio']['median']:.2f} (worst "
                     f"{p['mouth_ratio']['max']:.2f}); arms median {p['arm_ratio']['median']:.2f} (worst "
                     f"{p['arm_ratio']['max']:.2f}); emotion unchanged in {p['same_emotion']:.0%} of clips")
    lines.append(f"jaw-envelope correlation {s['jaw_envelope_r']:.2f}")
    if s["silence_closure"] is not None:
        lines.append(f"silence closure {s['silence_closure']:.1%}")
    if s["bilabial_closure"] is not None:
        lines.append(f"bilabial closure {s['bilabial_closure']:.1%} of {s['bilabials']} labelled p/b/m; "
                     f"mean lip gap at vowel centres {s['vowel_gap_mm']:.1f} mm")
    from motion.metrics.evaluate_body import format_checks

    lines.append(format_checks(s["checks"]))
    return "\n".join(lines)
