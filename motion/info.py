"""Human-readable summaries for ``motion info`` and ``motion models``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus", ".webm", ".aif", ".aiff"}


def describe(path: Path) -> str:
    """Summary of a motion file (any supported flavour) or an audio file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix.lower() in AUDIO_SUFFIXES:
        from motion.audio import load_audio

        audio = load_audio(path, allow_silent=True)
        peak = float(np.abs(audio.samples).max()) if audio.samples.size else 0.0
        return (
            f"{path}\n  audio: {audio.duration:.3f} s, resampled to {audio.sr} Hz mono "
            f"({audio.samples.shape[0]} samples), peak {peak:.3f}"
        )
    from motion.data.formats import read_motion, sniff_format

    fmt = sniff_format(path)
    m = read_motion(path, fps=None)
    assert m.expression is not None
    lines = [
        f"{path}",
        f"  format: {fmt}",
        f"  frames: {m.num_frames} at {m.fps:g} fps = {m.duration:.3f} s",
        f"  poses: (T, 55, 3) axis-angle, max |angle| {np.linalg.norm(m.poses, axis=-1).max():.3f} rad",
        f"  trans: range x [{m.trans[:, 0].min():.3f}, {m.trans[:, 0].max():.3f}] "
        f"y [{m.trans[:, 1].min():.3f}, {m.trans[:, 1].max():.3f}] z [{m.trans[:, 2].min():.3f}, {m.trans[:, 2].max():.3f}] m",
        f"  betas: {m.betas.shape[0]}, expression: {m.num_expressions} coefficients"
        + (f" (max |coef| {np.abs(m.expression).max():.3f})" if m.num_expressions else ""),
        f"  gender: {m.gender}",
    ]
    meta = m.meta.to_dict()
    if meta:
        lines.append("  meta: " + ", ".join(f"{k}={v}" for k, v in meta.items()))
    return "\n".join(lines)


def describe_models(models_dir: Path | None = None) -> tuple[str, bool]:
    """Which SMPL-X / FLAME files are used; ``ok`` is False when a required one is missing."""
    from motion.bodymodels.paths import describe_models_dir

    return describe_models_dir(models_dir)
