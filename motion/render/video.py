"""Offscreen MP4 rendering of a :class:`~motion.container.Motion`, with its audio muxed in.

Frames are posed through the SMPL-X body model in chunks (memory stays flat with length),
drawn by pyrender into one persistent offscreen context, and streamed to the ffmpeg binary
that ships with ``imageio-ffmpeg`` (H.264, yuv420p, AAC audio). The video's frame rate is
the motion's, so ``T`` frames last exactly ``T / fps`` seconds. The file is written to a
temporary name in the destination folder and renamed only on success.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from motion.render.still import (
    BACKGROUND,
    PRESETS,
    SKIN_COLOR,
    CameraFrame,
    _look_at,
    _pyrender,
    frame_preset,
)

if TYPE_CHECKING:  # pragma: no cover
    from motion.container import Motion

#: Frames posed per forward-kinematics call.
CHUNK = 64


def _posed_vertices(motion: "Motion", model: Any, frames: np.ndarray | None = None) -> Iterator[np.ndarray]:
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


def camera_for_motion(motion: "Motion", model: Any, preset: str, aspect: float,
                      focus: np.ndarray | None = None, samples: int = 24) -> CameraFrame:
    """A fixed camera framing the whole motion: the preset applied to vertices sampled
    from up to ``samples`` frames spread over the clip (so a raised arm or a step stays
    in view)."""
    frames = np.unique(np.linspace(0, motion.num_frames - 1, min(samples, motion.num_frames)).astype(int))
    verts = np.concatenate(list(_posed_vertices(motion, model, frames)))  # (S, V, 3)
    if focus is not None:
        pts = verts[:, focus].reshape(-1, 3)
        return frame_preset(pts, preset, aspect, focus=np.arange(len(pts)))
    return frame_preset(verts.reshape(-1, 3), preset, aspect)


def _head_focus(models_dir: Any) -> np.ndarray | None:
    """SMPL-X ids of the FLAME head, for the ``face`` preset (``None`` if unknown)."""
    from motion.bodymodels.paths import resolve_models_dir, smplx_flame_correspondence_file

    corr = smplx_flame_correspondence_file(resolve_models_dir(models_dir))
    if corr is None:
        return None
    return np.load(corr, allow_pickle=False).astype(np.int64)


class FrameRenderer:
    """A persistent offscreen pyrender context drawing one posed mesh per call."""

    def __init__(self, faces: np.ndarray, frame: CameraFrame, size: tuple[int, int]) -> None:
        self.pyrender = _pyrender()
        pr = self.pyrender
        self.faces = np.asarray(faces, dtype=np.int64)
        self.size = (int(size[0]), int(size[1]))
        w, h = self.size
        self.scene = pr.Scene(bg_color=(*BACKGROUND, 1.0), ambient_light=(0.22, 0.22, 0.24))
        eye = frame.target + np.array([0.0, 0.04 * frame.distance, frame.distance])
        self.scene.add(pr.PerspectiveCamera(yfov=frame.yfov, aspectRatio=w / h), pose=_look_at(eye, frame.target))
        for offset, intensity in (([-1.0, 1.2, 1.6], 1.9), ([1.4, 0.3, 1.0], 0.8), ([0.3, 1.5, -1.5], 1.0)):
            pos = frame.target + np.asarray(offset) * frame.distance
            self.scene.add(pr.DirectionalLight(color=np.ones(3), intensity=intensity), pose=_look_at(pos, frame.target))
        self.material = pr.MetallicRoughnessMaterial(
            baseColorFactor=(*SKIN_COLOR, 1.0), metallicFactor=0.0, roughnessFactor=0.8
        )
        self.renderer = pr.OffscreenRenderer(w, h)
        self._node: Any = None

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        """Render ``vertices`` ``(V, 3)`` -> RGB ``(H, W, 3)`` uint8."""
        import trimesh

        pr = self.pyrender
        normals = trimesh.Trimesh(vertices, self.faces, process=False).vertex_normals
        prim = pr.Primitive(positions=vertices, normals=normals, indices=self.faces, material=self.material)
        if self._node is not None:
            self.scene.remove_node(self._node)
        self._node = self.scene.add(pr.Mesh([prim]))
        color, _ = self.renderer.render(self.scene)
        return np.ascontiguousarray(color[..., :3])

    def close(self) -> None:
        self.renderer.delete()


def render_video(
    motion: "Motion",
    path: str | os.PathLike[str],
    audio: str | os.PathLike[str] | None = None,
    preset: str = "full_body",
    size: tuple[int, int] = (640, 480),
    models_dir: str | os.PathLike[str] | None = None,
    body_model: Any = None,
    progress: bool = True,
) -> Path:
    """Render ``motion`` to an MP4 at ``path`` (atomically) and return the path.

    Args:
        motion: the animation; its fps becomes the video's.
        path: output ``.mp4``.
        audio: optional audio file muxed in as AAC (any format ffmpeg reads).
        preset: ``full_body``, ``upper_body`` or ``face`` camera framing.
        size: ``(width, height)``; both must be even (H.264 with yuv420p).
        models_dir: SMPL-X models folder (default ``$MOTION_MODELS_DIR`` or stand-in).
        body_model: an already loaded body model (overrides ``models_dir``).
        progress: show a progress bar.
    """
    import imageio_ffmpeg
    from tqdm.auto import tqdm

    from motion.bodymodels import load_body_model

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    w, h = int(size[0]), int(size[1])
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise ValueError(f"video size must be even and at least 16x16, got {w}x{h}")
    out = Path(path)
    if out.suffix.lower() != ".mp4":
        raise ValueError(f"video output must end in .mp4, got {out.name!r}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {out.parent}")
    audio_path = None
    if audio is not None:
        audio_path = Path(audio)
        if not audio_path.is_file():
            raise FileNotFoundError(f"audio file not found: {audio_path}")
    motion.check_finite("motion to render")

    model = body_model if body_model is not None else load_body_model(models_dir, gender=motion.gender)
    focus = _head_focus(models_dir) if preset == "face" else None
    frame = camera_for_motion(motion, model, preset, w / h, focus=focus)
    draw = FrameRenderer(np.asarray(model.faces, dtype=np.int64), frame, (w, h))

    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".mp4", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (w, h), fps=motion.fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            quality=7, macro_block_size=1, ffmpeg_log_level="error",
            audio_path=str(audio_path) if audio_path else None, audio_codec="aac" if audio_path else None,
            output_params=["-shortest"] if audio_path else None,
        )
        writer.send(None)  # start ffmpeg
        bar = tqdm(total=motion.num_frames, desc=f"render {out.name}", unit="frame", disable=not progress)
        try:
            for chunk in _posed_vertices(motion, model):
                for verts in chunk:
                    writer.send(draw(verts))
                    bar.update(1)
        finally:
            bar.close()
            writer.close()
            draw.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
