"""Offscreen MP4 rendering of a :class:`~motion.container.Motion`, with its audio muxed in.

Frames are posed through the SMPL-X body model in chunks (memory stays flat with length),
drawn with the face colours of stills (lips, eyes, mouth; :mod:`motion.render.colors`) by
one persistent :class:`~motion.render.scene.MeshRenderer`, and streamed to ffmpeg by
:class:`~motion.render.mp4.Mp4Writer` (H.264 + AAC, atomic). The video's frame rate is the
motion's, so ``T`` frames last exactly ``T / fps`` seconds. Inputs are checked before any
work: unknown suffix, unwritable destination or a non-finite motion raise
:class:`~motion.render.output.RenderError` and leave no file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motion.render.output import check_motion, check_output
from motion.render.scene import PRESETS, CameraFrame, frame_preset

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

#: Frames posed per forward-kinematics call.
CHUNK = 64


def posed_vertices(motion: Motion, model: Any, frames: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Yield ``(t, V, 3)`` vertex chunks of ``motion`` (all frames, or only ``frames``)."""
    import torch

    from motion.bodymodels import forward_kinematics

    assert motion.expression is not None
    idx = np.arange(motion.num_frames) if frames is None else np.asarray(frames)
    with torch.no_grad():
        for start in range(0, len(idx), CHUNK):
            sel = idx[start : start + CHUNK]
            out = forward_kinematics(
                model, poses=motion.poses[sel], trans=motion.trans[sel], betas=motion.betas,
                expression=motion.expression[sel], return_vertices=True,
            )
            yield out.vertices.cpu().numpy()


def camera_for_motion(motion: Motion, model: Any, preset: str, aspect: float,
                      focus: np.ndarray | None = None, samples: int = 24) -> CameraFrame:
    """A fixed camera framing the whole motion: the preset applied to vertices sampled
    from up to ``samples`` frames spread over the clip (so a raised arm or a step stays
    in view)."""
    frames = np.unique(np.linspace(0, motion.num_frames - 1, min(samples, motion.num_frames)).astype(int))
    verts = np.concatenate(list(posed_vertices(motion, model, frames)))  # (S, V, 3)
    if focus is not None:
        pts = verts[:, focus].reshape(-1, 3)
        return frame_preset(pts, preset, aspect, focus=np.arange(len(pts)))
    return frame_preset(verts.reshape(-1, 3), preset, aspect)


def head_focus(models_dir: Any) -> np.ndarray | None:
    """SMPL-X ids of the head without the neck (FLAME regions ``face``, ``scalp``, ``forehead``
    minus ``neck``), for the ``face`` preset; all FLAME ids when the regions lack those names;
    ``None`` when the models folder has no SMPL-X <-> FLAME correspondence."""
    from motion.bodymodels import face_regions

    try:
        regions = face_regions(models_dir).smplx
    except (OSError, ValueError, KeyError):
        regions = None
    if regions:
        parts = [regions[k] for k in ("face", "scalp", "forehead") if k in regions]
        if parts:
            head = np.unique(np.concatenate(parts).astype(np.int64))
            return np.setdiff1d(head, regions.get("neck", np.zeros(0, np.int64)))
    from motion.bodymodels.paths import resolve_models_dir, smplx_flame_correspondence_file

    corr = smplx_flame_correspondence_file(resolve_models_dir(models_dir))
    return None if corr is None else np.load(corr, allow_pickle=False).astype(np.int64)


def check_video_inputs(motion: Motion, path: str | os.PathLike[str], preset: str,
                       audio: str | os.PathLike[str] | None) -> Path:
    """Validate everything a render needs before any work; returns the output path."""
    from motion.render.output import RenderError

    out = check_output(path, (".mp4",))
    if preset not in PRESETS:
        raise RenderError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    check_motion(motion)
    if audio is not None:
        from motion.render.mp4 import check_audio

        check_audio(audio)
    return out


def render_video(
    motion: Motion,
    path: str | os.PathLike[str],
    audio: str | os.PathLike[str] | None = None,
    preset: str = "full_body",
    size: tuple[int, int] = (640, 480),
    models_dir: str | os.PathLike[str] | None = None,
    body_model: Any = None,
    progress: bool = True,
    supersample: int = 1,
) -> Path:
    """Render ``motion`` to an MP4 at ``path`` (atomically) and return the path.

    Args:
        motion: the animation; its fps becomes the video's.
        path: output ``.mp4``.
        audio: optional audio file muxed in as AAC (any format ffmpeg reads); padded with
            silence or cut so the file lasts exactly ``T / fps``.
        preset: ``full_body``, ``upper_body`` or ``face`` camera framing.
        size: ``(width, height)``; both must be even (H.264 with yuv420p).
        models_dir: SMPL-X models folder (default ``$MOTION_MODELS_DIR`` or stand-in).
        body_model: an already loaded body model (overrides ``models_dir``).
        progress: show a progress bar.
        supersample: anti-aliasing factor (2 = four times the pixels, slower).

    Raises:
        RenderError: unknown suffix, unwritable destination, non-finite motion, bad size.
        FileNotFoundError: the audio file does not exist.
    """
    from tqdm.auto import tqdm

    from motion.bodymodels import load_body_model
    from motion.render.colors import body_colors
    from motion.render.mp4 import Mp4Writer
    from motion.render.scene import MeshRenderer

    out = check_video_inputs(motion, path, preset, audio)
    writer = Mp4Writer(out, size, motion.fps, audio, num_frames=motion.num_frames)  # checks the size
    w, h = writer.size
    model = body_model if body_model is not None else load_body_model(models_dir, gender=motion.gender)
    focus = head_focus(models_dir) if preset == "face" else None
    frame = camera_for_motion(motion, model, preset, w / h, focus=focus)
    with MeshRenderer(np.asarray(model.faces, np.int64), frame, (w, h), body_colors(model, models_dir),
                      supersample) as draw, writer, \
            tqdm(total=motion.num_frames, desc=f"render {out.name}", unit="frame", disable=not progress) as bar:
        for chunk in posed_vertices(motion, model):
            for verts in chunk:
                writer.send(draw(verts))
                bar.update(1)
    return out
